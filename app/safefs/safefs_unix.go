//go:build linux || darwin

package safefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ReadFile reads root/rel. root itself is trusted (resolved by the caller)
// and may be reached through links; below it no component of rel may be a
// symlink. Only regular files are read: a planted pipe cannot hang it.
func ReadFile(root, rel string) ([]byte, error) {
	if err := checkRel(root, rel); err != nil {
		return nil, err
	}
	dir, name := filepath.Split(rel)
	dfd, err := openDirs("read", root, dir, false)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, refusal("read", dfd, root, rel, name, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(root, rel))
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: %w", f.Name(), ErrNotRegular)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return data, nil
}

// WriteFile writes data to root/rel atomically: a temporary file in the
// same folder is written, synced and renamed over the old one, so a reader
// sees the old or the new content and a hard link to the old file is left
// alone. Missing parent folders are created as real folders. No component
// below root may be a symlink, the last one included: the link is refused,
// not replaced, and its target is untouched. perm applies to a new file
// (before the umask), as with os.WriteFile.
func WriteFile(root, rel string, data []byte, perm os.FileMode) error {
	if err := checkRel(root, rel); err != nil {
		return err
	}
	dir, name := filepath.Split(rel)
	dfd, err := openDirs("write", root, dir, true)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	switch err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
	case err != nil:
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), err)
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), ErrSymlink)
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), ErrNotRegular)
	}
	tmp, err := writeTemp(dfd, name, data, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), err)
	}
	// renameat replaces the name itself and never follows a link there, so
	// even a link planted after the check above is replaced, not written through.
	if err := unix.Renameat(dfd, tmp, dfd, name); err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("write %s: %w", filepath.Join(root, rel), err)
	}
	return nil
}

// writeTemp creates a fresh temporary file next to name inside dfd, writes
// and syncs data, and returns its name.
func writeTemp(dfd int, name string, data []byte, perm os.FileMode) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	tmp := "." + name + ".tmp-" + hex.EncodeToString(b[:])
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0)
		return "", err
	}
	return tmp, nil
}

// openDirs opens root, then each folder of dir below it with O_NOFOLLOW,
// creating missing ones when create is set, and returns the last one's fd.
func openDirs(op, root, dir string, create bool) (int, error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", op, root, err)
	}
	walked := ""
	for _, c := range strings.Split(filepath.ToSlash(dir), "/") {
		if c == "" {
			continue
		}
		walked = filepath.Join(walked, c)
		next, err := openDir(fd, c)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, c, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				next, err = openDir(fd, c)
			}
		}
		if err != nil {
			err = refusal(op, fd, root, walked, c, err)
			unix.Close(fd)
			return -1, err
		}
		unix.Close(fd)
		fd = next
	}
	return fd, nil
}

// openDir opens the folder name inside dfd without following a link.
func openDir(dfd int, name string) (int, error) {
	return unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// refusal turns an openat error on name (inside dfd) into an error for op
// naming root/rel, wrapping ErrSymlink when name turns out to be a symlink. Linux
// and macOS report a link under O_NOFOLLOW as ELOOP, or ENOTDIR when
// O_DIRECTORY is also set, so the entry is looked at to be sure.
func refusal(op string, dfd int, root, rel, name string, err error) error {
	full := filepath.Join(root, rel)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EMLINK) {
		var st unix.Stat_t
		if unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("%s %s: %w", op, full, ErrSymlink)
		}
	}
	return fmt.Errorf("%s %s: %w", op, full, err)
}
