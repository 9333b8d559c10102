package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Problem names what Verify found wrong.
type Problem string

// The problems Verify reports.
const (
	ProblemEdited    Problem = "edited"    // an event's content no longer matches its hash
	ProblemDeleted   Problem = "deleted"   // an event is missing (a gap in seq, or renumbered over)
	ProblemInserted  Problem = "inserted"  // an event with a self-consistent hash that does not link
	ProblemReordered Problem = "reordered" // an intact event at another event's position
	ProblemTruncated Problem = "truncated" // events cut off the end: the anchor is ahead of the database
	ProblemAnchor    Problem = "anchor"    // the anchor file is missing, unreadable or disagrees
)

// Report is what Verify found.
type Report struct {
	OK         bool
	Events     int64  // events checked and found intact
	HeadSeq    int64  // last event in the database
	HeadHash   string // its hash (GenesisHash when there are no events)
	AnchorSeq  int64  // what the anchor file says, when it could be read
	AnchorHash string
	FirstBad   int64   // first bad seq; 0 when OK or when no one event is at fault
	Problem    Problem // "" when OK
	Reason     string  // one sentence for a human
	// AnchorResets lists "audit.anchor" events: times Open found the anchor
	// file tampered with and re-anchored. The chain is intact, but someone may
	// have cut events before those points.
	AnchorResets []int64
}

// Verify walks the whole chain in seq order and checks every link, then
// compares the head with the anchor file. It stops at the first bad event and
// says what is wrong with it. It streams (memory does not grow with the chain),
// splits a long chain into ranges checked in parallel, and can run beside a
// writer.
//
// Detection is exact: a changed, missing, inserted or moved event makes Verify
// fail at or before it (see the package doc for what no unkeyed chain can
// catch). Naming the problem is a diagnosis from the evidence left, and can
// err when several tamperings overlap.
func (s *Store) Verify(ctx context.Context) (Report, error) {
	rep, err := s.verify(ctx, runtime.GOMAXPROCS(0))
	if err != nil {
		return Report{}, fmt.Errorf("verify %s: %w", s.path, classify(err))
	}
	return rep, nil
}

// verify checks the chain with up to procs ranges walked at once.
func (s *Store) verify(ctx context.Context, procs int) (Report, error) {
	// Read the anchor before the snapshot: the writer moves the anchor only
	// after a commit, so a snapshot taken later is never behind it.
	a, aErr := readAnchor(s.anchorPath)
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return Report{}, err
	}
	defer tx.Rollback()
	head, err := readHead(ctx, tx)
	if err != nil {
		return Report{}, err
	}
	// Events up to head never change (short of tampering), so ranges read in
	// separate transactions see the same events.
	ranges := split(head.Seq, procs, s.minSpan)
	parts := make([]walkReport, len(ranges))
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for i, rg := range ranges {
		wg.Go(func() {
			if i == 0 {
				parts[i], errs[i] = walk(ctx, tx, rg, row{hash: GenesisHash}, a)
				return
			}
			parts[i], errs[i] = s.walkFrom(ctx, rg, a)
		})
	}
	wg.Wait()
	rep := Report{HeadSeq: head.Seq, HeadHash: head.Hash}
	var anchored string
	for i, p := range parts {
		if errs[i] != nil {
			return Report{}, errs[i]
		}
		rep.AnchorResets = append(rep.AnchorResets, p.resets...)
		if p.anchored != "" {
			anchored = p.anchored
		}
		rep.Events = p.good
		if p.problem != "" {
			rep.Problem, rep.FirstBad, rep.Reason = p.problem, p.firstBad, p.reason
			break
		}
	}
	if aErr == nil {
		rep.AnchorSeq, rep.AnchorHash = a.Seq, a.Hash
	}
	if rep.Problem == "" {
		rep.Problem, rep.FirstBad, rep.Reason = checkAnchor(s.anchorPath, a, aErr, head, anchored)
	}
	rep.OK = rep.Problem == ""
	if rep.OK {
		rep.Reason = fmt.Sprintf("all %d events are intact and the chain ends where the anchor file says", rep.Events)
		if lag := rep.HeadSeq - rep.AnchorSeq; lag > 0 {
			rep.Reason = fmt.Sprintf("all %d events are intact; the anchor file lags the head by %d (it catches up after the next write)", rep.Events, lag)
		}
	}
	return rep, nil
}

// span is a range of seqs, both ends included.
type span struct{ lo, hi int64 }

// defaultMinSpan keeps short chains in one range: below it a second
// transaction costs more than it saves.
const defaultMinSpan = 100_000

// split cuts 1..head into at most n ranges of at least minSpan events.
func split(head int64, n int, minSpan int64) []span {
	n = max(1, min(n, 8, int(head/minSpan)))
	out := make([]span, n)
	lo := int64(1)
	for i := range n {
		hi := head * int64(i+1) / int64(n)
		out[i] = span{lo, hi}
		lo = hi + 1
	}
	return out
}

// walkFrom walks rg in its own transaction, starting from the event before it.
func (s *Store) walkFrom(ctx context.Context, rg span, a anchor) (walkReport, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return walkReport{}, err
	}
	defer tx.Rollback()
	var prev row
	err = scanRow(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq = ?`, rg.lo-1), &prev)
	if errors.Is(err, sql.ErrNoRows) {
		// The range before this one ends early and reports the same, or earlier.
		return walkReport{problem: ProblemDeleted, firstBad: rg.lo - 1,
			reason: fmt.Sprintf("event %d is missing", rg.lo-1)}, nil
	}
	if err != nil {
		return walkReport{}, err
	}
	return walk(ctx, tx, rg, prev, a)
}

// walkReport is what walking one range found.
type walkReport struct {
	good     int64 // last seq checked and found intact
	problem  Problem
	firstBad int64
	reason   string
	resets   []int64
	anchored string // hash of the event at the anchor's seq, if in range
}

// walk checks the events in rg link by link; prev is the event before rg.lo.
func walk(ctx context.Context, tx *sql.Tx, rg span, prev row, a anchor) (walkReport, error) {
	var rep walkReport
	rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq`, rg.lo, rg.hi)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	var h hasher
	var cur row
	bad := false
	for rows.Next() {
		if err := scanRow(rows, &cur); err != nil {
			return rep, err
		}
		if cur.seq != prev.seq+1 || cur.prevHash != prev.hash || !h.matches(&cur) {
			bad = true
			break
		}
		if cur.seq == a.Seq {
			rep.anchored = cur.hash
		}
		if cur.kind == kindAnchorReset {
			rep.resets = append(rep.resets, cur.seq)
		}
		prev = cur
	}
	rep.good = prev.seq
	var next *row
	if bad && rows.Next() {
		next = new(row)
		if err := scanRow(rows, next); err != nil {
			return rep, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	if !bad && prev.seq < rg.hi {
		// The range ended early: events are missing before the next one.
		err := scanRow(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT 1`, prev.seq), &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return rep, nil // the head itself is gone; the anchor check says so
		}
		if err != nil {
			return rep, err
		}
		bad = true
	}
	if bad {
		d := diagnosis{ctx: ctx, q: tx, h: &h, anchor: a}
		rep.problem, rep.firstBad, rep.reason, err = d.run(&prev, &cur, next)
		rep.good = min(rep.good, rep.firstBad-1)
	}
	return rep, err
}

// diagnosis names what is wrong at the first event that fails, using a few
// look-ups beyond the walk. It runs once, on failure only.
type diagnosis struct {
	ctx    context.Context
	q      querier
	h      *hasher
	anchor anchor
}

// run classifies cur, the first event that failed; prev is the last good one
// (seq 0 before the first event) and next the event after cur, if any.
func (d diagnosis) run(prev, cur, next *row) (Problem, int64, string, error) {
	k := prev.seq + 1
	if cur.seq != k {
		missing := fmt.Sprintf("event %d is missing", k)
		if cur.seq > k+1 {
			missing = fmt.Sprintf("events %d to %d are missing", k, cur.seq-1)
		}
		return ProblemDeleted, k, fmt.Sprintf("%s: after %s comes event %d", missing, eventName(k-1), cur.seq), nil
	}
	if k > 1 && cur.prevHash == prev.prevHash {
		return ProblemInserted, k - 1, fmt.Sprintf("event %d was inserted: it and event %d both claim to follow %s", k-1, k, eventName(k-2)), nil
	}
	if d.h.matches(cur) {
		// The hash covers seq, so a consistent event at k was written as event k:
		// either by Berth, and then its predecessor was replaced, or by a forger.
		written := next != nil && next.seq == k+1 && next.prevHash == cur.hash
		if !written {
			var err error
			if written, err = d.linkedTo(cur.hash, cur.seq); err != nil {
				return "", 0, "", err
			}
		}
		if written {
			return ProblemEdited, k - 1, fmt.Sprintf("event %d was rewritten and re-hashed: event %d, which is intact, follows a different event %d", k-1, k, k-1), nil
		}
		return ProblemInserted, k, fmt.Sprintf("event %d has a consistent hash but does not follow event %d: it was forged and added", k, k-1), nil
	}
	orig, err := d.writtenAs(cur)
	if err != nil {
		return "", 0, "", err
	}
	switch {
	case orig == 0:
		return ProblemEdited, k, fmt.Sprintf("event %d was changed after it was written: its content no longer matches its hash", k), nil
	case orig > k:
		moved, err := d.linkedTo(prev.hash, k)
		if err != nil {
			return "", 0, "", err
		}
		if !moved {
			return ProblemDeleted, k, fmt.Sprintf("the event written as %d is gone: event %d holds the event written as %d, so later events were renumbered to close a gap", k, k, orig), nil
		}
	}
	return ProblemReordered, k, fmt.Sprintf("event %d holds the event written as event %d: events were reordered", k, orig), nil
}

// eventName names seq in a reason; seq 0 is where the chain starts.
func eventName(seq int64) string {
	if seq == 0 {
		return "the start of the chain"
	}
	return fmt.Sprintf("event %d", seq)
}

// linkedTo reports whether an event other than seq names hash as its
// predecessor, or the anchor names it as the head.
func (d diagnosis) linkedTo(hash string, seq int64) (bool, error) {
	if d.anchor.Hash == hash {
		return true, nil
	}
	var n int64
	err := d.q.QueryRowContext(d.ctx, `SELECT seq FROM events WHERE prev_hash = ? AND seq <> ? LIMIT 1`, hash, seq).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// writtenAs finds the seq r's content was hashed with, if r is an intact
// event moved to another position; 0 if it is not.
func (d diagnosis) writtenAs(r *row) (int64, error) {
	cands := []int64{r.seq + 1, r.seq - 1}
	if r.prevHash == GenesisHash {
		cands = append(cands, 1)
	}
	for _, q := range []struct {
		sql   string
		arg   string
		shift int64
	}{
		{`SELECT seq FROM events WHERE hash = ? LIMIT 1`, r.prevHash, +1},
		{`SELECT seq FROM events WHERE prev_hash = ? LIMIT 1`, r.hash, -1},
	} {
		var n int64
		err := d.q.QueryRowContext(d.ctx, q.sql, q.arg).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		if err == nil {
			cands = append(cands, n+q.shift)
		}
	}
	for _, c := range cands {
		if c < 1 || c == r.seq {
			continue
		}
		moved := *r
		moved.seq = c
		if d.h.matches(&moved) {
			return c, nil
		}
	}
	return 0, nil
}
