package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// slowestN is how many tests and packages the closing lines name.
const slowestN = 10

// timing is how long one test or package took, as go test reported it.
type timing struct {
	Name    string
	Elapsed float64 // seconds
}

// record keeps how long a top-level test or a package took, once it
// passed or failed (subtests are inside their parent's time). A parallel test's time starts
// when it resumes, so it is its own time, not its wait.
func (s *summary) record(ev event) {
	switch {
	case ev.Test == "":
		s.pkgTimes = append(s.pkgTimes, timing{shortPkg(ev.Package), ev.Elapsed})
	case !strings.Contains(ev.Test, "/"):
		s.testTimes = append(s.testTimes, timing{shortPkg(ev.Package) + " " + ev.Test, ev.Elapsed})
	}
}

// printSlowest prints the slowest top-level tests and packages: where the
// time of a run goes.
func (s *summary) printSlowest(w io.Writer) {
	for _, l := range []struct {
		title string
		times []timing
	}{{"Slowest tests", s.testTimes}, {"Slowest packages", s.pkgTimes}} {
		if len(l.times) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", l.title)
		for _, t := range slowest(l.times, slowestN) {
			fmt.Fprintf(w, "  %7.1fs  %s\n", t.Elapsed, t.Name)
		}
	}
}

// slowest returns the n longest of ts, longest first (ties by name).
func slowest(ts []timing, n int) []timing {
	out := append([]timing(nil), ts...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Elapsed != out[j].Elapsed {
			return out[i].Elapsed > out[j].Elapsed
		}
		return out[i].Name < out[j].Name
	})
	return out[:min(n, len(out))]
}
