package browser

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"coopcloud.tech/cc-ci/internal/suggest"
)

// Limits on what a check may say; generous for any real flow, small enough for a log line.
const (
	maxSteps        = 100
	maxNameRunes    = 100
	maxSelectorLen  = 500
	maxTextLen      = 2000
	maxPathLen      = 2000
	maxFileNameLen  = 100
	placeholderHost = "app.invalid"
)

// fileNameRe is a plain file name in the screenshot directory: no directory, no hidden file.
var fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.png$`)

// fields says which Step fields each action takes; any other field set is a mistake.
var fields = map[string][]string{
	ActionVisit:      {"path"},
	ActionFill:       {"selector", "text"},
	ActionClick:      {"selector"},
	ActionWaitText:   {"selector", "text"},
	ActionExpectText: {"selector", "text"},
	ActionScreenshot: {"file"},
}

// Validate checks c statically, as the overlay loader does at load time, so a mistake stops the
// run before anything is deployed. The error names the check, the step and the fix.
func Validate(c Check) error {
	name := plain(c.Name, maxNameRunes)
	switch {
	case strings.TrimSpace(c.Name) == "":
		return errors.New("browser check without a name: give each check a name")
	case len([]rune(c.Name)) > maxNameRunes || hasControl(c.Name, ""):
		return fmt.Errorf("browser check %q: the name must be one line of at most %d characters", name, maxNameRunes)
	case c.Timeout < 0:
		return fmt.Errorf("browser check %q: timeout %s is negative (leave it out for the default %s)", name, c.Timeout, DefaultTimeout)
	case len(c.Steps) == 0:
		return fmt.Errorf("browser check %q: no steps: start with a visit of the page to open", name)
	case len(c.Steps) > maxSteps:
		return fmt.Errorf("browser check %q: %d steps, at most %d: split it into several checks", name, len(c.Steps), maxSteps)
	}
	for i, s := range c.Steps {
		err := validateStep(s)
		if err == nil && i == 0 && s.Action != ActionVisit {
			err = errors.New("the first step must be a visit (say which page to open)")
		}
		if err != nil {
			return fmt.Errorf("browser check %q step %d (%s): %w", name, i+1, plain(s.Action, 40), err)
		}
	}
	return nil
}

func validateStep(s Step) error {
	takes, known := fields[s.Action]
	switch {
	case s.Action == "":
		return fmt.Errorf("no action: use one of %s", strings.Join(Actions, ", "))
	case !known:
		return fmt.Errorf("unknown action %q: did you mean %q? (actions: %s)", plain(s.Action, 40), suggest.Nearest(s.Action, Actions), strings.Join(Actions, ", "))
	}
	set := map[string]bool{"path": s.Path != "", "selector": s.Selector != "", "text": s.Text != "", "file": s.File != ""}
	for _, f := range []string{"path", "selector", "text", "file"} {
		if set[f] && !slices.Contains(takes, f) {
			return fmt.Errorf("%s takes no %s (it takes only %s)", s.Action, f, strings.Join(takes, " and "))
		}
	}
	switch s.Action {
	case ActionVisit:
		return checkPath(s.Path)
	case ActionScreenshot:
		return checkFile(s.File)
	}
	if err := checkSelector(s.Selector); err != nil {
		return err
	}
	switch {
	case s.Action == ActionClick:
		return nil
	case s.Text == "" && s.Action != ActionFill:
		return fmt.Errorf("%s needs the text to look for", s.Action)
	case len(s.Text) > maxTextLen:
		return fmt.Errorf("text is %d bytes, at most %d", len(s.Text), maxTextLen)
	case hasControl(s.Text, "\n\t"):
		return errors.New("text holds control characters: write plain text (a newline in fill presses Enter)")
	}
	return nil
}

// checkPath accepts a path on the app: it starts with one "/", and, put after the app's base URL,
// still names the app's host. A browser that honours "\" as "/" or "//host" as a host would
// otherwise leave the app.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New(`visit needs a path on the app, e.g. "/" or "/login"`)
	case len(p) > maxPathLen:
		return fmt.Errorf("path is %d bytes, at most %d", len(p), maxPathLen)
	case !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//"):
		return fmt.Errorf("path %q must start with a single \"/\": a visit opens a page of the app itself, never another host", plain(p, 80))
	case strings.ContainsRune(p, '\\'):
		return fmt.Errorf("path %q holds a backslash: write / (browsers read \\ as /)", plain(p, 80))
	case hasControl(p, "") || strings.ContainsFunc(p, unicode.IsSpace):
		return fmt.Errorf("path %q holds spaces or control characters: percent-encode them", plain(p, 80))
	}
	u, err := url.Parse("http://" + placeholderHost + p)
	if err != nil || u.Host != placeholderHost {
		return fmt.Errorf("path %q is not a path on the app", plain(p, 80))
	}
	return nil
}

func checkSelector(sel string) error {
	switch {
	case strings.TrimSpace(sel) == "":
		return errors.New(`needs a CSS selector, e.g. "#save" or "form button"`)
	case len(sel) > maxSelectorLen:
		return fmt.Errorf("selector is %d bytes, at most %d", len(sel), maxSelectorLen)
	case hasControl(sel, ""):
		return fmt.Errorf("selector %q holds control characters", plain(sel, 80))
	}
	return nil
}

func checkFile(f string) error {
	switch {
	case f == "":
		return errors.New(`screenshot needs a file name, e.g. "saved.png"`)
	case len(f) > maxFileNameLen || !fileNameRe.MatchString(f):
		return fmt.Errorf("screenshot %q must be a plain file name ending in .png: letters, digits, '.', '_' and '-', no directories, at most %d characters", plain(f, 80), maxFileNameLen)
	case f == reservedShotName:
		return fmt.Errorf("screenshot %q is the landing page's screenshot: pick another name", f)
	case strings.HasSuffix(f, failedShotSuffix):
		return fmt.Errorf("screenshot %q: names ending in %s are kept for screenshots of failing pages", f, failedShotSuffix)
	}
	return nil
}

// hasControl reports whether s holds a control character other than those in allowed.
func hasControl(s, allowed string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') && !strings.ContainsRune(allowed, r)
	})
}
