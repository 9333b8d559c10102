//go:build linux

package docker

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// hostIdentity opens an absolute host path one component at a time with
// O_PATH|O_NOFOLLOW, so that a symlink anywhere on the way is refused
// rather than followed, and returns the device and inode it ends at.
func hostIdentity(path string) (dev, ino uint64, err error) {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return 0, 0, fmt.Errorf("%q is not a clean absolute path", path)
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("open /: %w", err)
	}
	defer func() { unix.Close(fd) }()
	for _, c := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if c == "" {
			continue
		}
		next, err := unix.Openat(fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, 0, fmt.Errorf("open %s: %w", path, err)
		}
		unix.Close(fd)
		fd = next
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return 0, 0, fmt.Errorf("stat %s: %w", path, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return 0, 0, fmt.Errorf("%s: %q is a symlink now", path, c)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Dev, st.Ino, nil
}

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
