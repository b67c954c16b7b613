package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// named is one Docker object: the ID to act on and the name to report.
type named struct{ id, name string }

// lister lists the objects of one kind that belong to a stack.
type lister func(ctx context.Context, stack string) ([]named, error)

// systemNetworks are Docker's own networks. None carries a namespace label, and a stack named
// "docker" would otherwise own docker_gwbridge by name.
var systemNetworks = map[string]bool{"bridge": true, "host": true, "none": true, "ingress": true, "docker_gwbridge": true}

func (c *Client) services(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var out []named
	for _, s := range list {
		if owns(stack, s.Spec.Name, s.Spec.Labels) {
			out = append(out, named{s.ID, s.Spec.Name})
		}
	}
	return out, nil
}

// containers lists by label only: swarm task containers always carry it, and a container named
// like the stack but not made by swarm is not this package's to remove.
func (c *Client) containers(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", NamespaceLabel+"="+stack))})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []named
	for _, ct := range list {
		name := ct.ID
		if len(ct.Names) > 0 {
			name = strings.TrimPrefix(ct.Names[0], "/")
		}
		out = append(out, named{ct.ID, name})
	}
	return out, nil
}

func (c *Client) volumes(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []named
	for _, v := range list.Volumes {
		if owns(stack, v.Name, v.Labels) {
			out = append(out, named{v.Name, v.Name})
		}
	}
	return out, nil
}

func (c *Client) secrets(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.SecretList(ctx, swarm.SecretListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	var out []named
	for _, s := range list {
		if owns(stack, s.Spec.Name, s.Spec.Labels) {
			out = append(out, named{s.ID, s.Spec.Name})
		}
	}
	return out, nil
}

func (c *Client) configs(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.ConfigList(ctx, swarm.ConfigListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list configs: %w", err)
	}
	var out []named
	for _, s := range list {
		if owns(stack, s.Spec.Name, s.Spec.Labels) {
			out = append(out, named{s.ID, s.Spec.Name})
		}
	}
	return out, nil
}

func (c *Client) networks(ctx context.Context, stack string) ([]named, error) {
	list, err := c.api.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []named
	for _, n := range list {
		if !systemNetworks[n.Name] && !n.Ingress && owns(stack, n.Name, n.Labels) {
			out = append(out, named{n.ID, n.Name})
		}
	}
	return out, nil
}

// ServiceLabels returns the spec labels (compose deploy.labels, where abra records
// coop-cloud.<stack>.version and .chaos-version) of every service of stack, keyed by full service
// name (<stack>_<service>). Container labels (compose service-level labels) are not included.
func (c *Client) ServiceLabels(ctx context.Context, stack string) (map[string]map[string]string, error) {
	if err := validStack(stack); err != nil {
		return nil, fmt.Errorf("service labels: %w", err)
	}
	list, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services of stack %s: %w", stack, err)
	}
	out := map[string]map[string]string{}
	for _, s := range list {
		if owns(stack, s.Spec.Name, s.Spec.Labels) {
			labels := maps.Clone(s.Spec.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			out[s.Spec.Name] = labels
		}
	}
	return out, nil
}

// Stacks returns the distinct stack namespaces (sorted) found on services, containers, volumes,
// secrets, configs and networks, so a stack that is half torn down (only a volume left, say) is
// still found. Objects without the namespace label are not attributed to any stack.
func (c *Client) Stacks(ctx context.Context) ([]string, error) {
	var labelSets []map[string]string
	services, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	for _, s := range services {
		labelSets = append(labelSets, s.Spec.Labels)
	}
	hasNS := filters.NewArgs(filters.Arg("label", NamespaceLabel))
	containers, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: hasNS})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, ct := range containers {
		labelSets = append(labelSets, ct.Labels)
	}
	volumes, err := c.api.VolumeList(ctx, volume.ListOptions{Filters: hasNS})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range volumes.Volumes {
		labelSets = append(labelSets, v.Labels)
	}
	more, err := c.swarmObjectLabels(ctx, hasNS)
	if err != nil {
		return nil, err
	}
	labelSets = append(labelSets, more...)
	var stacks []string
	for _, l := range labelSets {
		if ns := l[NamespaceLabel]; ns != "" && !slices.Contains(stacks, ns) {
			stacks = append(stacks, ns)
		}
	}
	slices.Sort(stacks)
	return stacks, nil
}

// swarmObjectLabels returns the labels of the secrets, configs and networks matching f.
func (c *Client) swarmObjectLabels(ctx context.Context, f filters.Args) ([]map[string]string, error) {
	var out []map[string]string
	secrets, err := c.api.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	for _, s := range secrets {
		out = append(out, s.Spec.Labels)
	}
	configs, err := c.api.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list configs: %w", err)
	}
	for _, s := range configs {
		out = append(out, s.Spec.Labels)
	}
	networks, err := c.api.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range networks {
		out = append(out, n.Labels)
	}
	return out, nil
}

// Residue lists what of stack is still on the swarm: the report is Empty when nothing is left.
// EnvRemoved is always false (the .env file is not a swarm object).
func (c *Client) Residue(ctx context.Context, stack string) (TeardownReport, error) {
	if err := validStack(stack); err != nil {
		return TeardownReport{}, fmt.Errorf("residue: %w", err)
	}
	var r TeardownReport
	var errs []error
	for _, k := range []struct {
		list lister
		dst  *[]string
	}{
		{c.services, &r.Services}, {c.containers, &r.Containers}, {c.volumes, &r.Volumes},
		{c.secrets, &r.Secrets}, {c.configs, &r.Configs}, {c.networks, &r.Networks},
	} {
		objs, err := k.list(ctx, stack)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*k.dst = names(objs)
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("residue of stack %s: %w", stack, err)
	}
	return r, nil
}

func names(objs []named) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.name)
	}
	slices.Sort(out)
	return out
}
