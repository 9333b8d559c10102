// Package racelog lets a test run a berth binary built with -race as a
// child process and hold Berth's own code to the race detector.
//
// The desktop binary links fyne.io/systray, whose D-Bus menu handler has a
// data race of its own (GetLayout reads what the refresh it starts writes).
// With the detector's defaults that race makes every tray read end the
// child with exit code 66, so the child instead writes its reports to
// files, and the test reads them when it ends: a report with a frame in
// Berth's code fails the test; one wholly in other modules' code is logged.
package racelog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// berthCode is how Berth's frames appear in a race report.
const berthCode = "github.com/berth-app/berth/"

// Env is the GORACE setting for a child berth run by t (ignored by a binary
// built without -race). Call it before the test registers the clean-up that
// stops the child, so that the reports are read after the child is gone.
func Env(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { check(t, dir) })
	return "GORACE=exitcode=0 log_path=" + filepath.Join(dir, "race")
}

func check(t testing.TB, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "race*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("race report %s: %v", f, err)
			continue
		}
		ours, theirs := Split(string(b))
		for _, r := range ours {
			t.Errorf("a data race in Berth's code, in the berth process:\n%s", r)
		}
		for _, r := range theirs {
			t.Logf("a data race wholly in another module's code (not Berth's), in the berth process: %s", firstFrame(r))
		}
	}
}

// Split sorts the race reports in a log into those with a frame in Berth's
// code and the others.
func Split(log string) (ours, theirs []string) {
	for _, block := range strings.Split(log, "==================\n") {
		if !strings.Contains(block, "WARNING: DATA RACE") {
			continue
		}
		if strings.Contains(block, berthCode) {
			ours = append(ours, block)
		} else {
			theirs = append(theirs, block)
		}
	}
	return ours, theirs
}

// firstFrame is the function of a report's first access.
func firstFrame(report string) string {
	lines := strings.Split(report, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Write at") || strings.HasPrefix(l, "Read at") {
			if i+1 < len(lines) {
				return strings.TrimSpace(lines[i+1])
			}
		}
	}
	return "?"
}
