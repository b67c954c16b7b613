// Command ccci-testenv is TEST SUPPORT tooling for `make demo` and by-hand runs: it builds the
// test images, brings up the FAKE front door, builds the FAKE abra, generates sample recipes (see
// package testkit), and runs one `!testme` through the real bridge and plugin between a FAKE
// GitHub and a FAKE Drone (bridge-demo).
//
//	ccci-testenv images                      build ccci-sample:*, ccci-notes*:* and ccci-frontdoor:latest
//	ccci-testenv frontdoor [--port 8480]     ensure the front door runs; prints its URL
//	ccci-testenv fake-abra <bindir>          build the fake abra as <bindir>/abra; prints its path
//	ccci-testenv recipe <dir> <variant>      generate the sample recipe; prints src= and head=
//	ccci-testenv notes <dir>                 generate the realistic notes recipe; prints src= and head=
//	ccci-testenv bridge-demo --bridge <bin> --plugin <bin> --src <repo> --head <sha> --work <dir>
//	        --frontdoor <url> [--overlays <dir>] [--domain-suffix ci.local] [--pr 1] [...]
//	        [--dashboard <bin>]
//	                                         a signed !testme from the FAKE GitHub to the real
//	                                         bridge, the real plugin as the FAKE Drone's step;
//	                                         prints the plugin's log and what the PR received,
//	                                         then renders the dashboard from the FAKE Drone
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"coopcloud.tech/cc-ci/internal/testkit"
)

const usage = `usage:
  ccci-testenv images
  ccci-testenv frontdoor [--port 8480]
  ccci-testenv fake-abra <bindir>
  ccci-testenv recipe <dir> <variant>
  ccci-testenv notes <dir>
  ccci-testenv bridge-demo --bridge <bin> --plugin <bin> --src <repo> --head <sha> --work <dir> --frontdoor <url>
      [--overlays <dir>] [--domain-suffix ci.local] [--recipe sample] [--pr 1]
      [--step-timeout 5m] [--ready-timeout 2m] [--deadline 20m] [--wait 25m] [--dashboard <bin>]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ccci-testenv: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("no subcommand")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "images":
		if len(rest) != 0 {
			return usageError("images takes no arguments")
		}
		return testkit.BuildImages(ctx)
	case "frontdoor":
		fs := flag.NewFlagSet("frontdoor", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		port := fs.Int("port", testkit.DefaultFrontDoorPort, "host port to publish")
		if err := fs.Parse(rest); err != nil || fs.NArg() != 0 {
			return usageError("frontdoor takes only --port")
		}
		url, err := testkit.EnsureFrontDoor(ctx, *port)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, url)
		return nil
	case "fake-abra":
		if len(rest) != 1 {
			return usageError("fake-abra takes <bindir>")
		}
		path, err := testkit.BuildFakeAbra(ctx, rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
		return nil
	case "recipe":
		return recipe(rest, stdout)
	case "notes":
		if len(rest) != 1 {
			return usageError("notes takes <dir>")
		}
		r, err := testkit.MakeNotesRecipe(rest[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "src=%s\nhead=%s\n", r.Src, r.Head)
		return nil
	case "bridge-demo":
		return bridgeDemo(ctx, rest, stdout)
	default:
		return usageError(fmt.Sprintf("unknown subcommand %q", sub))
	}
}

func recipe(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return usageError("recipe takes <dir> <variant>")
	}
	v, ok := testkit.ParseVariant(args[1])
	if !ok {
		names := make([]string, 0)
		for _, v := range testkit.Variants() {
			names = append(names, string(v))
		}
		return usageError(fmt.Sprintf("unknown variant %q (one of %s)", args[1], strings.Join(names, ", ")))
	}
	r, err := testkit.MakeRecipe(args[0], v)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "src=%s\nhead=%s\n", r.Src, r.Head)
	return nil
}
