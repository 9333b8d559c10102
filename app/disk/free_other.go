//go:build !unix

package disk

import "errors"

// Free is not implemented on this platform: callers treat its error as
// "cannot tell", which the disk guard reports instead of guessing.
func Free(path string) (Space, error) {
	return Space{Path: path}, errors.New("free space: not supported on this platform")
}
