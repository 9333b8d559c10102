//go:build !linux && !darwin

package safefs

import (
	"errors"
	"os"
)

// errUnsupported is returned where openat with O_NOFOLLOW is not wired up:
// refusing is safer than following links.
var errUnsupported = errors.New("safe file access is not supported on this system")

// ReadFile is not supported on this system.
func ReadFile(root, rel string) ([]byte, error) {
	return nil, errUnsupported
}

// WriteFile is not supported on this system.
func WriteFile(root, rel string, data []byte, perm os.FileMode) error {
	return errUnsupported
}
