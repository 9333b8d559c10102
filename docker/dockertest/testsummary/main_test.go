package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/docker/dockertest"
)

// stream writes go test -json events for the tests named in results
// ("pkg TestX pass", "pkg TestY skip reason…").
func stream(results ...string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, r := range results {
		f := strings.SplitN(r, " ", 4)
		pkg, test, action := "github.com/berth-app/berth/"+f[0], f[1], f[2]
		enc.Encode(event{Action: "run", Package: pkg, Test: test})
		enc.Encode(event{Action: "output", Package: pkg, Test: test, Output: "=== RUN   " + test + "\n"})
		if len(f) == 4 {
			enc.Encode(event{Action: "output", Package: pkg, Test: test, Output: "    x_test.go:12: " + f[3] + "\n"})
		}
		enc.Encode(event{Action: "output", Package: pkg, Test: test, Output: "--- " + strings.ToUpper(action) + ": " + test + " (0.00s)\n"})
		enc.Encode(event{Action: action, Package: pkg, Test: test})
	}
	enc.Encode(event{Action: "output", Package: "github.com/berth-app/berth/x", Output: "ok  \tgithub.com/berth-app/berth/x\t0.1s\n"})
	enc.Encode(event{Action: "pass", Package: "github.com/berth-app/berth/x"})
	return b.String()
}

func TestSummary(t *testing.T) {
	t.Parallel()
	deliberate := dockertest.DeliberatePrefix + "a measurement, not a test"
	for _, tc := range []struct {
		name    string
		input   string
		ci      bool
		fail    bool
		closing string
		says    []string
	}{
		{"all pass", stream("x TestA pass", "x TestA/sub pass"), true, false, "2 passed, 0 failed, 0 skipped",
			[]string{"Tests: 2 run (1 top-level), 2 passed, 0 failed, 0 skipped", "ok  \tgithub.com/berth-app/berth/x"}},
		{"a failure prints its output", stream("x TestA pass", "x TestB fail got 1, want 2"), false, true, "1 passed, 1 failed, 0 skipped",
			[]string{"x_test.go:12: got 1, want 2", "--- FAIL: TestB", "FAIL: 1 tests failed"}},
		{"a deliberate skip passes in CI", stream("x TestA pass", "x TestPerf skip "+deliberate), true, false, "1 passed, 0 failed, 1 skipped",
			[]string{"1 × " + deliberate, "x TestPerf"}},
		{"a skipped Docker test fails in CI", stream("x TestA pass", "x TestGate skip no Docker engine answers"), true, true, "1 passed, 1 failed, 0 skipped",
			[]string{"--- SKIP: x TestGate: no Docker engine answers", "FAIL: CI=true and 1 tests skipped without a deliberate reason: x TestGate"}},
		{"the same skip passes on a workstation", stream("x TestA pass", "x TestGate skip no Docker engine answers"), false, false, "1 passed, 0 failed, 1 skipped",
			[]string{"1 × no Docker engine answers"}},
		{"nothing ran", "", false, true, "0 passed, 1 failed, 0 skipped", []string{"FAIL: go test reported nothing"}},
		{"a build failure", `{"ImportPath":"github.com/berth-app/berth/y [y.test]","Action":"build-output","Output":"y.go:3: undefined: z\n"}` + "\n" +
			`{"ImportPath":"github.com/berth-app/berth/y [y.test]","Action":"build-fail"}` + "\n" +
			`{"Action":"fail","Package":"github.com/berth-app/berth/y","FailedBuild":"github.com/berth-app/berth/y [y.test]"}` + "\n",
			false, true, "0 passed, 2 failed, 0 skipped", []string{"y.go:3: undefined: z", "FAIL: build failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			failed := run(strings.NewReader(tc.input), &out, "", tc.ci)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if failed != tc.fail || lines[len(lines)-1] != tc.closing {
				t.Errorf("got failed=%v, closing line %q; want %v, %q\n%s", failed, lines[len(lines)-1], tc.fail, tc.closing, out.String())
			}
			for _, s := range tc.says {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the summary lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestSummaryFailsOnABadFaultRow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	row, _ := json.Marshal(dockertest.Fault{Fault: "engine cut", Sees: "Docker is not running",
		Kept: dockertest.Kept{What: "messages", Acked: 2, Found: 1}, Chain: dockertest.Chain{Verified: true, OK: true, Events: 3}})
	if err := os.WriteFile(path, append(row, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if !run(strings.NewReader(stream("x TestA pass")), &out, path, true) {
		t.Errorf("a row with a lost message passed:\n%s", out.String())
	}
	for _, s := range []string{"LOST 1 of 2 messages", "FAULT ROW FAILED: engine cut", "1 passed, 1 failed, 0 skipped"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the summary lacks %q:\n%s", s, out.String())
		}
	}
}

func TestSummaryNamesTheSlowest(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	pkg := "github.com/berth-app/berth/x"
	for i := range 12 {
		enc.Encode(event{Action: "pass", Package: pkg, Test: fmt.Sprintf("Test%02d", i), Elapsed: float64(i)})
	}
	enc.Encode(event{Action: "pass", Package: pkg, Test: "Test11/sub", Elapsed: 99}) // inside its parent's time
	enc.Encode(event{Action: "skip", Package: pkg, Test: "TestSkipped", Elapsed: 50})
	enc.Encode(event{Action: "pass", Package: pkg, Elapsed: 70})
	enc.Encode(event{Action: "pass", Package: "github.com/berth-app/berth/y", Elapsed: 3})
	var out strings.Builder
	if run(strings.NewReader(b.String()), &out, "", false) {
		t.Fatalf("the run failed:\n%s", out.String())
	}
	got := out.String()
	want := "Slowest tests:\n" +
		"     11.0s  x Test11\n     10.0s  x Test10\n      9.0s  x Test09\n      8.0s  x Test08\n      7.0s  x Test07\n" +
		"      6.0s  x Test06\n      5.0s  x Test05\n      4.0s  x Test04\n      3.0s  x Test03\n      2.0s  x Test02\n" +
		"Slowest packages:\n     70.0s  x\n      3.0s  y\n"
	if !strings.Contains(got, want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", got, want)
	}
}
