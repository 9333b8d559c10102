package racelog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/docker/dockertest/need"
)

// TestMain makes this test binary the racy child of TestABerthRaceIsCaught.
func TestMain(m *testing.M) {
	if os.Getenv("RACELOG_CHILD") == "1" {
		racy()
		return
	}
	os.Exit(m.Run())
}

// racy writes one variable from two goroutines, unsynchronised: a data race
// in Berth's code.
func racy() {
	n := 0
	done := make(chan bool)
	go func() { n++; done <- true }()
	n++
	<-done
	_ = n
}

// TestUpstreamRaceIsTheirs: the report fyne.io/systray's tray menu produces
// (recorded from the desktop binary under the race detector) has no frame
// in Berth's code.
func TestUpstreamRaceIsTheirs(t *testing.T) {
	b, err := os.ReadFile("testdata/systray.log")
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := Split(string(b))
	if len(ours) != 0 || len(theirs) != 1 {
		t.Fatalf("systray's report: %d ours, %d theirs; want 0 and 1", len(ours), len(theirs))
	}
	if got := firstFrame(theirs[0]); got != "fyne.io/systray.refresh()" {
		t.Errorf("first frame %q", got)
	}
}

// TestABerthRaceIsCaught runs a real race in this package's code in a child
// built with -race, with the GORACE setting Env gives: the child still
// exits 0, and its report is sorted as Berth's.
func TestABerthRaceIsCaught(t *testing.T) {
	if !raceEnabled {
		need.Deliberately(t, "needs the race detector: go test -race")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RACELOG_CHILD=1", "GORACE=exitcode=0 log_path="+filepath.Join(dir, "race"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the racy child: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "race*"))
	if len(files) != 1 {
		t.Fatalf("race logs: %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := Split(string(b))
	if len(ours) != 1 || len(theirs) != 0 || !strings.Contains(ours[0], "racelog.racy") {
		t.Fatalf("%d ours, %d theirs; want one of ours naming racy:\n%s", len(ours), len(theirs), b)
	}
	rec := &recorder{TB: t}
	check(rec, dir)
	if len(rec.errors) != 1 {
		t.Fatalf("check reported %d errors for one race of ours, want 1", len(rec.errors))
	}
	t.Logf("caught: %s", firstFrame(ours[0]))
}

// recorder keeps what check reports instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
