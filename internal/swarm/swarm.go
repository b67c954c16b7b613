// Package swarm is the plugin's and the janitor's view of the single-node Docker Swarm that CI apps
// are deployed to as stacks (`docker stack deploy`, which is what abra does): waiting for a stack
// to converge, reading its service labels, listing the stacks present, and tearing one down.
//
// Ownership rule. An object belongs to stack S when it carries the label
// com.docker.stack.namespace=S, or, when it carries no namespace label at all, when its name starts
// with exactly "S_". The name rule exists because abra creates an app's secrets itself
// (<stack>_<name>_<version>) without the label. An object labelled for another stack is never S's,
// whatever its name. The name rule relies on one assumption: no stack name equals another stack
// name plus "_" plus more. CI stack names are fixed-length (<4 letters>-<6 hex>_<domain suffix>),
// so one cannot be another's prefix plus "_"; a longer name that merely starts with S (S+"b") never
// matches, because the separator "_" is part of the prefix.
package swarm

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// NamespaceLabel is the label `docker stack deploy` puts on every object of a stack.
const NamespaceLabel = "com.docker.stack.namespace"

// Client talks to the local Docker engine, which must be a swarm manager.
type Client struct {
	api *client.Client
}

// New connects to the engine named by the DOCKER_* environment (default: the local socket),
// negotiating the API version (the daemon here is Debian's 20.10, API 1.41). It pings the engine
// and checks that it is a swarm manager, so a missing daemon fails here with a clear message
// instead of deep inside a run.
func New(ctx context.Context) (*Client, error) {
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := api.Ping(ctx); err != nil {
		_ = api.Close()
		return nil, fmt.Errorf("ping docker engine at %s: %w (is dockerd running? run make docker-up)",
			api.DaemonHost(), err)
	}
	info, err := api.Info(ctx)
	if err != nil {
		_ = api.Close()
		return nil, fmt.Errorf("docker engine info at %s: %w", api.DaemonHost(), err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive || !info.Swarm.ControlAvailable {
		_ = api.Close()
		return nil, fmt.Errorf("docker engine at %s is not a swarm manager (swarm state %q): run make docker-up",
			api.DaemonHost(), info.Swarm.LocalNodeState)
	}
	return &Client{api: api}, nil
}

// Close releases the client's connections.
func (c *Client) Close() error {
	return c.api.Close()
}

// stackName is what Docker accepts as a stack namespace, less anything that could widen a name
// prefix match (an empty name would make every "_..." object ours).
var stackName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func validStack(stack string) error {
	if !stackName.MatchString(stack) {
		return fmt.Errorf("invalid stack name %q", stack)
	}
	return nil
}

// owns reports whether an object with this name and these labels belongs to stack (see the package
// doc for the rule and its assumption).
func owns(stack, name string, labels map[string]string) bool {
	if stack == "" {
		return false
	}
	if ns, ok := labels[NamespaceLabel]; ok {
		return ns == stack
	}
	return strings.HasPrefix(name, stack+"_")
}

// shortName strips the "<stack>_" prefix from a service name for readable messages.
func shortName(stack, service string) string {
	if s, ok := strings.CutPrefix(service, stack+"_"); ok && s != "" {
		return s
	}
	return service
}
