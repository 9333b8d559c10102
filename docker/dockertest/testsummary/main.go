// Command testsummary reads `go test -json` on standard input, prints a
// readable account as it streams (package results, failed tests' output,
// skips with their reasons), and ends with the counts, the reasons of every
// skip, the fault suite's table, and one closing line
// "N passed, N failed, N skipped". It exits 1 when a test or build failed, a
// fault row is bad, or — under CI=true — a test was skipped without a
// deliberate reason (see dockertest.SkipDeliberately).
//
// Usage: go test -json ./... | testsummary [-faults FILE] [-raw FILE]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/berth-app/berth/docker/dockertest"
)

func main() {
	faults := flag.String("faults", "", "the fault suite's rows (dockertest.FaultTableEnv); none when empty")
	raw := flag.String("raw", "", "also write the raw JSON stream to this file")
	flag.Parse()
	in := io.Reader(os.Stdin)
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = io.TeeReader(in, f)
	}
	if run(in, os.Stdout, *faults, dockertest.InCI()) {
		os.Exit(1)
	}
}

// run summarises the stream and reports whether the run failed.
func run(in io.Reader, out io.Writer, faults string, ci bool) (failed bool) {
	s := newSummary(out)
	if err := s.read(in); err != nil {
		fmt.Fprintln(out, "testsummary: reading go test's output:", err)
		failed = true
	}
	bad := s.report(ci)
	nFailed, nSkipped := s.failed, s.skipped
	if nFailed == 0 {
		nFailed = len(s.failedPkgs) // a package that failed outside any test
	}
	nFailed += len(s.buildFailed)
	if ci {
		u := len(s.undeliberate())
		nFailed, nSkipped = nFailed+u, nSkipped-u
	}
	if faults != "" {
		fmt.Fprintln(out, "\nFault suite: faults × outcome")
		f, err := os.Open(faults)
		switch {
		case os.IsNotExist(err):
			fmt.Fprintln(out, "no fault was injected (no test reported a row)")
		case err != nil:
			bad = append(bad, "fault table: "+err.Error())
			nFailed++
		default:
			if n := dockertest.PrintFaults(out, f); n > 0 {
				bad = append(bad, fmt.Sprintf("%d fault rows show lost data, a broken chain or an orphan", n))
				nFailed += n
			}
			f.Close()
		}
	}
	fmt.Fprintln(out)
	for _, b := range bad {
		fmt.Fprintln(out, "FAIL:", b)
	}
	if len(bad) > 0 && nFailed == 0 {
		nFailed = 1
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", s.passed, nFailed, nSkipped)
	return failed || len(bad) > 0
}
