package store

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestVerifyTampering builds a 10-event chain, tampers with the database or the
// anchor the way someone with the files could, and checks that Verify names the
// right first bad event and problem.
func TestVerifyTampering(t *testing.T) {
	t.Parallel()
	const n = 10
	cases := []struct {
		name     string
		tamper   func(t *testing.T, db *sql.DB, anchorPath string)
		problem  Problem
		firstBad int64
	}{
		{"untouched", func(*testing.T, *sql.DB, string) {}, "", 0},
		{"anchor lagging after a crash", func(t *testing.T, db *sql.DB, ap string) {
			writeTestAnchor(t, ap, 7, readRaw(t, db, 7).hash)
		}, "", 0},
		{"edit summary", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET summary = 'rm -rf nothing' WHERE seq = 5`)
		}, ProblemEdited, 5},
		{"edit detail", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET detail = '{"n":4}' WHERE seq = 5`)
		}, ProblemEdited, 5},
		{"edit detail whitespace only", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET detail = replace(detail, ':', ': ') WHERE seq = 5`)
		}, ProblemEdited, 5},
		{"edit time", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET time = '2026-03-01T10:00:00.000000000Z' WHERE seq = 6`)
		}, ProblemEdited, 6},
		{"edit actor", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET actor = 'user' WHERE seq = 3`)
		}, ProblemEdited, 3},
		{"edit stored hash", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET hash = ? WHERE seq = 4`, strings.Repeat("ab", 32))
		}, ProblemEdited, 4},
		{"edit first event", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET group_slug = 'oss' WHERE seq = 1`)
		}, ProblemEdited, 1},
		{"edit head", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET session = 'x' WHERE seq = 10`)
		}, ProblemEdited, 10},
		{"delete middle event", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events WHERE seq = 5`)
		}, ProblemDeleted, 5},
		{"delete three middle events", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events WHERE seq BETWEEN 4 AND 6`)
		}, ProblemDeleted, 4},
		{"delete first event", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events WHERE seq = 1`)
		}, ProblemDeleted, 1},
		{"delete and renumber the rest", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events WHERE seq = 5`)
			mustExec(t, db, `UPDATE events SET seq = seq - 1 WHERE seq > 5`)
		}, ProblemDeleted, 5},
		{"forged event appended with a wrong link", func(t *testing.T, db *sql.DB, _ string) {
			insertRaw(t, db, forge(n+1, strings.Repeat("0f", 32)))
		}, ProblemInserted, n + 1},
		{"forged event replacing one, wrong link", func(t *testing.T, db *sql.DB, _ string) {
			writeRaw(t, db, 5, forge(5, strings.Repeat("0f", 32)))
		}, ProblemInserted, 5},
		{"forged event spliced in, later events renumbered", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET seq = seq + 1000 WHERE seq >= 5`)
			mustExec(t, db, `UPDATE events SET seq = seq - 999 WHERE seq >= 1000`)
			insertRaw(t, db, forge(5, readRaw(t, db, 4).hash))
		}, ProblemInserted, 5},
		{"event rewritten and re-hashed", func(t *testing.T, db *sql.DB, _ string) {
			writeRaw(t, db, 5, forge(5, readRaw(t, db, 4).hash))
		}, ProblemEdited, 5},
		{"swap two events", func(t *testing.T, db *sql.DB, _ string) {
			swapRaw(t, db, 3, 7)
		}, ProblemReordered, 3},
		{"swap neighbours", func(t *testing.T, db *sql.DB, _ string) {
			swapRaw(t, db, 4, 5)
		}, ProblemReordered, 4},
		{"swap the last two", func(t *testing.T, db *sql.DB, _ string) {
			swapRaw(t, db, 9, 10)
		}, ProblemReordered, 9},
		{"swap by renumbering", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `UPDATE events SET seq = 100 WHERE seq = 2`)
			mustExec(t, db, `UPDATE events SET seq = 2 WHERE seq = 6`)
			mustExec(t, db, `UPDATE events SET seq = 6 WHERE seq = 100`)
		}, ProblemReordered, 2},
		{"delete the last three", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events WHERE seq > 7`)
		}, ProblemTruncated, 8},
		{"delete every event", func(t *testing.T, db *sql.DB, _ string) {
			mustExec(t, db, `DELETE FROM events`)
		}, ProblemTruncated, 1},
		{"anchor rewritten with another hash", func(t *testing.T, db *sql.DB, ap string) {
			writeTestAnchor(t, ap, n, strings.Repeat("cd", 32))
		}, ProblemAnchor, n},
		{"anchor moved back with a wrong hash", func(t *testing.T, db *sql.DB, ap string) {
			writeTestAnchor(t, ap, 4, readRaw(t, db, 5).hash)
		}, ProblemAnchor, 4},
		{"anchor moved forward", func(t *testing.T, db *sql.DB, ap string) {
			writeTestAnchor(t, ap, n+5, strings.Repeat("cd", 32))
		}, ProblemTruncated, n + 1},
		{"anchor replaced with garbage", func(t *testing.T, db *sql.DB, ap string) {
			if err := os.WriteFile(ap, []byte("not json\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ProblemAnchor, 0},
		{"anchor deleted", func(t *testing.T, db *sql.DB, ap string) {
			if err := os.Remove(ap); err != nil {
				t.Fatal(err)
			}
		}, ProblemAnchor, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			s := openStore(t, path, Options{})
			appendN(t, s, n)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, path)
			tc.tamper(t, db, path+".anchor")
			db.Close()

			rep := verify(t, openReader(t, path))
			if rep.Problem != tc.problem || rep.FirstBad != tc.firstBad || rep.OK != (tc.problem == "") {
				t.Fatalf("Verify: got problem %q at %d (%s), want %q at %d", rep.Problem, rep.FirstBad, rep.Reason, tc.problem, tc.firstBad)
			}
			if rep.Reason == "" {
				t.Errorf("Verify: got an empty reason")
			}
			if tc.firstBad > 0 && !strings.Contains(rep.Reason, strconv.FormatInt(tc.firstBad, 10)) {
				t.Errorf("Verify reason %q does not name event %d", rep.Reason, tc.firstBad)
			}
			if tc.firstBad > 0 && rep.Events != tc.firstBad-1 && tc.problem != ProblemAnchor && tc.problem != ProblemTruncated {
				t.Errorf("Verify: got %d intact events, want %d", rep.Events, tc.firstBad-1)
			}
		})
	}
}

// TestVerifyTamperingAcrossRanges checks that a problem in any of the ranges
// Verify walks in parallel, or on the cut between two, is found and diagnosed
// like any other.
func TestVerifyTamperingAcrossRanges(t *testing.T) {
	t.Parallel()
	const n = 40 // cut into 1..10, 11..20, 21..30, 31..40
	cases := []struct {
		name     string
		tamper   func(t *testing.T, db *sql.DB)
		problem  Problem
		firstBad int64
	}{
		{"untouched", func(*testing.T, *sql.DB) {}, "", 0},
		{"swap across a cut", func(t *testing.T, db *sql.DB) { swapRaw(t, db, 20, 21) }, ProblemReordered, 20},
		{"delete the last of a range", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `DELETE FROM events WHERE seq = 20`)
		}, ProblemDeleted, 20},
		{"delete the first of a range", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `DELETE FROM events WHERE seq = 21`)
		}, ProblemDeleted, 21},
		{"delete a whole range", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `DELETE FROM events WHERE seq BETWEEN 11 AND 20`)
		}, ProblemDeleted, 11},
		{"edits in two ranges: the first wins", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `UPDATE events SET summary = 'x' WHERE seq IN (15, 35)`)
		}, ProblemEdited, 15},
		{"edit in the last range", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `UPDATE events SET summary = 'x' WHERE seq = 35`)
		}, ProblemEdited, 35},
		{"forged event spliced in at a cut", func(t *testing.T, db *sql.DB) {
			mustExec(t, db, `UPDATE events SET seq = seq + 1000 WHERE seq >= 21`)
			mustExec(t, db, `UPDATE events SET seq = seq - 999 WHERE seq >= 1000`)
			mustExec(t, db, `DELETE FROM events WHERE seq = 41`)
			insertRaw(t, db, forge(21, readRaw(t, db, 20).hash))
		}, ProblemInserted, 21},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := dbPath(t)
			s := openStore(t, path, Options{})
			appendN(t, s, n)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, rawDB(t, path))

			r := openReader(t, path)
			r.minSpan = 10
			rep, err := r.verify(context.Background(), 4)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem != tc.problem || rep.FirstBad != tc.firstBad {
				t.Fatalf("Verify: got %q at %d (%s), want %q at %d", rep.Problem, rep.FirstBad, rep.Reason, tc.problem, tc.firstBad)
			}
			if want := max(tc.firstBad-1, 0); tc.problem != "" && rep.Events != want {
				t.Errorf("Verify: got %d intact events, want %d", rep.Events, want)
			}
		})
	}
}

func swapRaw(t *testing.T, db *sql.DB, a, b int64) {
	t.Helper()
	ra, rb := readRaw(t, db, a), readRaw(t, db, b)
	writeRaw(t, db, a, rb)
	writeRaw(t, db, b, ra)
}

func writeTestAnchor(t *testing.T, path string, seq int64, hash string) {
	t.Helper()
	if err := writeAnchor(path, anchor{Seq: seq, Hash: hash}); err != nil {
		t.Fatal(err)
	}
}
