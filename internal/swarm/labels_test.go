package swarm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceLabelsReadsDeployLabels(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	stack := newStack(t, c)
	deployStack(t, stack, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["serve"]
    labels:
      container.only: "yes"
    deploy:
      labels:
        coop-cloud.{{stack}}.version: "1.2.0+3.4.5"
        coop-cloud.{{stack}}.chaos-version: "0123abcd"
  db:
    image: `+testImage+`
    command: ["serve"]
`, nil)

	labels, err := c.ServiceLabels(t.Context(), stack)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{stack + "_app", stack + "_db"}, keys(labels))
	app := labels[stack+"_app"]
	assert.Equal(t, "1.2.0+3.4.5", app["coop-cloud."+stack+".version"])
	assert.Equal(t, "0123abcd", app["coop-cloud."+stack+".chaos-version"])
	assert.Equal(t, stack, app[NamespaceLabel])
	assert.NotContains(t, app, "container.only", "container labels are not service labels")
	assert.NotContains(t, labels[stack+"_db"], "coop-cloud."+stack+".version")

	none, err := c.ServiceLabels(t.Context(), stack+"x")
	require.NoError(t, err)
	assert.Empty(t, none, "a stack whose name only starts like this one has no services")
}

// A stack killed halfway through teardown may have nothing left but a volume; the janitor must
// still find it. An unlabelled object names no stack.
func TestStacksListsNamespaces(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	deployed := newStack(t, c)
	orphan := newStack(t, c)
	unlabelled := newStack(t, c)
	deployStack(t, deployed, `version: "3.8"
services:
  app:
    image: `+testImage+`
    command: ["serve"]
`, nil)
	docker(t, "", "", "volume", "create", "--label", NamespaceLabel+"="+orphan, orphan+"_data")
	createUnlabelledSecret(t, unlabelled+"_db_password_v1")

	stacks, err := c.Stacks(t.Context())
	require.NoError(t, err)
	assert.Contains(t, stacks, deployed)
	assert.Contains(t, stacks, orphan)
	assert.NotContains(t, stacks, unlabelled)
	assert.IsNonDecreasing(t, stacks)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
