// Package safefs reads and writes files inside a folder without ever
// following a symlink below it.
//
// Berth reads and writes group folders and read-write mounts on the host,
// folders the sandbox can also write to. A sandbox could plant
// MEMORY.md -> /etc/passwd, or notes -> /home/u/.ssh, and wait for the host
// to follow it. ReadFile and WriteFile walk the relative path one component
// at a time with openat(2) and O_NOFOLLOW, so every symlink below root is
// refused with ErrSymlink, wherever it points.
//
// Go's os.Root does not suffice: it refuses links that escape the root but
// follows those that stay inside it, so a planted MEMORY.md -> notes/x
// would still be read and written through.
package safefs

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrSymlink is returned, wrapped with the offending path, when a component
// of the path is a symlink.
var ErrSymlink = errors.New("symlink refused")

// ErrBadPath is returned when rel is not a clean relative path that stays
// inside root.
var ErrBadPath = errors.New("path must be relative, clean and stay inside the folder")

// ErrNotRegular is returned when the file to read or replace is a folder,
// a socket, a pipe or a device rather than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// checkRel makes sure there is a root and that rel is a clean, relative,
// local path naming something below it.
func checkRel(root, rel string) error {
	if root == "" {
		return fmt.Errorf("no folder given: %w", ErrBadPath)
	}
	if rel == "" || rel == "." || filepath.Clean(rel) != rel || !filepath.IsLocal(rel) {
		return fmt.Errorf("%q: %w", rel, ErrBadPath)
	}
	return nil
}
