package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"github.com/berth-app/berth/docker/dockertest"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestOpenReconcilesAnchor checks what Open does with the anchor it finds: a
// lagging one (the crash window) is moved to the head quietly; one that shows
// tampering is put on the chain as an audit.anchor event before re-anchoring.
func TestOpenReconcilesAnchor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tamper  func(t *testing.T, path string)
		problem Problem // of the audit.anchor event; "" for none
		broken  Problem // what Verify still finds in the chain afterwards
	}{
		{"anchor at the head", func(*testing.T, string) {}, "", ""},
		{"anchor lagging", func(t *testing.T, path string) {
			writeTestAnchor(t, path+".anchor", 3, readRaw(t, rawDB(t, path), 3).hash)
		}, "", ""},
		{"anchor deleted", func(t *testing.T, path string) { os.Remove(path + ".anchor") }, ProblemAnchor, ""},
		{"anchor garbage", func(t *testing.T, path string) { os.WriteFile(path+".anchor", []byte("{"), 0o600) }, ProblemAnchor, ""},
		{"anchored event deleted", func(t *testing.T, path string) {
			db := rawDB(t, path)
			writeTestAnchor(t, path+".anchor", 3, readRaw(t, db, 3).hash)
			mustExec(t, db, `DELETE FROM events WHERE seq = 3`)
		}, ProblemAnchor, ProblemDeleted},
		{"tail cut", func(t *testing.T, path string) {
			mustExec(t, rawDB(t, path), `DELETE FROM events WHERE seq > 3`)
		}, ProblemTruncated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			s := openStore(t, path, Options{})
			appendN(t, s, 5)
			s.Close()
			tc.tamper(t, path)

			var reported error
			s = openStore(t, path, Options{OnError: func(err error) { reported = err }})
			if err := s.Close(); err != nil { // Close waits for the notice to commit
				t.Fatal(err)
			}
			r := openReader(t, path)
			rep := verify(t, r)
			if rep.Problem != tc.broken || rep.AnchorSeq != rep.HeadSeq {
				t.Fatalf("Verify after Open: got %+v, want problem %q with the anchor at the head", rep, tc.broken)
			}
			notices, err := r.Events(context.Background(), Filter{Kind: "audit.anchor"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.problem == "" {
				if len(notices) != 0 || reported != nil || len(rep.AnchorResets) != 0 {
					t.Fatalf("got notices %+v, error %v, resets %v; want none", notices, reported, rep.AnchorResets)
				}
				return
			}
			if len(notices) != 1 || reported == nil {
				t.Fatalf("got notices %+v, error %v; want one of each", notices, reported)
			}
			var d struct{ Problem Problem }
			if err := json.Unmarshal(notices[0].Detail, &d); err != nil || d.Problem != tc.problem {
				t.Errorf("notice detail %s: got problem %q, want %q", notices[0].Detail, d.Problem, tc.problem)
			}
			if tc.broken == "" && (len(rep.AnchorResets) != 1 || rep.AnchorResets[0] != notices[0].Seq) {
				t.Errorf("Verify AnchorResets: got %v, want [%d]", rep.AnchorResets, notices[0].Seq)
			}
		})
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	s := openStore(t, dbPath(t), Options{})
	evs := appendN(t, s, 5)
	ctx := context.Background()

	var jl bytes.Buffer
	if err := s.Export(ctx, &jl, "jsonl"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(jl.String()), "\n")
	if len(lines) != len(evs) {
		t.Fatalf("jsonl: got %d lines, want %d", len(lines), len(evs))
	}
	// An export is enough to check the chain without Berth's database.
	prev := GenesisHash
	var h hasher
	for i, line := range lines {
		var rec exportRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("jsonl line %d: %v", i+1, err)
		}
		r := row{rec.Seq, rec.Time, rec.Group, rec.Session, rec.Kind, rec.Actor, rec.Summary, string(rec.Detail), rec.PrevHash, rec.Hash}
		if r.prevHash != prev || !h.matches(&r) || r.hash != evs[i].Hash {
			t.Fatalf("jsonl line %d does not verify on its own: %s", i+1, line)
		}
		prev = r.hash
	}
	if !strings.Contains(lines[0], `"note":"<&>"`) {
		t.Errorf("jsonl: got %s, want the detail unescaped as stored", lines[0])
	}

	var cb bytes.Buffer
	if err := s.Export(ctx, &cb, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(evs)+1 || strings.Join(recs[0], ",") != strings.Join(exportColumns, ",") {
		t.Fatalf("csv: got %d records starting %v, want a header and %d rows", len(recs), recs[0], len(evs))
	}
	if got := recs[3]; got[0] != "3" || got[7] != string(evs[2].Detail) || got[9] != evs[2].Hash {
		t.Errorf("csv row 3: got %v, want seq 3, detail %s, hash %s", got, evs[2].Detail, evs[2].Hash)
	}

	// A tampered detail that is not JSON any more is still exported, as text.
	mustExec(t, rawDB(t, s.Path()), `UPDATE events SET detail = 'not {json' WHERE seq = 2`)
	jl.Reset()
	if err := s.Export(ctx, &jl, "jsonl"); err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(jl.String(), "\n")[1]; !json.Valid([]byte(line)) || !strings.Contains(line, `"detail":"not {json"`) {
		t.Errorf("jsonl of a tampered event: got %s, want valid JSON with the detail as a string", line)
	}

	if err := s.Export(ctx, &cb, "xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("Export xml: got %v, want an unknown format error", err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	s.Close()
	s = openStore(t, path, Options{}) // a second Open applies nothing twice
	s.Close()
	db := rawDB(t, path)
	var n, v int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if n != len(ms) || v != ms[len(ms)-1].version {
		t.Fatalf("schema_migrations: got %d rows up to %d, want %d up to %d", n, v, len(ms), ms[len(ms)-1].version)
	}
	for _, table := range []string{"groups", "mounts", "sessions", "messages", "events"} {
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
	mustExec(t, db, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`)
	db.Close()
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: got %v, want a clear refusal naming %s", err, path)
	}
	wantOK(t, verify(t, openReader(t, path)), 0) // reading it is still fine
}

// TestOpenBadFiles feeds Open and OpenReadOnly files that are not Berth
// databases: each must fail with an error naming the file, never panic.
func TestOpenBadFiles(t *testing.T) {
	t.Parallel()
	noise := make([]byte, 8192)
	rand.Read(noise)
	good := filepath.Join(t.TempDir(), "good.db")
	s := openStore(t, good, Options{})
	appendN(t, s, 20)
	s.Close()
	header, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		content  []byte // nil: no file at all
		inFolder string // "" for a temporary folder
		writer   error  // wanted cause from Open; nil means Open succeeds
		reader   error  // wanted cause from OpenReadOnly
		text     string // wanted in both messages
	}{
		{"random bytes", noise, "", ErrNotDB, ErrNotDB, "not a database"},
		{"truncated header", header[:50], "", ErrCorrupt, ErrCorrupt, "malformed"},
		{"cut after the first page", header[:4096], "", ErrCorrupt, ErrCorrupt, "malformed"},
		{"text file", []byte("hello, I am a config file\n"), "", ErrNotDB, ErrNotDB, "not a database"},
		{"missing file", nil, "", nil, fs.ErrNotExist, "no such file"},
		{"missing folder", nil, "/nonexistent-berth-folder", fs.ErrNotExist, fs.ErrNotExist, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.inFolder
			if dir == "" {
				dir = t.TempDir()
			}
			path := filepath.Join(dir, "berth.db")
			if tc.content != nil {
				if err := os.WriteFile(path, tc.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r, err := OpenReadOnly(path)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, tc.reader) || !strings.Contains(err.Error(), "open audit db "+path) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("OpenReadOnly: got %v, want %v (%q) naming %s", err, tc.reader, tc.text, path)
			}
			s, err := Open(path, Options{})
			if tc.writer == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.writer) || !strings.Contains(err.Error(), "open audit db "+path) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Open: got %v, want %v (%q) naming %s", err, tc.writer, tc.text, path)
			}
			if tc.content != nil {
				after, _ := os.ReadFile(path)
				if !bytes.Equal(after, tc.content) {
					t.Errorf("Open changed the bad file")
				}
			}
			if tc.name == "random bytes" {
				kept := dockertest.Kept{What: "bytes of the bad file", Acked: len(tc.content)}
				if after, _ := os.ReadFile(path); bytes.Equal(after, tc.content) {
					kept.Found = len(after)
				}
				dockertest.ReportFault(t, dockertest.Fault{Fault: "corrupt database file", Sees: err.Error(), Kept: kept,
					Chain:   dockertest.Chain{Unopened: "Open refused it, so nothing was written on top"},
					Orphans: dockertest.Orphans{NotApplicable: "no sandbox"}})
			}
		})
	}
}

// TestReadOnlyBesideWriter runs tail and verify from a read-only store while
// the app's store keeps appending.
func TestReadOnlyBesideWriter(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	w := openStore(t, path, Options{})
	appendN(t, w, 10)
	r := openReader(t, path)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				w.Record(testEvent(i))
			} else if _, err := w.Append(context.Background(), testEvent(i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	ctx := context.Background()
	var last int64
	for range 30 {
		rep := verify(t, r)
		if !rep.OK || rep.Events < last {
			t.Fatalf("Verify beside the writer: got %+v, want OK with at least %d events", rep, last)
		}
		last = rep.Events
		tail, err := r.Events(ctx, Filter{Limit: 5, Newest: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(tail) != 5 || tail[4].Seq < last {
			t.Fatalf("tail: got %d events ending at %d, want 5 ending at or after %d", len(tail), tail[len(tail)-1].Seq, last)
		}
	}
	close(stop)
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, r)
	if !rep.OK || rep.AnchorSeq != rep.HeadSeq || rep.Events <= 10 {
		t.Fatalf("Verify after the writer closed: got %+v, want OK, anchored at the head", rep)
	}
}

// TestOddPath checks that characters with a meaning in SQLite URIs are taken
// literally in the database path.
func TestOddPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "we?ird#dir%20&x=1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "berth.db")
	s := openStore(t, path, Options{})
	appendN(t, s, 3)
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode: got %v, want 0600 (it holds the user's chats)", fi.Mode().Perm())
	}
	wantOK(t, verify(t, openReader(t, path)), 3)
}
