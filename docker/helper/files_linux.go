package helper

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/hashicorp/yamux"
	"golang.org/x/sys/unix"
)

// serveFile reads or writes one file without following a symlink anywhere
// on its path, as the host does in a group folder.
func serveFile(st *yamux.Stream, req Request) {
	err := func() error {
		if req.Kind == KindReadFile {
			return readFile(st, req)
		}
		return writeFile(st, req)
	}()
	ex := Exit{}
	if err != nil {
		ex = Exit{Code: 1, Error: err.Error()}
		var en unix.Errno
		if errors.As(err, &en) {
			ex.Errno = unix.ErrnoName(en)
		}
	}
	_ = WriteJSON(st, FrameExit, ex)
}

func readFile(st *yamux.Stream, req Request) error {
	// O_NONBLOCK: opening a FIFO must not hang the call.
	f, err := openNoFollow(req.Path, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := regular(req.Path, fi); err != nil {
		return err
	}
	if fi.Size() > req.Limit {
		return fmt.Errorf("%s is %d bytes, more than the limit of %d: %w", req.Path, fi.Size(), req.Limit, unix.EFBIG)
	}
	buf := make([]byte, MaxFrame)
	for sent := int64(0); sent <= req.Limit; {
		n, err := f.Read(buf)
		if n > 0 {
			if werr := WriteFrame(st, FrameStdout, buf[:n]); werr != nil {
				return werr
			}
			sent += int64(n)
		}
		if err != nil {
			return nil
		}
	}
	return nil
}

func writeFile(st *yamux.Stream, req Request) error {
	mode := req.Mode & 0o777
	if mode == 0 {
		mode = 0o644
	}
	err := makeFoldersNoFollow(path.Dir(req.Path))
	var f *os.File
	if err == nil {
		f, err = openNoFollow(req.Path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NONBLOCK, mode)
	}
	if err != nil {
		// Read the data all the same, so the stream stays in step.
		drainStdin(st)
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil {
		err = regular(req.Path, fi)
	}
	if err != nil {
		drainStdin(st)
		return err
	}
	for {
		typ, p, err := ReadFrame(st, string([]byte{FrameStdin, FrameStdinEOF}))
		if err != nil {
			return err
		}
		if typ == FrameStdinEOF {
			return f.Close()
		}
		if _, err := f.Write(p); err != nil {
			drainStdin(st)
			return err
		}
	}
}

// regular refuses anything but a regular file, naming a folder as such.
func regular(p string, fi os.FileInfo) error {
	switch {
	case fi.IsDir():
		return fmt.Errorf("%s is a folder: %w", p, unix.EISDIR)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): %w", p, fi.Mode().Type(), unix.EINVAL)
	}
	return nil
}

// makeFoldersNoFollow makes the missing folders of an absolute path, as
// mkdir -p does, but never through a symlink: each folder is opened with
// O_NOFOLLOW from the one before it.
func makeFoldersNoFollow(p string) error {
	if p == "/" {
		return nil
	}
	dir, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer func() { unix.Close(dir) }()
	for _, part := range strings.Split(p[1:], "/") {
		next, err := openFolder(dir, part)
		if errors.Is(err, unix.ENOENT) {
			if err = unix.Mkdirat(dir, part, 0o777); err == nil || errors.Is(err, unix.EEXIST) {
				next, err = openFolder(dir, part)
			}
		}
		if err != nil {
			return explainOpen(p, err)
		}
		unix.Close(dir)
		dir = next
	}
	return nil
}

// openFolder opens the folder name in dir, refusing a symlink (ELOOP).
func openFolder(dir int, name string) (int, error) {
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOTDIR) {
		// O_NOFOLLOW|O_DIRECTORY says ENOTDIR for a symlink: say which.
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return -1, unix.ELOOP
		}
	}
	return fd, err
}

func drainStdin(st *yamux.Stream) {
	for {
		typ, _, err := ReadFrame(st, string([]byte{FrameStdin, FrameStdinEOF}))
		if err != nil || typ == FrameStdinEOF {
			return
		}
	}
}

// openNoFollow opens an absolute path refusing every symlink on the way:
// with openat2(RESOLVE_NO_SYMLINKS) where the kernel and the seccomp
// profile allow it, else one component at a time with O_NOFOLLOW.
func openNoFollow(p string, flags int, mode uint32) (*os.File, error) {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return nil, fmt.Errorf("%q must be a clean absolute path to a file", p)
	}
	flags |= unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &unix.OpenHow{Flags: uint64(flags), Mode: uint64(mode), Resolve: unix.RESOLVE_NO_SYMLINKS})
	if err == nil {
		return os.NewFile(uintptr(fd), p), nil
	}
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
		return nil, explainOpen(p, err)
	}
	dir, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(p[1:], "/")
	for _, part := range parts[:len(parts)-1] {
		next, err := openFolder(dir, part)
		unix.Close(dir)
		if err != nil {
			return nil, explainOpen(p, err)
		}
		dir = next
	}
	fd, err = unix.Openat(dir, parts[len(parts)-1], flags, mode)
	unix.Close(dir)
	if err != nil {
		return nil, explainOpen(p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

func explainOpen(p string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%s: a symlink (or a non-folder) is on the way; files are never opened through symlinks: %w", p, err)
	}
	return fmt.Errorf("%s: %w", p, err)
}
