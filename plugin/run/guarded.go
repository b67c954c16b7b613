package run

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"coopcloud.tech/cc-ci/internal/lifetime"
)

// Guarded is the whole life of the guarded child: install the lifetime guards first, run, tear
// down once through the funnel, and exit with the verdict's code (DESIGN.md 3, 4.1).
func Guarded(s *Settings, stdout io.Writer) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	r := newRunner(s, stdout, logger)
	g, ctx, err := lifetime.Enter(lifetime.Options{Deadline: s.Deadline, Teardown: r.teardown, Logger: logger})
	if err != nil {
		fmt.Fprintf(stdout, "cc-ci: refusing to run: %v\n", err)
		if errors.Is(err, lifetime.ErrOrphaned) {
			return lifetime.ExitOrphaned
		}
		return 3
	}
	r.execute(ctx)
	g.Teardown()
	code := r.exitCode()
	g.Finish(code)
	return code
}
