package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeClock returns a clock that starts at a fixed time and moves 1.5 ms per call.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(1500 * time.Microsecond)
		return t
	}
}

// dbPath returns a fresh database path in a temporary folder.
func dbPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "berth.db")
}

// openStore opens path for writing and closes it when the test ends.
func openStore(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fakeClock()
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openReader opens path read-only and closes it when the test ends.
func openReader(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatalf("OpenReadOnly(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testEvent returns the i-th event of a varied test stream.
func testEvent(i int) Event {
	kinds := []string{"app.start", "exec.start", "exec.end", "file.write", "mount.add", "approval.ask"}
	actors := []Actor{ActorSystem, ActorAgent, ActorAgent, ActorAgent, ActorUser, ActorSystem}
	return Event{
		Group:   []string{"work", "home"}[i%2],
		Session: fmt.Sprintf("s%d", i%3),
		Kind:    kinds[i%len(kinds)],
		Actor:   actors[i%len(actors)],
		Summary: fmt.Sprintf("event number %d", i),
		Detail:  []byte(fmt.Sprintf(`{"n": %d, "argv": ["ls", "-la"], "note": "<&>"}`, i)),
	}
}

// appendN appends n test events and returns them as stored.
func appendN(t *testing.T, s *Store, n int) []Event {
	t.Helper()
	evs := make([]Event, n)
	for i := range n {
		ev, err := s.Append(context.Background(), testEvent(i))
		if err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
		evs[i] = ev
	}
	return evs
}

// verify runs Verify and fails the test on an error.
func verify(t *testing.T, s *Store) Report {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// wantOK fails the test unless rep is clean.
func wantOK(t *testing.T, rep Report, events int64) {
	t.Helper()
	if !rep.OK || rep.Events != events || rep.Problem != "" || rep.FirstBad != 0 {
		t.Fatalf("Verify: got %+v, want OK with %d events", rep, events)
	}
}

// rawDB opens path directly, the way someone tampering with the file would,
// with the append-only triggers dropped.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, `DROP TRIGGER IF EXISTS events_no_update`)
	mustExec(t, db, `DROP TRIGGER IF EXISTS events_no_delete`)
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("exec %q: %v", q, err)
	}
}

// readRaw reads the stored event at seq.
func readRaw(t *testing.T, db *sql.DB, seq int64) row {
	t.Helper()
	var r row
	if err := scanRow(db.QueryRow(`SELECT `+eventColumns+` FROM events WHERE seq = ?`, seq), &r); err != nil {
		t.Fatalf("read event %d: %v", seq, err)
	}
	return r
}

// writeRaw stores r at seq, replacing every column but seq.
func writeRaw(t *testing.T, db *sql.DB, seq int64, r row) {
	t.Helper()
	mustExec(t, db, `UPDATE events SET time = ?, group_slug = ?, session = ?, kind = ?, actor = ?,
		summary = ?, detail = ?, prev_hash = ?, hash = ? WHERE seq = ?`,
		r.time, r.group, r.session, r.kind, r.actor, r.summary, r.detail, r.prevHash, r.hash, seq)
}

// insertRaw inserts r as is.
func insertRaw(t *testing.T, db *sql.DB, r row) {
	t.Helper()
	mustExec(t, db, `INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.seq, r.time, r.group, r.session, r.kind, r.actor, r.summary, r.detail, r.prevHash, r.hash)
}

// forge returns an event at seq following prevHash, with a correct hash of its own.
func forge(seq int64, prevHash string) row {
	r := row{
		seq: seq, time: formatTime(time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)), kind: "exec.end",
		actor: "agent", summary: "nothing to see here", detail: "{}", prevHash: prevHash,
	}
	var h hasher
	h.seal(&r)
	return r
}
