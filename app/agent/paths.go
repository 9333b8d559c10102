package agent

import (
	"errors"
	"path"
	"strings"
)

// containerPath turns a path the model gave into a clean, absolute path
// inside the sandbox: a relative path is taken from GroupDir. The sandbox is
// the boundary, so any container path is allowed.
func containerPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("the path is empty")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", errors.New("the path contains a NUL byte")
	}
	if !path.IsAbs(p) {
		p = path.Join(GroupDir, p)
	}
	return path.Clean(p), nil
}

// optionalPath is containerPath with GroupDir for an absent or empty path.
func optionalPath(p *string) (string, error) {
	if p == nil || *p == "" {
		return GroupDir, nil
	}
	return containerPath(*p)
}
