package fakedrone

import (
	"context"
	"fmt"
	"strings"

	"github.com/drone/drone-go/drone"
)

type stepEnvKey struct{}

// StepEnviron returns Drone's own variables for the step a Runner is running (CI, DRONE_SYSTEM_*,
// DRONE_REPO*, DRONE_BUILD_*, DRONE_COMMIT*, DRONE_STAGE_*, DRONE_STEP_*, DRONE_BUILD_LINK), as
// drone/runner-go's environ package computes them; nil outside a fakedrone runner. Build params
// are not included: they are in the build's Params (see ExecConfig for the precedence).
func StepEnviron(ctx context.Context) map[string]string {
	env, _ := ctx.Value(stepEnvKey{}).(map[string]string)
	return env
}

// stepEnviron is runner-go's environ.System, Repo, Build, Stage, Link and Step combined in the
// order of drone-runner-exec's compiler (later wins), for a running build.
func (s *Server) stepEnviron(repo drone.Repo, b drone.Build) map[string]string {
	sys := s.system()
	stage, step := b.Stages[0], b.Stages[0].Steps[0]
	return combine(
		map[string]string{ // environ.System
			"CI": "true", "DRONE": "true", "DRONE_SYSTEM_PROTO": sys.Proto,
			"DRONE_SYSTEM_HOST": sys.Host, "DRONE_SYSTEM_HOSTNAME": sys.Host,
			"DRONE_SYSTEM_VERSION": sys.Version,
		},
		map[string]string{ // environ.Repo
			"DRONE_REPO": repo.Slug, "DRONE_REPO_SCM": repo.SCM, "DRONE_REPO_OWNER": repo.Namespace,
			"DRONE_REPO_NAMESPACE": repo.Namespace, "DRONE_REPO_NAME": repo.Name,
			"DRONE_REPO_LINK": repo.Link, "DRONE_REPO_BRANCH": repo.Branch,
			"DRONE_REMOTE_URL": repo.HTTPURL, "DRONE_GIT_HTTP_URL": repo.HTTPURL,
			"DRONE_GIT_SSH_URL": repo.SSHURL, "DRONE_REPO_VISIBILITY": repo.Visibility,
			"DRONE_REPO_PRIVATE": fmt.Sprint(repo.Private),
		},
		map[string]string{ // environ.Build (a running build: status "success", not finished)
			"DRONE_BRANCH": b.Target, "DRONE_SOURCE_BRANCH": b.Source,
			"DRONE_TARGET_BRANCH": b.Target, "DRONE_COMMIT": b.After, "DRONE_COMMIT_SHA": b.After,
			"DRONE_COMMIT_BEFORE": b.Before, "DRONE_COMMIT_AFTER": b.After,
			"DRONE_COMMIT_REF": b.Ref, "DRONE_COMMIT_BRANCH": b.Target,
			"DRONE_COMMIT_LINK": b.Link, "DRONE_COMMIT_MESSAGE": b.Message,
			"DRONE_COMMIT_AUTHOR": b.Author, "DRONE_COMMIT_AUTHOR_EMAIL": b.AuthorEmail,
			"DRONE_COMMIT_AUTHOR_AVATAR": b.AuthorAvatar, "DRONE_COMMIT_AUTHOR_NAME": b.AuthorName,
			"DRONE_BUILD_NUMBER": fmt.Sprint(b.Number), "DRONE_BUILD_PARENT": fmt.Sprint(b.Parent),
			"DRONE_BUILD_EVENT": b.Event, "DRONE_BUILD_ACTION": b.Action,
			"DRONE_BUILD_STATUS": "success", "DRONE_BUILD_CREATED": fmt.Sprint(b.Created),
			"DRONE_BUILD_STARTED": fmt.Sprint(b.Started), "DRONE_BUILD_FINISHED": fmt.Sprint(b.Started),
			"DRONE_DEPLOY_TO": b.Deploy,
		},
		map[string]string{ // environ.Stage
			"DRONE_STAGE_KIND": stage.Kind, "DRONE_STAGE_TYPE": stage.Type,
			"DRONE_STAGE_NAME": stage.Name, "DRONE_STAGE_NUMBER": fmt.Sprint(stage.Number),
			"DRONE_STAGE_MACHINE": stage.Machine, "DRONE_STAGE_OS": stage.OS,
			"DRONE_STAGE_ARCH": stage.Arch, "DRONE_STAGE_VARIANT": stage.Variant,
			"DRONE_STAGE_STATUS": "success", "DRONE_STAGE_STARTED": fmt.Sprint(stage.Started),
			"DRONE_STAGE_FINISHED":   fmt.Sprint(stage.Started),
			"DRONE_STAGE_DEPENDS_ON": strings.Join(stage.DependsOn, ","),
		},
		map[string]string{ // environ.Link: the UI page, not Build.Link
			"DRONE_BUILD_LINK": fmt.Sprintf("%s://%s/%s/%d", sys.Proto, sys.Host, repo.Slug, b.Number),
		},
		map[string]string{ // environ.Step
			"DRONE_STEP_NAME": step.Name, "DRONE_STEP_NUMBER": fmt.Sprint(step.Number),
		},
	)
}

// combine is environ.Combine: later maps win.
func combine(envs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, e := range envs {
		for k, v := range e {
			out[k] = v
		}
	}
	return out
}
