// Command ccci-image is TEST SUPPORT tooling behind `make image`: it builds the plugin's OCI
// image without Nix and without pulling anything (testkit.BuildPluginImage, docs/image.md) and
// prints its tag. The image carries the FAKE abra: it is for tests and by-hand trials on a
// machine without abra, never for real recipe runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"coopcloud.tech/cc-ci/internal/testkit"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: ccci-image   (builds "+testkit.PluginImage+" and prints its tag)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tag, err := testkit.BuildPluginImage(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ccci-image:", err)
		os.Exit(1)
	}
	fmt.Println(tag)
}
