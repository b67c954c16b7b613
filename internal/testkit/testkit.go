// Package testkit is TEST SUPPORT code: it builds the test doubles and the test data that cc-ci's
// end-to-end tests and `make demo` run against a real single-node swarm (DESIGN.md section 9).
//
// Nothing here is used by a production binary. It provides:
//   - MakeRecipe: a git repo of the "sample" recipe, shaped like a real Co-op Cloud recipe, in a
//     good variant, in known-bad variants that must fail at exactly one tier, and in variants
//     that hold one case of issue 7 each (a gap, a redirect, a history, an env file);
//   - MakeNotesRecipe: the "notes" recipe, written the way maintained Co-op Cloud recipes are
//     today (app, db and worker, chained COMPOSE_FILE, abra.sh config versions, a golang-templated
//     config, anchors, per-volume backup labels with dump and restore hooks);
//   - BuildImages: the app images (ccci-sample:<version>, ccci-notes:<version>, ccci-notes-db) and
//     the fake front door image;
//   - BuildFakeAbra: the FAKE abra binary (./fakeabra), which really deploys with
//     `docker stack deploy` and implements backupbot's label semantics;
//   - EnsureFrontDoor: the FAKE front door (a traefik stand-in, ./frontdoor) as swarm stack
//     "ccci-frontdoor", the only service with a published port.
package testkit

// RecipeName is the name of the generated sample recipe (its directory under $ABRA_DIR/recipes).
const RecipeName = "sample"

// Variant selects how the sample recipe differs from Good: its PR head, every commit, or its
// history, as each variant's comment says.
type Variant string

// The variants. Good is the control; each known-bad variant must make cc-ci fail at one tier; the
// others (from NoBackupLabels on) hold one case each of issue 7, good or bad.
const (
	// Good: the PR head upgrades the image to 2.1.0 and changes nothing else.
	Good Variant = "good"
	// UpgradeLosesData: the head mounts a new volume data2:/data, so upgraded data is gone.
	UpgradeLosesData Variant = "upgrade-loses-data"
	// EmptyDump: the head's backup pre-hook writes an empty dump and still exits 0.
	EmptyDump Variant = "empty-dump"
	// RestoreNoop: the head's restore post-hook is `true`, so a restore changes nothing.
	RestoreNoop Variant = "restore-noop"
	// CrashLoop: the head's command is `/app crash`, which exits 1 at once, forever.
	CrashLoop Variant = "crash-loop"
	// Fallback: every commit sets APP_FALLBACK=1, so every page is a proxy-style "404 page not
	// found" with status 200.
	Fallback Variant = "fallback"
	// BrokenCompose: the head's compose.yml is not valid YAML.
	BrokenCompose Variant = "broken-compose"
	// NoEnvSample: the head deletes .env.sample.
	NoEnvSample Variant = "no-env-sample"
	// LongSecretName: the head declares a secret whose docker name exceeds 64 characters.
	LongSecretName Variant = "long-secret-name"

	// NoBackupLabels: no commit has a backupbot label (the backup tier has nothing to run).
	NoBackupLabels Variant = "no-backup-labels"
	// NoRelease: the same three commits with no tag and no release notes at all.
	NoRelease Variant = "no-release"
	// PlaceholderRedirect: the head wires APP_BASE_URL to the .env.sample placeholder
	// (PlaceholderURL), so / answers 302 to https://sample.example.com/ under the app's domain.
	PlaceholderRedirect Variant = "placeholder-redirect"
	// SSORedirect: every commit puts the app behind single sign-on: / answers 302 to SSOLoginURL.
	SSORedirect Variant = "sso-redirect"
	// FreshInstallBroken: the head runs `/app migrate` before serving, which fails on an empty
	// volume: a first boot crash-loops, an upgraded app (whose store exists) works.
	FreshInstallBroken Variant = "fresh-install-broken"
	// FixedHeadBrokenBase: the newest release (Tag2) crash-loops; the head fixes it.
	FixedHeadBrokenBase Variant = "fixed-head-broken-base"
	// NoDomain: the head's .env.sample has no DOMAIN line.
	NoDomain Variant = "no-domain"
	// VolumeSpecLabels: every commit declares its backup with today's spec,
	// backupbot.backup.volumes.data.path=dump, instead of the legacy backupbot.backup.path.
	VolumeSpecLabels Variant = "volume-spec-labels"
	// NewSecretAndEnv: the head adds the secret NewSecret (`# length=48`) and the required env
	// NewEnv (`${ADMIN_EMAIL:?...}`): an upgrade that does not add both cannot deploy.
	NewSecretAndEnv Variant = "new-secret-and-env"
	// BootRestart: every commit's app exits 1 on its first start on a volume (APP_FAIL_ONCE=1),
	// like an app that starts before its database, and runs fine once restarted.
	BootRestart Variant = "boot-restart"
	// EmptyValidDump: the head's backup pre-hook dumps the wrong store: a valid `{}` that loads
	// without error and restores nothing.
	EmptyValidDump Variant = "empty-valid-dump"
	// SideBranchRelease: Tag1 on main, SideTag (newer than the head, data in another volume) on a
	// side branch "next", and the head on main: only Tag1 is a valid upgrade base.
	SideBranchRelease Variant = "side-branch-release"
	// DockerHostInEnv: every commit's .env.sample sets DOCKER_HOST (a socket-proxy address the
	// app uses), which must never steer the CI's own docker.
	DockerHostInEnv Variant = "docker-host-in-env"
	// MissingImage: the head names MissingImageTag, an image that exists nowhere.
	MissingImage Variant = "missing-image"
	// ImageTagFromEnv: the head's compose file names its image tag as ${APP_TAG:-2.1.0}, so an
	// app's .env can pin another one.
	ImageTagFromEnv Variant = "image-tag-from-env"
	// The policy canaries: the head's app service asks for one construct the policy refuses
	// (DESIGN 4.7): the Docker socket, a host path, privileged, the host network, an added
	// capability, a host-mode port. Like NoRelease they have no release, so a run of one ends
	// after INSTALL: the policy decides at the deploy, and the upgrade would only add a second app.
	CanarySocket      Variant = "canary-socket"
	CanaryHostPath    Variant = "canary-host-path"
	CanaryPrivileged  Variant = "canary-privileged"
	CanaryHostNetwork Variant = "canary-host-network"
	CanaryCapAdd      Variant = "canary-cap-add"
	CanaryHostPort    Variant = "canary-host-port"
	// AllocatesPastLimit: the head's app allocates 200 MiB at start (APP_ALLOC_MB), past a
	// smaller memory limit.
	AllocatesPastLimit Variant = "allocates-past-limit"
	// AuthRequired: every commit's app wants a login: every page but /healthz answers 401.
	AuthRequired Variant = "auth-required"
)

// Variants lists every variant, Good first.
func Variants() []Variant {
	return []Variant{Good, UpgradeLosesData, EmptyDump, RestoreNoop, CrashLoop, Fallback,
		BrokenCompose, NoEnvSample, LongSecretName,
		NoBackupLabels, NoRelease, PlaceholderRedirect, SSORedirect, FreshInstallBroken,
		FixedHeadBrokenBase, NoDomain, VolumeSpecLabels, NewSecretAndEnv, BootRestart,
		EmptyValidDump, SideBranchRelease, DockerHostInEnv, MissingImage, AuthRequired, ImageTagFromEnv,
		CanarySocket, CanaryHostPath, CanaryPrivileged, CanaryHostNetwork, CanaryCapAdd, CanaryHostPort,
		AllocatesPastLimit}
}

// ParseVariant returns the variant named s, or false when there is none.
func ParseVariant(s string) (Variant, bool) {
	for _, v := range Variants() {
		if string(v) == s {
			return v, true
		}
	}
	return "", false
}

// Recipe describes a generated recipe repo.
type Recipe struct {
	// Name is the recipe name ("sample").
	Name string
	// Src is the repo's absolute path, usable as a clone URL.
	Src string
	// Head is the 40-hex SHA of the PR head commit (untagged).
	Head string
	// Tags are the published releases, oldest first (annotated tags).
	Tags []string
}

// Release versions of the sample recipe and the version the PR head would become.
const (
	Tag1        = "0.1.0+1.0.0"
	Tag2        = "0.2.0+2.0.0"
	HeadVersion = "0.3.0+2.1.0"
)

// SampleImages returns the sample app image tags BuildImages produces, one per upstream version.
func SampleImages() []string {
	return []string{"ccci-sample:1.0.0", "ccci-sample:2.0.0", "ccci-sample:2.1.0"}
}

// FrontDoorImage is the fake front door's image tag.
const FrontDoorImage = "ccci-frontdoor:latest"

// LongSecret is the secret name the LongSecretName variant declares: 50 characters, so
// "<stack>_<name>_v1" passes docker's 64-character limit for no CI stack name.
const LongSecret = "smtp_password_for_the_outgoing_mail_relay_service1"
