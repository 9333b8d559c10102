//go:build !linux

package helper

import (
	"errors"
	"io"
)

// Serve runs only inside a Linux sandbox.
func Serve(in io.Reader, out io.Writer) error {
	return errors.New("the sandbox helper runs only on Linux")
}
