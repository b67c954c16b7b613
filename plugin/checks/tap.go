package checks

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// TAP, the Test Anything Protocol, read as the TAP 13 and TAP 14 specifications describe it:
// https://testanything.org/tap-version-13-specification.html and
// https://testanything.org/tap-version-14-specification.html (cited below as "TAP14").
//
// The harness is strict where a lenient reading could turn a broken run green: a missing plan, a
// plan that does not match the test points, test ids outside the plan, repeated ids and
// "Bail out!" are all problems, and any problem fails the executable whatever its exit code.

var (
	// TAP14 "Version": the first line; TAP13 is read the same way (TAP14 allows that).
	tapVersion = regexp.MustCompile(`^TAP version (\d+)\s*$`)
	// TAP14 "Plan": "1.." Number, optionally " # " Reason (the reason of a 1..0 skip-all).
	tapPlan = regexp.MustCompile(`^(\d+)\.\.(\d+)\s*(?:#\s*(.*))?$`)
	// TAP14 "Test Status": "ok" or "not ok" at the start of the line, case-sensitive, followed
	// by whitespace or the end of the line ("okay" is not a test point).
	tapPoint = regexp.MustCompile(`^(not )?ok(?:[ \t]+(.*))?$`)
	// TAP14 "Test Point ID": a number right after the status, then the description.
	tapID = regexp.MustCompile(`^(\d+)(?:[ \t]+(.*))?$`)
	// TAP14 "Directive": the first unescaped # preceded by whitespace starts it; SKIP or TODO in
	// any case, with trailing non-space characters allowed for compatibility ("# Skipped"), then
	// whitespace and the reason. The # here is the first character of the matched text.
	tapDirective = regexp.MustCompile(`(?i)^#\s*(skip|todo)\S*(?:\s+(.*))?$`)
	// TAP14 "Bail out!": case-insensitive, also inside a subtest (which bails out the whole run).
	tapBail = regexp.MustCompile(`(?i)^(?:    )*bail out!(.*)$`)
)

// maxIDs bounds the memory spent finding repeated test ids in a pathological stream.
const maxIDs = 100_000

// maxDiag bounds the YAML diagnostic text kept for one test point.
const maxDiag = 2048

// tapResult is one test point.
type tapResult struct {
	OK        bool
	ID        int
	Desc      string
	Directive string // "skip", "todo" or ""
	Reason    string // the directive's reason
	Diag      string // the YAML diagnostic block that followed it, lines joined by "; "
}

// tapParser reads a TAP stream line by line and hands each finished test point to emit.
type tapParser struct {
	emit func(tapResult)

	seen        bool // a version, plan, bail out or failing test point: the stream is TAP
	plan        int  // -1 until a plan is read
	planReason  string
	planAfter   bool // the plan came after test points: none may follow it
	count       int
	minID       int
	maxID       int
	ids         map[int]bool
	repeated    []int
	bailed      bool
	bailReason  string
	problems    []string
	pending     *tapResult
	inYAML      bool
	yamlAllowed bool // the last TAP line was a test point (comments and blanks may sit between)
}

func newTAPParser(emit func(tapResult)) *tapParser {
	return &tapParser{emit: emit, plan: -1, ids: map[int]bool{}}
}

// Line reads one line of the stream (without its newline). TAP14: "\r\n" and "\r" are line ends.
func (p *tapParser) Line(line string) {
	line = strings.TrimRight(line, "\r")
	if p.inYAML {
		if strings.HasPrefix(line, "  ") || strings.TrimSpace(line) == "" {
			if strings.TrimSpace(line) == "..." {
				p.inYAML = false
			} else if p.pending != nil && len(p.pending.Diag) < maxDiag {
				p.pending.Diag = join(p.pending.Diag, strings.TrimSpace(line))
			}
			return
		}
		p.inYAML = false // an unterminated block ends at the first line that is not part of it
	}
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		return // TAP14 "Blank Lines", "Comments": ignored, and a YAML block may still follow
	case p.yamlAllowed && strings.TrimRight(line, " \t") == "  ---":
		p.inYAML = true
		return
	}
	p.yamlAllowed = false
	if m := tapBail.FindStringSubmatch(line); m != nil {
		p.seen, p.bailed = true, true
		if p.bailReason == "" {
			p.bailReason = unescapeTAP(strings.TrimSpace(m[1]))
		}
		return
	}
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
		return // TAP14 "Subtests": the correlated test point at this level carries the verdict
	}
	if tapVersion.MatchString(line) {
		p.seen = true
		return
	}
	if m := tapPlan.FindStringSubmatch(line); m != nil {
		p.readPlan(m)
		return
	}
	if m := tapPoint.FindStringSubmatch(line); m != nil {
		p.readPoint(m[1] == "", m[2])
		p.yamlAllowed = true
	}
	// TAP14 "Anything Else": other lines are not TAP and change nothing.
}

func (p *tapParser) readPlan(m []string) {
	p.seen = true
	p.flush()
	first, err1 := strconv.Atoi(m[1])
	n, err2 := strconv.Atoi(m[2])
	switch {
	case p.plan >= 0:
		p.problem("a second plan %q (TAP allows exactly one)", m[0])
		return
	case err1 != nil || err2 != nil:
		p.problem("a plan %q whose numbers cannot be read", m[0])
		return
	case first != 1:
		// TAP14 "Plan": a harness may accept other starts, but then ids outside the range fail.
		p.problem("a plan %q that does not start at 1", m[0])
	}
	p.plan, p.planReason = n, unescapeTAP(strings.TrimSpace(m[3]))
	p.planAfter = p.count > 0
}

func (p *tapParser) readPoint(ok bool, rest string) {
	p.seen = p.seen || !ok
	p.flush()
	if p.planAfter {
		p.problem("test points after the plan that closed the stream")
		p.planAfter = false // say it once
	}
	p.count++
	r := tapResult{OK: ok, ID: p.count}
	if m := tapID.FindStringSubmatch(rest); m != nil {
		id, err := strconv.Atoi(m[1])
		if err != nil {
			p.problem("a test id %q that cannot be read", m[1])
		} else {
			r.ID = id
		}
		rest = m[2]
	}
	p.track(r.ID)
	r.Desc, r.Directive, r.Reason = splitDirective(rest)
	p.pending = &r
}

// track records an id, for the range and repeat checks at the end.
func (p *tapParser) track(id int) {
	if p.count == 1 || id < p.minID {
		p.minID = id
	}
	if p.count == 1 || id > p.maxID {
		p.maxID = id
	}
	if len(p.ids) >= maxIDs {
		return
	}
	if p.ids[id] && len(p.repeated) < 5 {
		p.repeated = append(p.repeated, id)
	}
	p.ids[id] = true
}

// splitDirective splits what follows the id into the description and the directive (TAP14
// "Description", "Directive", "Escaping"): the first # that is unescaped and preceded by
// whitespace delimits; if what follows it is not SKIP or TODO, it is all description.
func splitDirective(s string) (desc, directive, reason string) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	escaped := false
	for i := 0; i < len(s); i++ {
		switch {
		case escaped:
			escaped = false
		case s[i] == '\\':
			escaped = true
		case s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			if m := tapDirective.FindStringSubmatch(s[i:]); m != nil {
				return unescapeTAP(strings.TrimSpace(s[:i])), strings.ToLower(m[1]), unescapeTAP(strings.TrimSpace(m[2]))
			}
			return unescapeTAP(strings.TrimSpace(s)), "", ""
		}
	}
	return unescapeTAP(strings.TrimSpace(s)), "", ""
}

// unescapeTAP undoes TAP14 "Escaping": \\ is \ and \# is #; any other \ is literal.
func unescapeTAP(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '#') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *tapParser) flush() {
	if p.pending != nil {
		p.emit(*p.pending)
		p.pending = nil
	}
	p.inYAML = false
}

func (p *tapParser) problem(format string, a ...any) {
	if len(p.problems) < 5 {
		p.problems = append(p.problems, fmt.Sprintf(format, a...))
	}
}

// tapVerdict is what a whole stream says.
type tapVerdict struct {
	IsTAP    bool
	Count    int
	Plan     int    // -1: none
	SkipAll  string // the reason of a 1..0 plan ("" when not a skip-all); set only with IsTAP
	Bailed   bool
	Bail     string
	Problems []string // each one makes the stream a failure (TAP14 "Harness Behavior")
}

// Finish ends the stream and judges it. A stream is TAP when it has a version, a plan, a bail
// out or a failing test point: a program that only ever printed "ok" is left to its exit code.
func (p *tapParser) Finish() tapVerdict {
	p.flush()
	v := tapVerdict{IsTAP: p.seen, Count: p.count, Plan: p.plan, Bailed: p.bailed, Bail: p.bailReason}
	if !p.seen {
		return v
	}
	probs := append([]string{}, p.problems...)
	switch {
	case p.plan < 0:
		probs = append(probs, fmt.Sprintf("no plan line (1..N) after %d test points: the output may have been cut short", p.count))
	case p.plan == 0 && p.count == 0:
		v.SkipAll = cmp.Or(p.planReason, "no reason given")
	case p.count != p.plan:
		probs = append(probs, fmt.Sprintf("the plan 1..%d does not match the %d test points run", p.plan, p.count))
	}
	if p.plan >= 0 && p.count > 0 && (p.minID < 1 || p.maxID > p.plan) {
		probs = append(probs, fmt.Sprintf("test ids %d..%d outside the plan 1..%d", p.minID, p.maxID, p.plan))
	}
	if len(p.repeated) > 0 {
		probs = append(probs, fmt.Sprintf("repeated test ids %v", p.repeated))
	}
	v.Problems = probs
	return v
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
