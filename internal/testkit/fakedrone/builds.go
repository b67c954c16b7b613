package fakedrone

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/drone/drone-go/drone"
)

// repoState is one repository: its build counter and builds, oldest first.
type repoState struct {
	repo   drone.Repo
	builds []*record
}

// record is one build as the fake holds it. The stage and step are kept apart from build so a
// snapshot can decide which of them a response shows.
type record struct {
	build  drone.Build // without Stages
	stage  drone.Stage // without Steps
	step   *drone.Step // nil until the runner starts: Drone creates steps then (manager/setup.go)
	repo   *repoState
	cancel context.CancelFunc
	log    *lineLog
	// logsReady: the step is over and its log uploaded; until then the logs endpoint answers
	// 404, because Drone serves it from the log store, which the runner fills when the step
	// ends (runner-go livelog Close -> upload; logs/find.go reads logs.Find).
	logsReady bool
	// finished: a terminal status AND the runner (if it ran) has returned. WaitFinished waits
	// for this, so a test can read what the step left behind.
	finished bool
}

// terminal reports whether a build status is final (cancel.go treats everything but pending and
// running as done).
func terminal(status string) bool {
	return status != drone.StatusPending && status != drone.StatusRunning
}

// snapshot is a deep copy of the build; withStages adds the stage and its step, as the find and
// cancel handlers do (find.go renders buildWithStages; list.go renders bare builds).
func (r *record) snapshot(withStages bool) drone.Build {
	b := r.build
	b.Params = maps(r.build.Params)
	b.Stages = nil
	if withStages {
		st := r.stage
		st.Steps = nil
		if r.step != nil {
			step := *r.step
			st.Steps = []*drone.Step{&step}
		}
		b.Stages = []*drone.Stage{&st}
	}
	return b
}

func maps(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// repoLocked finds or, when Config.Repos allows it, creates the repository.
func (s *Server) repoLocked(owner, name string) (*repoState, bool) {
	slug := owner + "/" + name
	if rs, ok := s.repos[slug]; ok {
		return rs, true
	}
	if len(s.cfg.Repos) > 0 && !slices.Contains(s.cfg.Repos, slug) {
		return nil, false
	}
	s.nextID++
	now := time.Now().Unix()
	link := s.cfg.ForgeURL + "/" + slug
	rs := &repoState{repo: drone.Repo{
		ID: s.nextID, UID: strconv.FormatInt(s.nextID, 10), UserID: 1, Namespace: owner,
		Name: name, Slug: slug, SCM: "git", HTTPURL: link + ".git", Link: link,
		Branch: s.cfg.DefaultBranch, Visibility: "public", Active: true, Config: ".drone.yml",
		Timeout: 60, Created: now, Updated: now, Version: 1,
	}}
	s.repos[slug] = rs
	return rs, true
}

// routeRepoLocked is repoLocked for the request's {owner}/{name}, answering the 404 itself when
// there is no such repository.
func (s *Server) routeRepoLocked(w http.ResponseWriter, r *http.Request) *repoState {
	rs, ok := s.repoLocked(r.PathValue("owner"), r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil
	}
	return rs
}

// handleCreate is builds.HandleCreate (handler/api/repos/builds/create.go) followed by the
// triggerer (trigger/trigger.go): a "custom" build of the named commit (or the branch head),
// every other query key a param, status pending with its stage pending, the "created" webhook,
// then the stage is scheduled (here: its runner starts).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sha, branch := q.Get("commit"), q.Get("branch")
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.routeRepoLocked(w, r)
	if rs == nil {
		return
	}
	if branch == "" {
		branch = rs.repo.Branch // create.go: "assume the default repository branch"
	}
	if sha == "" {
		if sha = s.cfg.BranchHeads[branch]; sha == "" {
			// commits.FindRef failed: create.go answers render.NotFound with the forge's error.
			writeError(w, http.StatusNotFound, "Not Found")
			return
		}
	}
	// create.go: every query key but access_token, commit and branch becomes a param (its
	// first value); the runner exposes params to steps as environment variables.
	params := map[string]string{}
	for k, v := range q {
		if k == "access_token" || k == "commit" || k == "branch" || len(v) == 0 {
			continue
		}
		params[k] = v[0]
	}
	now := time.Now().Unix()
	rs.repo.Counter++
	s.nextID++
	rec := &record{repo: rs, log: newLineLog()}
	rec.build = drone.Build{
		ID: s.nextID, RepoID: rs.repo.ID, Trigger: s.cfg.User, Number: rs.repo.Counter,
		Status: drone.StatusPending, Event: "custom",
		Link:   rs.repo.Link + "/commit/" + sha, // hook.Link = commit.Link (the forge's page)
		Before: sha, After: sha, Ref: "refs/heads/" + branch, Source: branch, Target: branch,
		Sender: s.cfg.User, Params: params, Created: now, Updated: now, Version: 1,
	}
	s.nextID++
	// trigger.go: one stage per matched pipeline, numbered from 1; with no depends_on it is
	// pending at once. cc-ci's recipe-run pipeline is `type: exec` on linux/amd64.
	rec.stage = drone.Stage{
		ID: s.nextID, BuildID: rec.build.ID, Number: 1, Name: s.cfg.StageName, Kind: "pipeline",
		Type: "exec", Status: drone.StatusPending, OS: "linux", Arch: "amd64", OnSuccess: true,
		Created: now, Updated: now, Version: 1,
	}
	rs.builds = append(rs.builds, rec)
	s.creates++
	s.sendLocked(rec, "created", fromTrigger)
	s.notifyLocked()
	// The create response shows the pending stage, as the docs' example response does
	// (docs.drone.io/api/builds/build_create).
	writeJSON(w, http.StatusOK, rec.snapshot(true))
	s.startLocked(rec)
}

// findLocked resolves {owner}/{name}/{number}, answering the error itself when it fails: a
// number that does not parse is 400 (strconv in find.go), an unknown repo or build is 404.
func (s *Server) findLocked(w http.ResponseWriter, r *http.Request) *record {
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil {
		if r.PathValue("number") == "latest" {
			// Drone's /builds/latest (BuildLast) is not imitated.
			writeError(w, http.StatusNotFound, "Not Found")
		} else {
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return nil
	}
	rs, ok := s.repoLocked(r.PathValue("owner"), r.PathValue("name"))
	if !ok || n < 1 || n > int64(len(rs.builds)) {
		writeError(w, http.StatusNotFound, "sql: no rows in result set")
		return nil
	}
	return rs.builds[n-1]
}

// handleFind is builds.HandleFind: the build with its stages and their steps.
func (s *Server) handleFind(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.findLocked(w, r); rec != nil {
		writeJSON(w, http.StatusOK, rec.snapshot(true))
	}
}

// handleList is builds.HandleList: newest first (store/build: ORDER BY build_id DESC),
// per_page outside 1..100 means 25, page 0 or 1 is the first page, offset (page-1)*per_page;
// ?branch= keeps builds of refs/heads/<branch>. Listed builds carry no stages.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.FormValue("page")) // list.go ignores parse errors too
	limit, _ := strconv.Atoi(r.FormValue("per_page"))
	if limit < 1 || limit > 100 {
		limit = 25
	}
	offset := 0
	if page > 1 {
		offset = (page - 1) * limit
	}
	branch := r.FormValue("branch")
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.routeRepoLocked(w, r)
	if rs == nil {
		return
	}
	out := []drone.Build{}
	for i := len(rs.builds) - 1; i >= 0; i-- {
		rec := rs.builds[i]
		if branch != "" && rec.build.Ref != "refs/heads/"+branch {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, rec.snapshot(false))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCancel is builds.HandleCancel: a pending or running build becomes killed (Finished now,
// Started now if it never started), its started stage and step killed (the step with exit code
// 130), unstarted ones skipped, one "updated" webhook, and the runner is told to stop. A build
// that is already done is answered unchanged, without a webhook. Both answer 200 with the build.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.findLocked(w, r)
	if rec == nil {
		return
	}
	s.cancels++
	if !terminal(rec.build.Status) {
		now := time.Now().Unix()
		b := &rec.build
		b.Status, b.Finished, b.Updated = drone.StatusKilled, now, now
		if b.Started == 0 {
			b.Started = now
		}
		b.Version++
		killOrSkip(&rec.stage.Status, &rec.stage.Started, now)
		rec.stage.Stopped = now
		if st := rec.step; st != nil {
			killOrSkip(&st.Status, &st.Started, now)
			st.Stopped, st.ExitCode = now, 130
		}
		if rec.cancel != nil {
			rec.cancel() // scheduler.Cancel: the runner watching this build stops it
		} else {
			rec.finished = true // never started: nothing left to wait for
		}
		s.sendLocked(rec, "updated", fromCancel)
		s.notifyLocked()
	}
	writeJSON(w, http.StatusOK, rec.snapshot(true))
}

// killOrSkip is cancel.go's rule for a stage or step that is not done: killed if it started,
// else skipped (and marked started now).
func killOrSkip(status *string, started *int64, now int64) {
	if terminal(*status) {
		return
	}
	if *started != 0 {
		*status = drone.StatusKilled
		return
	}
	*status, *started = drone.StatusSkipped, now
}

// handleLogs is logs.HandleFind: the step's lines as a JSON array of {pos,out,time}; 400 for a
// number that does not parse, 404 for an unknown stage or step or a log not uploaded yet.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	stage, err1 := strconv.Atoi(r.PathValue("stage"))
	step, err2 := strconv.Atoi(r.PathValue("step"))
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "invalid stage or step number")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.findLocked(w, r)
	if rec == nil {
		return
	}
	if stage != rec.stage.Number || rec.step == nil || step != rec.step.Number || !rec.logsReady {
		writeError(w, http.StatusNotFound, "sql: no rows in result set")
		return
	}
	writeJSON(w, http.StatusOK, rec.log.lines())
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
