package mounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Default scan limits.
const (
	DefaultMaxFiles = 20000
	DefaultMaxTime  = 2 * time.Second
	DefaultMaxDepth = 64
)

// ScanLimits bound a Scan. Zero values mean the defaults.
type ScanLimits struct {
	MaxFiles int           // files and folders visited; default 20000
	MaxTime  time.Duration // default 2s
	MaxDepth int           // folder levels below the root; default 64
}

// ScanResult is what Scan found in a folder.
type ScanResult struct {
	// Masked lists secret-looking files and secret folders (ending in "/"),
	// plus sockets, pipes and devices, relative to the scanned root,
	// slash-separated and sorted. Hand it to MaskTargets.
	Masked []string
	// Symlinks lists links (relative, sorted) whose target lies outside
	// the scanned root. The sandbox sees them dangle, since their targets
	// are not mounted; the user should still know they are there.
	Symlinks        []string
	Files           int   // files, links and special files seen
	Dirs            int   // folders seen, the root not included
	Bytes           int64 // total size of the regular files seen
	Truncated       bool  // the scan stopped at a limit: unseen files were not checked
	TruncatedReason string
	Limit           string `json:",omitempty"` // which limit stopped it: LimitFiles, LimitTime, LimitDepth, LimitCancelled
}

// The limits a scan can hit (ScanResult.Limit).
const (
	LimitFiles     = "files"
	LimitTime      = "time"
	LimitDepth     = "depth"
	LimitCancelled = "cancelled"
)

// Incomplete says, with a fix, why a scan cannot be trusted to have found
// every secret, or "" when it saw everything. Masking fails closed: a mount
// whose scan is incomplete is refused, never mounted with the masks found
// so far. setting names where the file limit is raised.
func (r ScanResult) Incomplete(lim ScanLimits, setting string) string {
	if !r.Truncated {
		return ""
	}
	switch r.Limit {
	case LimitFiles:
		return fmt.Sprintf("this folder has more than %d files and folders, so it cannot be fully checked for secrets; mount a smaller folder or raise the limit (%s) in Settings",
			cmp.Or(lim.MaxFiles, DefaultMaxFiles), setting)
	case LimitTime:
		return fmt.Sprintf("checking this folder for secrets took longer than %s; mount a smaller folder", cmp.Or(lim.MaxTime, DefaultMaxTime))
	case LimitDepth:
		return fmt.Sprintf("this folder nests deeper than %d levels, so it cannot be fully checked for secrets; mount a folder further down", cmp.Or(lim.MaxDepth, DefaultMaxDepth))
	}
	return "the check for secrets did not finish (" + r.TruncatedReason + "); try again"
}

// Scan walks the folder root (already resolved by the caller) and lists
// what must be masked in the sandbox. It never follows a symlink: folders
// are opened one level at a time relative to their parent with
// O_NOFOLLOW, so a link swapped in during the walk is refused, not walked.
// Secret folders are masked whole and not descended into. Unreadable
// folders are skipped: the sandbox, running as the same user without
// capabilities, cannot read them either. When a limit is hit the result so
// far is returned with Truncated set; a cancelled ctx also returns its
// error. A regular file as root is reported alone.
func Scan(ctx context.Context, root string, lim ScanLimits) (ScanResult, error) {
	return scan(ctx, root, lim, time.Now)
}

// scanner holds the state of one Scan.
type scanner struct {
	ctx      context.Context
	lim      ScanLimits
	now      func() time.Time
	deadline time.Time
	seen     int
	stopped  bool
	err      error
	res      ScanResult
}

// scan is Scan with an injectable clock.
func scan(ctx context.Context, root string, lim ScanLimits, now func() time.Time) (ScanResult, error) {
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = DefaultMaxFiles
	}
	if lim.MaxTime <= 0 {
		lim.MaxTime = DefaultMaxTime
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	fi, err := os.Lstat(root)
	if err != nil {
		return ScanResult{}, fmt.Errorf("scan folder: %w", err)
	}
	switch {
	case fi.Mode().IsRegular():
		res := ScanResult{Files: 1, Bytes: fi.Size()}
		if LooksSecret(filepath.Base(root)) {
			res.Masked = []string{"."}
		}
		return res, nil
	case !fi.IsDir():
		return ScanResult{}, fmt.Errorf("scan folder: %q is a %s, not a folder", root, kindOrLink(fi.Mode()))
	}
	dir, err := openScanRoot(root)
	if err != nil {
		return ScanResult{}, fmt.Errorf("scan folder: %w", err)
	}
	s := &scanner{ctx: ctx, lim: lim, now: now, deadline: now().Add(lim.MaxTime)}
	s.walk(dir, "", 1)
	sort.Strings(s.res.Masked)
	sort.Strings(s.res.Symlinks)
	if s.err != nil {
		return s.res, fmt.Errorf("scan folder: %w", s.err)
	}
	return s.res, nil
}

// walk lists dir (relative path rel, at depth levels below the root) in
// batches, so a huge folder cannot blow the limits, and closes it.
func (s *scanner) walk(dir *os.File, rel string, depth int) {
	defer dir.Close()
	for !s.stopped {
		ents, err := dir.ReadDir(256)
		for _, e := range ents {
			if s.stop() {
				return
			}
			s.visit(dir, rel, e, depth)
		}
		if err != nil {
			return // io.EOF, or unreadable: skipped
		}
	}
}

// stop reports whether a limit has been reached, recording which.
func (s *scanner) stop() bool {
	if s.stopped {
		return true
	}
	switch {
	case s.ctx.Err() != nil:
		s.err = s.ctx.Err()
		s.truncate(LimitCancelled, "the scan was cancelled")
	case s.seen >= s.lim.MaxFiles:
		s.truncate(LimitFiles, fmt.Sprintf("stopped after %d files and folders", s.lim.MaxFiles))
	case !s.now().Before(s.deadline):
		s.truncate(LimitTime, fmt.Sprintf("stopped after %s", s.lim.MaxTime))
	}
	return s.stopped
}

// truncate marks the scan as stopped early.
func (s *scanner) truncate(limit, why string) {
	s.stopped = true
	s.note(limit, why)
}

// note records that part of the folder was not scanned, keeping the first
// reason given.
func (s *scanner) note(limit, why string) {
	s.res.Truncated = true
	if s.res.TruncatedReason == "" {
		s.res.TruncatedReason = why + "; the rest was not checked for secrets"
		s.res.Limit = limit
	}
}

// visit looks at one entry of dir.
func (s *scanner) visit(dir *os.File, rel string, e fs.DirEntry, depth int) {
	s.seen++
	name := e.Name()
	p := path.Join(rel, name)
	t := e.Type()
	switch {
	case t&fs.ModeSymlink != 0:
		s.res.Files++
		if target, err := readLinkAt(dir, name); err == nil && escapes(p, target) {
			s.res.Symlinks = append(s.res.Symlinks, p)
		}
	case t.IsDir():
		s.res.Dirs++
		if looksSecretDir(name) {
			s.res.Masked = append(s.res.Masked, p+"/")
			return
		}
		child, err := openDirAt(dir, name)
		if err != nil {
			return // replaced by a link since listed, or unreadable
		}
		if depth >= s.lim.MaxDepth {
			if _, err := child.ReadDir(1); !errors.Is(err, io.EOF) {
				s.note(LimitDepth, fmt.Sprintf("folders deeper than %d levels were not scanned", s.lim.MaxDepth))
			}
			child.Close()
			return
		}
		s.walk(child, p, depth+1)
	case t.IsRegular():
		s.res.Files++
		if info, err := e.Info(); err == nil {
			s.res.Bytes += info.Size()
		}
		if LooksSecret(name) {
			s.res.Masked = append(s.res.Masked, p)
		}
	default:
		// A socket stays connectable on a read-only mount, and a device
		// node is a door to hardware: mask them all.
		s.res.Files++
		s.res.Masked = append(s.res.Masked, p)
	}
}

// escapes reports whether a link at rel with this target points outside
// the scanned root. An absolute target always does: inside the sandbox it
// names a container path, not the host one.
func escapes(rel, target string) bool {
	target = filepath.ToSlash(target)
	if path.IsAbs(target) || filepath.IsAbs(target) {
		return true
	}
	j := path.Join(path.Dir(rel), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

// kindOrLink names a non-folder, non-regular file type.
func kindOrLink(m fs.FileMode) string {
	if m&fs.ModeSymlink != 0 {
		return "symlink"
	}
	return kind(m)
}
