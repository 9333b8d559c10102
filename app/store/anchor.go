package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// anchor is the head of the chain, {seq, hash}, as kept in the anchor file
// (the database path plus ".anchor").
//
// The writer rewrites the anchor after every commit, atomically (temporary file,
// fsync, rename), so the anchor is never ahead of a committed database. A fresh
// database gets the anchor {0, GenesisHash} before its first event, so from then
// on a missing anchor is never the normal state.
//
// A crash between a commit and the anchor write leaves the anchor one batch
// behind the database. That is allowed: an anchor behind the head whose hash
// matches the event it names is fine, and Open moves it to the head. The anchor
// ahead of the database (events cut off the end: "truncated"), a different hash
// at the anchored seq, or no readable anchor while events exist ("anchor") are
// tampering.
//
// The rename is not followed by an fsync of the folder: if a power cut loses
// the rename, the old anchor is back, which is the allowed lag.
//
// The anchor catches a cut tail by someone who did not also rewrite the anchor.
// Whoever can write both files can roll both back to an earlier, consistent
// point; only a copy of the head kept elsewhere (an export) defends against that.
type anchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// readAnchor reads and checks the anchor file. A missing file gives an error
// matching fs.ErrNotExist.
func readAnchor(path string) (anchor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return anchor{}, err
	}
	var a anchor
	if err := json.Unmarshal(b, &a); err != nil {
		return anchor{}, fmt.Errorf("anchor %s: %w", path, err)
	}
	if a.Seq < 0 || !isHash(a.Hash) {
		return anchor{}, fmt.Errorf("anchor %s: seq %d, hash %q: not a chain head", path, a.Seq, a.Hash)
	}
	return a, nil
}

// isHash reports whether h is 64 lowercase hex digits.
func isHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range []byte(h) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// writeAnchor replaces the anchor file atomically. The temporary file has a
// unique name, so even two processes writing anchors cannot mix their bytes.
func writeAnchor(path string, a anchor) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// checkAnchor compares the anchor (or the error reading it) with the chain's
// head. anchored is the database's hash for the event at a.Seq, "" if there is
// none. It returns "" when all is well, lag included.
func checkAnchor(path string, a anchor, aErr error, head anchor, anchored string) (p Problem, firstBad int64, reason string) {
	switch {
	case errors.Is(aErr, fs.ErrNotExist) && head.Seq == 0:
		return "", 0, ""
	case errors.Is(aErr, fs.ErrNotExist):
		return ProblemAnchor, 0, fmt.Sprintf("the anchor file %s is missing, so events cut from the end of the chain (after event %d) would go unnoticed", path, head.Seq)
	case aErr != nil:
		return ProblemAnchor, 0, fmt.Sprintf("the anchor file cannot be read (%v), so events cut from the end of the chain (after event %d) would go unnoticed", aErr, head.Seq)
	case a.Seq > head.Seq:
		cut := fmt.Sprintf("events %d to %d were removed", head.Seq+1, a.Seq)
		if a.Seq == head.Seq+1 {
			cut = fmt.Sprintf("event %d was removed", a.Seq)
		}
		return ProblemTruncated, head.Seq + 1, fmt.Sprintf("the anchor file says the chain reached event %d, but the database ends at %s: %s", a.Seq, eventName(head.Seq), cut)
	}
	if a.Seq == 0 {
		anchored = GenesisHash
	}
	if anchored == "" {
		return ProblemAnchor, a.Seq, fmt.Sprintf("event %d, named by the anchor file, is missing from the database", a.Seq)
	}
	if anchored != a.Hash {
		return ProblemAnchor, a.Seq, fmt.Sprintf("event %d has hash %.12s… in the database but %.12s… in the anchor file: either the anchor file or the chain up to event %d was rewritten", a.Seq, anchored, a.Hash, a.Seq)
	}
	return "", 0, ""
}

// reconcileAnchor runs at Open. A lagging anchor (the crash window) is moved
// to the head. An anchor that shows tampering is not silently overwritten: the
// finding goes on the chain as an "audit.anchor" event (returned, to be queued
// first), which re-anchors once committed; Verify lists such events.
func (s *Store) reconcileAnchor(ctx context.Context) (*row, error) {
	// Temporary files left by a crash in the middle of writeAnchor.
	if stale, err := filepath.Glob(s.anchorPath + ".tmp*"); err == nil {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	head, err := readHead(ctx, s.r)
	if err != nil {
		return nil, err
	}
	a, aErr := readAnchor(s.anchorPath)
	var anchored string
	if aErr == nil && a.Seq > 0 && a.Seq <= head.Seq {
		err := s.r.QueryRowContext(ctx, `SELECT hash FROM events WHERE seq = ?`, a.Seq).Scan(&anchored)
		if err != nil && !errors.Is(err, sql.ErrNoRows) { // a missing event is a finding, not a failure
			return nil, fmt.Errorf("read event %d: %w", a.Seq, err)
		}
	}
	p, _, reason := checkAnchor(s.anchorPath, a, aErr, head, anchored)
	if p == "" {
		if aErr != nil || a != head {
			// A failure here (disk full) is no reason to refuse to start: the
			// anchor only lags, and the next commit tries again.
			if err := writeAnchor(s.anchorPath, head); err != nil {
				s.fail(fmt.Errorf("write audit anchor: %w", err))
			}
		}
		return nil, nil
	}
	s.fail(fmt.Errorf("audit anchor %s: %s", s.anchorPath, reason))
	detail, err := json.Marshal(map[string]any{
		"problem": p, "reason": reason,
		"anchor_seq": a.Seq, "anchor_hash": a.Hash, "anchor_error": errString(aErr),
		"db_seq": head.Seq, "db_hash": head.Hash,
	})
	if err != nil {
		return nil, err
	}
	notice, err := prepare(Event{
		Kind:    kindAnchorReset,
		Actor:   ActorSystem,
		Summary: "audit anchor did not match the chain at start-up (" + string(p) + "); re-anchored",
		Detail:  detail,
	})
	return &notice, err
}

// kindAnchorReset is the event kind that records an anchor found tampered at Open.
const kindAnchorReset = "audit.anchor"

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
