package dockertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
)

// FaultTableEnv names the file the fault suite's rows are appended to
// (make test sets it and prints the table at the end).
const FaultTableEnv = "BERTH_FAULT_TABLE"

// Fault is one row of the fault suite's table: what was broken, what the
// user saw, and what the test observed about the guarantees. Every cell is
// made from observations; Problems judges the row.
type Fault struct {
	Fault   string  `json:"fault"`
	Sees    string  `json:"sees"` // what the user is told, as observed
	Kept    Kept    `json:"kept"`
	Chain   Chain   `json:"chain"`
	Orphans Orphans `json:"orphans"`
}

// Kept counts acknowledged data (messages, events) and how much of it the
// test found again after the fault.
type Kept struct {
	What  string `json:"what"`  // "messages", "acknowledged events"
	Acked int    `json:"acked"` // acknowledged before or during the fault
	Found int    `json:"found"` // of those, found after it
	Err   string `json:"err,omitempty"`
	Note  string `json:"note,omitempty"` // more that was observed
}

// Chain is the audit chain after the fault: verified (OK, Events, Problem),
// not verifiable (Err), or deliberately left unopened (Unopened says why,
// e.g. a corrupt file that Open refused).
type Chain struct {
	Verified bool   `json:"verified"`
	OK       bool   `json:"ok"`
	Events   int64  `json:"events"`
	Problem  string `json:"problem,omitempty"`
	Err      string `json:"err,omitempty"`
	Unopened string `json:"unopened,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Orphans counts running sandboxes of the test's installation that nothing
// uses any more. NotApplicable says why the fault involves no sandbox.
type Orphans struct {
	Running       int    `json:"running"`
	Err           string `json:"err,omitempty"`
	NotApplicable string `json:"na,omitempty"`
}

func (k Kept) String() string {
	switch {
	case k.Err != "":
		return "CANNOT READ: " + k.Err
	case k.Found < k.Acked:
		return fmt.Sprintf("LOST %d of %d %s", k.Acked-k.Found, k.Acked, k.What)
	}
	s := fmt.Sprintf("all %d %s kept", k.Acked, k.What)
	if k.Note != "" {
		s += ", " + k.Note
	}
	return s
}

func (c Chain) String() string {
	var s string
	switch {
	case c.Unopened != "":
		return "not opened: " + c.Unopened
	case c.Err != "":
		return "CANNOT VERIFY: " + c.Err
	case !c.Verified:
		return "NOT VERIFIED"
	case !c.OK:
		s = "BROKEN: " + c.Problem
	default:
		s = fmt.Sprintf("verifies (%d events)", c.Events)
	}
	if c.Note != "" {
		s += ", " + c.Note
	}
	return s
}

func (o Orphans) String() string {
	switch {
	case o.NotApplicable != "":
		return "n/a (" + o.NotApplicable + ")"
	case o.Err != "":
		return "CANNOT LIST: " + o.Err
	case o.Running > 0:
		return fmt.Sprintf("%d running", o.Running)
	}
	return "none"
}

// Problems lists what is wrong with the row: lost data, a broken or
// unverified chain, orphans, or a cell the test did not fill in.
func (f Fault) Problems() []string {
	var p []string
	if f.Fault == "" || f.Sees == "" {
		p = append(p, "the fault or what the user sees is not filled in")
	}
	if f.Kept.What == "" || f.Kept.Acked == 0 || f.Kept.Err != "" || f.Kept.Found < f.Kept.Acked {
		p = append(p, "acknowledged data: "+f.Kept.String())
	}
	if f.Chain.Unopened == "" && (!f.Chain.Verified || !f.Chain.OK || f.Chain.Err != "") {
		p = append(p, "audit chain: "+f.Chain.String())
	}
	if f.Orphans.NotApplicable == "" && (f.Orphans.Running > 0 || f.Orphans.Err != "") {
		p = append(p, "orphan sandboxes: "+f.Orphans.String())
	}
	return p
}

// ReportFault asserts a fault's row (a lost message, a broken chain or an
// orphan fails the test), logs it, and, when FaultTableEnv names a file,
// appends it there so that the whole suite's table can be printed at the end,
// across packages.
func ReportFault(t testing.TB, f Fault) {
	t.Helper()
	t.Logf("fault %q: sees %q; kept %s; chain %s; orphans %s", f.Fault, f.Sees, f.Kept, f.Chain, f.Orphans)
	for _, p := range f.Problems() {
		t.Errorf("fault %q: %s", f.Fault, p)
	}
	path := os.Getenv(FaultTableEnv)
	if path == "" {
		return
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Errorf("fault table: %v", err)
		return
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("fault table: %v", err)
		return
	}
	defer fh.Close()
	if _, err := fh.Write(append(b, '\n')); err != nil {
		t.Errorf("fault table: %v", err)
	}
}

// ReadFaults reads the rows ReportFault appended. A line that is not a row
// is an error, not skipped.
func ReadFaults(r io.Reader) ([]Fault, error) {
	var rows []Fault
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var f Fault
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return rows, fmt.Errorf("fault table line %d: %w", n, err)
		}
		rows = append(rows, f)
	}
	return rows, sc.Err()
}

// PrintFaults prints the table of the rows in r and then every problem, and
// returns how many rows (or unreadable lines) are bad.
func PrintFaults(w io.Writer, r io.Reader) (bad int) {
	rows, err := ReadFaults(r)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tWHAT THE USER SEES\tACKNOWLEDGED DATA\tAUDIT CHAIN\tORPHAN SANDBOXES")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Fault, clip(r.Sees, 70), r.Kept, r.Chain, r.Orphans)
	}
	tw.Flush()
	for _, r := range rows {
		if p := r.Problems(); len(p) > 0 {
			bad++
			for _, s := range p {
				fmt.Fprintf(w, "FAULT ROW FAILED: %s: %s\n", r.Fault, s)
			}
		}
	}
	if err != nil {
		bad++
		fmt.Fprintf(w, "FAULT TABLE UNREADABLE: %v\n", err)
	}
	fmt.Fprintf(w, "%d faults injected, %d rows failed\n", len(rows), bad)
	return bad
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
