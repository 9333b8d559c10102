package disk

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// FolderUsage is how much a folder holds.
type FolderUsage struct {
	Files    int    `json:"files"`    // files, links and other entries, folders not counted
	Folders  int    `json:"folders"`  // folders below the top one
	Bytes    uint64 `json:"bytes"`    // total size of its regular files
	Complete bool   `json:"complete"` // false: the walk stopped at the limit, the counts are a lower bound
}

// DefaultUsageLimit bounds how many entries Usage visits.
const DefaultUsageLimit = 200_000

var errLimit = errors.New("limit reached")

// Usage counts what dir holds, visiting at most limit entries (0:
// DefaultUsageLimit). It never follows a symbolic link (a link counts as a
// file of its own size), and entries it cannot read are skipped.
func Usage(dir string, limit int) (FolderUsage, error) {
	if limit <= 0 {
		limit = DefaultUsageLimit
	}
	var u FolderUsage
	seen := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // unreadable: skipped
		}
		if p == dir {
			return nil
		}
		if seen++; seen > limit {
			return errLimit
		}
		if d.IsDir() {
			u.Folders++
			return nil
		}
		u.Files++
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				u.Bytes += uint64(fi.Size())
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errLimit):
		return u, nil
	case err != nil:
		return u, err
	}
	u.Complete = true
	return u, nil
}
