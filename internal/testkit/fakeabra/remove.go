package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
)

// goneTimeout bounds waiting for a removed stack's containers to go and its volumes to free up.
const goneTimeout = 2 * time.Minute

// appUndeploy: `abra app undeploy <domain> --no-input`.
func appUndeploy(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	if _, err := f.findEnv(domain); err != nil {
		return err
	}
	return f.undeploy(ctx, stackName(domain))
}

// undeploy removes the stack and waits until its containers are gone, then removes networks the
// engine left behind (they can outlive `stack rm` while endpoints drain).
func (f *fake) undeploy(ctx context.Context, stack string) error {
	if _, err := f.execRun(ctx, execSpec{name: "docker", args: []string{"stack", "rm", stack}, stdout: f.stdout}); err != nil {
		return fmt.Errorf("undeploy %s: %w", stack, err)
	}
	cli, err := f.docker()
	if err != nil {
		return err
	}
	err = f.poll(ctx, goneTimeout, func() (string, error) {
		ctrs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: stackFilter(stack)})
		if err != nil {
			return "", fmt.Errorf("list containers of %s: %w", stack, err)
		}
		if len(ctrs) > 0 {
			return fmt.Sprintf("%d containers left", len(ctrs)), nil
		}
		return "", nil
	})
	if err != nil {
		return fmt.Errorf("undeploy %s: %w", stack, err)
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return fmt.Errorf("list networks of %s: %w", stack, err)
	}
	for _, n := range nets {
		if _, err := f.dockerCmd(ctx, "network", "rm", n.ID); err != nil {
			return fmt.Errorf("undeploy %s: %w", stack, err)
		}
	}
	fmt.Fprintf(f.stdout, "%s undeployed\n", stack)
	return nil
}

// appRemove: `abra app remove <domain> --force --no-input`: undeploy if deployed, then remove
// the stack's volumes, secrets and configs, and the app's .env.
func appRemove(ctx context.Context, f *fake, in invocation) error {
	domain := in.arg(0)
	envPath, err := f.findEnv(domain)
	if err != nil {
		return err
	}
	stack := stackName(domain)
	cli, err := f.docker()
	if err != nil {
		return err
	}
	svcs, err := cli.ServiceList(ctx, swarm.ServiceListOptions{Filters: stackFilter(stack)})
	if err != nil {
		return fmt.Errorf("list services of %s: %w", stack, err)
	}
	if len(svcs) > 0 {
		if err := f.undeploy(ctx, stack); err != nil {
			return err
		}
	}
	if err := f.removeVolumes(ctx, stack); err != nil {
		return err
	}
	if err := f.removeNamed(ctx, stack, "secret"); err != nil {
		return err
	}
	if err := f.removeNamed(ctx, stack, "config"); err != nil {
		return err
	}
	if err := os.Remove(envPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove .env of %s: %w", domain, err)
	}
	fmt.Fprintf(f.stdout, "%s removed\n", domain)
	return nil
}

// removeVolumes removes the stack's volumes, retrying while a just-stopped container still holds
// one.
func (f *fake) removeVolumes(ctx context.Context, stack string) error {
	cli, err := f.docker()
	if err != nil {
		return err
	}
	err = f.poll(ctx, goneTimeout, func() (string, error) {
		vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: stackFilter(stack)})
		if err != nil {
			return "", fmt.Errorf("list volumes of %s: %w", stack, err)
		}
		var left []string
		for _, v := range vols.Volumes {
			if err := cli.VolumeRemove(ctx, v.Name, false); err != nil {
				left = append(left, v.Name+": "+err.Error())
			} else {
				fmt.Fprintf(f.stdout, "volume %s removed\n", v.Name)
			}
		}
		return strings.Join(left, "; "), nil
	})
	if err != nil {
		return fmt.Errorf("remove volumes of %s: %w", stack, err)
	}
	return nil
}

// removeNamed removes the stack's secrets or configs: those named <stack>_*.
func (f *fake) removeNamed(ctx context.Context, stack, kind string) error {
	out, err := f.dockerCmd(ctx, kind, "ls", "--filter", "name="+stack+"_", "--format", "{{.Name}}")
	if err != nil {
		return fmt.Errorf("list %ss of %s: %w", kind, stack, err)
	}
	for _, name := range strings.Fields(out) {
		if !strings.HasPrefix(name, stack+"_") {
			continue // the name filter matches anywhere in the name
		}
		if _, err := f.dockerCmd(ctx, kind, "rm", name); err != nil {
			return fmt.Errorf("remove %s %s: %w", kind, name, err)
		}
		fmt.Fprintf(f.stdout, "%s %s removed\n", kind, name)
	}
	return nil
}

// poll calls step every pollInterval until it reports nothing left to wait for, fails, or
// timeout passes.
func (f *fake) poll(ctx context.Context, timeout time.Duration, step func() (string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		waiting, err := step()
		if err != nil || waiting == "" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %s", timeout, waiting)
		case <-tick.C:
		}
	}
}
