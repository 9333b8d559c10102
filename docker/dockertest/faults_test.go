package dockertest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-app/berth/docker/dockertest"
)

func TestFaultTableFailsOnABadRow(t *testing.T) {
	t.Parallel()
	good := dockertest.Fault{Fault: "good", Sees: "a message",
		Kept:    dockertest.Kept{What: "messages", Acked: 2, Found: 2},
		Chain:   dockertest.Chain{Verified: true, OK: true, Events: 10},
		Orphans: dockertest.Orphans{}}
	lost, broken, orphan, unverified := good, good, good, good
	lost.Fault, lost.Kept.Found = "lost", 1
	broken.Fault, broken.Chain.OK, broken.Chain.Problem = "broken", false, "edited row at #3"
	orphan.Fault, orphan.Orphans.Running = "orphan", 1
	unverified.Fault, unverified.Chain = "unverified", dockertest.Chain{}
	row := func(f dockertest.Fault) string { b, _ := json.Marshal(f); return string(b) + "\n" }
	for _, tc := range []struct {
		name  string
		input string
		bad   int
		say   string
	}{
		{"all good", row(good), 0, "1 faults injected, 0 rows failed"},
		{"lost data", row(good) + row(lost), 1, "FAULT ROW FAILED: lost: acknowledged data: LOST 1 of 2 messages"},
		{"broken chain", row(broken), 1, "FAULT ROW FAILED: broken: audit chain: BROKEN: edited row at #3"},
		{"chain not verified", row(unverified), 1, "FAULT ROW FAILED: unverified: audit chain: NOT VERIFIED"},
		{"orphan", row(orphan), 1, "FAULT ROW FAILED: orphan: orphan sandboxes: 1 running"},
		{"not a row", row(good) + "{\"fault\": 3}\n", 1, "FAULT TABLE UNREADABLE"},
		{"unknown cell", `{"fault":"x","sees":"y","kept":"all kept"}` + "\n", 1, "FAULT TABLE UNREADABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			if bad := dockertest.PrintFaults(&out, strings.NewReader(tc.input)); bad != tc.bad || !strings.Contains(out.String(), tc.say) {
				t.Errorf("got %d bad rows and\n%s\nwant %d and %q", bad, out.String(), tc.bad, tc.say)
			}
		})
	}
}
