//go:build !unix

package llm

import (
	"io/fs"
	"os"
)

// openNoFollow opens path for reading; the regular-file check after it
// refuses anything else.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

// fileOwner is unknown off Unix: the mode check is all there is.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

// lockFile is a no-op off Unix.
func lockFile(string) (func(), error) { return func() {}, nil }
