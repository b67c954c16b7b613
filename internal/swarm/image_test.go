package swarm

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where the messages below come from. "seen here": this box's dockerd 20.10.24, through
// `docker service ps` (task errors), GET /distribution/<image>/json (what imageError asks) and
// `docker pull`, against no network, a closed port, and a registry answering each OCI distribution
// error code. "moby": the format strings of moby's distribution/errors.go (notFoundError) and
// daemon/images (ErrImageDoesNotExist). "issue": quoted from a public bug report, named beside it.

func TestImageFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		taskErr string
		want    bool
	}{
		{"the create error of a task whose image is absent (seen here)", "No such image: ccci-nosuch:9", true},
		{"the same for an image of another registry (seen here)", "No such image: 127.0.0.1:5999/foo:1", true},
		{"a pull access denied, should a task carry the pull error (moby)",
			"pull access denied for ccci/absent, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", true},
		{"a missing tag (moby)", "manifest for 127.0.0.1:5998/manifest:1 not found: manifest unknown: manifest unknown", true},
		{"a missing repository (moby)", "repository 127.0.0.1:5998/nameunknown not found: name unknown: repository name not known to registry", true},
		{"no build for this platform (issue nodejs/docker-node#675)", "no matching manifest for linux/amd64 in the manifest list entries", true},
		{"a crash is not an image failure (seen here)", "task: non-zero exit (1)", false},
		{"a start failure that mentions a connection is not an image failure",
			`starting container failed: dial tcp 10.0.0.2:5432: connect: connection refused`, false},
		{"an unschedulable task is not an image failure (seen here)", "no suitable node (insufficient resources on 1 node)", false},
		{"no error at all", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, imageFailure(tt.taskErr))
		})
	}
}

func TestRegistryUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reason string
		want   bool // true: the box's (or the registry's) fault, unverified; false: the recipe's, fail
	}{
		// The registry answered: the image is not there for us.
		{"a tag the registry does not have (seen here, distribution API)", "manifest unknown: manifest unknown", false},
		{"a tag the registry does not have (seen here, docker pull)",
			"manifest for 127.0.0.1:5998/manifest:1 not found: manifest unknown: manifest unknown", false},
		{"a repository the registry does not have (seen here, distribution API)", "name unknown: repository name not known to registry", false},
		{"a repository the registry does not have (seen here, docker pull)",
			"repository 127.0.0.1:5998/nameunknown not found: name unknown: repository name not known to registry", false},
		{"access denied (seen here, distribution API)", "denied: requested access to the resource is denied", false},
		{"access denied (seen here, docker pull)",
			"pull access denied for 127.0.0.1:5998/denied, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", false},
		{"authentication required, Docker Hub's answer for a repository that does not exist (seen here)", "unauthorized: authentication required", false},
		{"no build for this platform (issue nodejs/docker-node#675)", "no matching manifest for linux/amd64 in the manifest list entries", false},
		// The registry was never asked, or did not answer.
		{"no DNS for Docker Hub (seen here)",
			`Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host`, true},
		{"a registry host that does not resolve (seen here)",
			`Get "https://registry.example.invalid/v2/": dial tcp: lookup registry.example.invalid on 10.255.255.53:53: no such host`, true},
		{"nothing listening (seen here)", `Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused`, true},
		{"a registry server error (seen here)", "received unexpected HTTP status: 503 Service Unavailable", true},
		{"Docker Hub's rate limit (seen here, the message Docker Hub sends)",
			"toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit", true},
		{"a TLS handshake timeout (issue docker/for-win#437)", `Get https://registry-1.docker.io/v2/: net/http: TLS handshake timeout`, true},
		{"a DNS timeout (issue docker/for-mac#2152)",
			"Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 192.168.65.1:53: read udp 192.168.65.2:45941->192.168.65.1:53: i/o timeout", true},
		{"a connect timeout (issue docker-archive-public/docker.kitematic#5031)",
			"Get https://registry-1.docker.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", true},
		{"a network error wins over a word of the URL",
			`Get "https://registry.example.org/v2/unauthorized/manifests/1": dial tcp 10.1.2.3:443: i/o timeout`, true},
		{"an answer not recognised is not proven to be the recipe's fault", "something else went wrong", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, registryUnreachable(tt.reason))
		})
	}
}

func TestImageErrorSaysWhoseFaultItIs(t *testing.T) {
	t.Parallel()
	recipe := &ImageError{Service: "st_app", Image: "app:9", Reason: "manifest unknown: manifest unknown"}
	assert.Equal(t, "service st_app: image app:9 could not be pulled: the registry answered: manifest unknown: manifest unknown", recipe.Error())
	box := &ImageError{Service: "st_app", Image: "app:9", Reason: "dial tcp: no such host", Unreachable: true}
	assert.Contains(t, box.Error(), "image app:9 could not be pulled")
	assert.Contains(t, box.Error(), "for no reason the recipe controls")
	assert.True(t, strings.HasSuffix(box.Error(), "): dial tcp: no such host"), box.Error())
}

// fakeRegistry answers the OCI distribution API the way a registry does for a repository it does
// not have a tag of: /v2/ says it is a registry, every manifest is MANIFEST_UNKNOWN (OCI
// distribution spec, "Error Codes"). It records the paths it was asked for.
type fakeRegistry struct {
	mu    sync.Mutex
	paths []string
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v2/" {
		_, _ = w.Write([]byte("{}"))
		return
	}
	w.WriteHeader(http.StatusNotFound)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{
		{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": map[string]any{}}}})
}

func (f *fakeRegistry) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...)
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// An image that cannot be pulled must say so, naming the image and the registry's answer, and
// promptly: before, it read as a crash loop ("exit code 0, No such image") after three rejections.
// The daemon treats 127.0.0.0/8 registries as insecure (plain HTTP), so a registry in this test
// process is one the daemon really asks.
func TestImageThatCannotBePulledIsAnImageError(t *testing.T) {
	t.Parallel()
	reg := &fakeRegistry{}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	regAddr := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name            string
		image           string
		wantUnreachable bool
		wantReason      string
	}{
		{"a registry that answers the tag does not exist: the recipe's fault",
			regAddr + "/ccci/absent:1", false, "manifest unknown"},
		{"a registry nothing answers for: not the recipe's fault",
			closedPort(t) + "/ccci/absent:1", true, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t)
			stack := newStack(t, c)
			deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+tt.image+`
`, nil)
			start := time.Now()
			_, err := c.WaitConvergedReport(t.Context(), stack, WaitOptions{Timeout: waitLimit, Logger: testLogger(t)})
			took := time.Since(start)
			var ie *ImageError
			require.ErrorAs(t, err, &ie, "got %v", err)
			t.Logf("reported after %s (the registry question is bounded by %s)", took.Round(time.Millisecond), registryTimeout)
			assert.Equal(t, stack+"_app", ie.Service)
			assert.Equal(t, tt.image, ie.Image)
			assert.Equal(t, tt.wantUnreachable, ie.Unreachable, "reason: %s", ie.Reason)
			assert.Contains(t, ie.Reason, tt.wantReason)
			assert.Contains(t, err.Error(), "image "+tt.image+" could not be pulled")
		})
	}
	t.Cleanup(func() {
		assert.Contains(t, reg.asked(), "GET /v2/ccci/absent/manifests/1", "the reason is the registry's own answer")
	})
}

// The case seen on real recipes: a Docker Hub image this host does not have. Whether Docker Hub can
// be reached decides Unreachable (here it cannot: no DNS); either way it is an image error naming
// the image, never a crash loop.
func TestMissingDockerHubImageIsAnImageErrorNotACrashLoop(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: ccci-swarmtest:absent
`, nil)
	_, err := c.WaitConvergedReport(t.Context(), stack, WaitOptions{Timeout: waitLimit})
	var ie *ImageError
	require.ErrorAs(t, err, &ie, "got %v", err)
	assert.Equal(t, "ccci-swarmtest:absent", ie.Image)
	assert.NotEmpty(t, ie.Reason)
	assert.NotContains(t, err.Error(), "crash-looping")
	t.Logf("this host says: unreachable=%v: %s", ie.Unreachable, ie.Reason)
}
