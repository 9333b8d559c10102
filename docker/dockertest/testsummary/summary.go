package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/berth-app/berth/docker/dockertest"
)

// event is one line of `go test -json` (see `go doc cmd/test2json`); build
// events share the stream and carry ImportPath instead of Package.
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
	ImportPath  string
}

// skip is one skipped test and the reason it gave.
type skip struct {
	Name   string // package and test
	Reason string
}

// summary follows a `go test -json` stream: it prints what a human needs as
// it comes (package results, the output of failed tests, skips, build
// errors) and counts.
type summary struct {
	out io.Writer

	passed, failed, skipped int
	topLevel                int
	failedPkgs              []string
	buildFailed             []string
	skips                   []skip
	testTimes, pkgTimes     []timing
	notJSON                 int
	events                  int

	outputs map[string][]string // buffered output per package/test
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, outputs: map[string][]string{}}
}

// read consumes the whole stream.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// go test prints serious early errors as plain text.
			s.notJSON++
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.events++
		s.handle(ev)
	}
	return sc.Err()
}

var fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

func (s *summary) handle(ev event) {
	key := ev.Package + " " + ev.Test
	switch ev.Action {
	case "build-output":
		fmt.Fprint(s.out, ev.Output)
	case "build-fail":
		s.buildFailed = append(s.buildFailed, ev.ImportPath)
	case "output":
		if ev.Test == "" && isPackageResult(ev.Output) {
			fmt.Fprint(s.out, ev.Output)
			return
		}
		s.outputs[key] = append(s.outputs[key], ev.Output)
	case "pass", "fail", "skip":
		lines := s.outputs[key]
		delete(s.outputs, key)
		if ev.Action != "skip" {
			s.record(ev)
		}
		if ev.Test == "" { // the package
			if ev.Action == "fail" {
				s.failedPkgs = append(s.failedPkgs, ev.Package)
				printLines(s.out, lines)
			}
			return
		}
		if !strings.Contains(ev.Test, "/") {
			s.topLevel++
		}
		switch ev.Action {
		case "pass":
			s.passed++
		case "fail":
			s.failed++
			printLines(s.out, lines)
		case "skip":
			s.skipped++
			sk := skip{Name: shortPkg(ev.Package) + " " + ev.Test, Reason: skipReason(lines)}
			s.skips = append(s.skips, sk)
			fmt.Fprintf(s.out, "--- SKIP: %s: %s\n", sk.Name, sk.Reason)
		}
	}
}

// isPackageResult is a package's closing line: "ok", "FAIL", "?" (no test files).
func isPackageResult(out string) bool {
	for _, p := range []string{"ok  \t", "FAIL\t", "?   \t"} {
		if strings.HasPrefix(out, p) {
			return true
		}
	}
	return false
}

// printLines prints a failed test's output without the framing lines.
func printLines(w io.Writer, lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "=== RUN") || strings.HasPrefix(l, "=== PAUSE") || strings.HasPrefix(l, "=== CONT") {
			continue
		}
		fmt.Fprint(w, l)
	}
}

// skipReason is the last thing a skipped test said before "--- SKIP".
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "---") || strings.HasPrefix(l, "===") {
			continue
		}
		return fileLine.ReplaceAllString(l, "")
	}
	return "(no reason given)"
}

func shortPkg(p string) string { return strings.TrimPrefix(p, "github.com/berth-app/berth/") }

// undeliberate are the skips that are not by design.
func (s *summary) undeliberate() []skip {
	var out []skip
	for _, sk := range s.skips {
		if !strings.HasPrefix(sk.Reason, dockertest.DeliberatePrefix) {
			out = append(out, sk)
		}
	}
	return out
}

// report prints the closing lines and returns the reasons the run failed.
func (s *summary) report(ci bool) []string {
	fmt.Fprintf(s.out, "\nTests: %d run (%d top-level), %d passed, %d failed, %d skipped\n",
		s.passed+s.failed+s.skipped, s.topLevel, s.passed, s.failed, s.skipped)
	if len(s.skips) > 0 {
		byReason := map[string][]string{}
		for _, sk := range s.skips {
			byReason[sk.Reason] = append(byReason[sk.Reason], sk.Name)
		}
		reasons := make([]string, 0, len(byReason))
		for r := range byReason {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprintln(s.out, "Skipped, with reasons:")
		for _, r := range reasons {
			fmt.Fprintf(s.out, "  %d × %s\n      %s\n", len(byReason[r]), r, strings.Join(byReason[r], ", "))
		}
	}
	s.printSlowest(s.out)
	var bad []string
	if s.events == 0 {
		bad = append(bad, "go test reported nothing")
	}
	if s.failed > 0 {
		bad = append(bad, fmt.Sprintf("%d tests failed", s.failed))
	}
	if len(s.buildFailed) > 0 {
		bad = append(bad, "build failed: "+strings.Join(s.buildFailed, ", "))
	}
	if len(s.failedPkgs) > 0 {
		bad = append(bad, "packages failed: "+strings.Join(mapShort(s.failedPkgs), ", "))
	}
	if u := s.undeliberate(); ci && len(u) > 0 {
		var names []string
		for _, sk := range u {
			names = append(names, sk.Name)
		}
		bad = append(bad, fmt.Sprintf("CI=true and %d tests skipped without a deliberate reason: %s", len(u), strings.Join(names, ", ")))
	}
	return bad
}

func mapShort(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = shortPkg(p)
	}
	return out
}
