package dockertest

import (
	"encoding/json"
	"os"
	"testing"
)

// Fault is one row of the fault suite's table: what was broken, what the
// user saw, and what a test observed about the guarantees.
type Fault struct {
	Fault   string `json:"fault"`
	Sees    string `json:"sees"`    // what the user is told
	Kept    string `json:"kept"`    // acknowledged messages and events: all kept, or what is missing
	Chain   string `json:"chain"`   // the audit chain after the fault
	Orphans string `json:"orphans"` // sandboxes left behind
}

// ReportFault logs a fault's outcome and, when BERTH_FAULT_TABLE names a
// file (make test sets it), appends it there so that the whole suite's table
// can be printed at the end, across packages.
func ReportFault(t testing.TB, f Fault) {
	t.Helper()
	t.Logf("fault %q: sees %q; kept %s; chain %s; orphans %s", f.Fault, f.Sees, f.Kept, f.Chain, f.Orphans)
	path := os.Getenv("BERTH_FAULT_TABLE")
	if path == "" {
		return
	}
	b, _ := json.Marshal(f)
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("fault table: %v", err)
		return
	}
	defer fh.Close()
	fh.Write(append(b, '\n'))
}
