//go:build !unix

package mounts

import (
	"errors"
	"os"
	"path/filepath"
)

// openScanRoot opens the root folder itself, refusing a symlink. Without
// openat this is best effort: a link swapped in between the check and the
// open is followed.
func openScanRoot(root string) (*os.File, error) {
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errors.New("not a folder")
	}
	return os.Open(root)
}

// openDirAt opens the folder name inside dir, refusing a symlink.
func openDirAt(dir *os.File, name string) (*os.File, error) {
	return openScanRoot(filepath.Join(dir.Name(), name))
}

// readLinkAt reads the target of the link name inside dir.
func readLinkAt(dir *os.File, name string) (string, error) {
	return os.Readlink(filepath.Join(dir.Name(), name))
}
