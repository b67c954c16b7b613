package testkit

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrontDoorUnknownHostIs404TraefikBody(t *testing.T) {
	requireSwarm(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, BuildImages(ctx))
	url, err := EnsureFrontDoor(ctx, DefaultFrontDoorPort)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8480", url)

	code, body := through(t, ctx, url, http.MethodGet, "no-such-app-"+randomHex(t, 6)+".ci.local", "/", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, "404 page not found\n", body)

	code, body = through(t, ctx, url, http.MethodGet, "anything.example", FrontDoorHealthPath, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)

	ports := docker(t, "service", "inspect", "--format",
		"{{range .Endpoint.Spec.Ports}}{{.PublishMode}} {{.PublishedPort}}->{{.TargetPort}}{{end}}", FrontDoorService)
	assert.Equal(t, "host 8480->80", ports, "host-mode published port, no routing mesh")
	nets := docker(t, "service", "inspect", "--format", "{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}", FrontDoorService)
	assert.Contains(t, nets, docker(t, "network", "inspect", "--format", "{{.ID}}", "proxy"))

	version := docker(t, "service", "inspect", "--format", "{{.Version.Index}}", FrontDoorService)
	again, err := EnsureFrontDoor(ctx, DefaultFrontDoorPort)
	require.NoError(t, err)
	assert.Equal(t, url, again)
	assert.Equal(t, version, docker(t, "service", "inspect", "--format", "{{.Version.Index}}", FrontDoorService),
		"an up-to-date front door is not redeployed")
}
