package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"syscall"
	"time"

	"github.com/berth-app/berth/docker/helper"
)

// ErrNoHelper is returned by the helper's file operations when the sandbox
// has no helper (ExecPath says why).
var ErrNoHelper = errors.New("the sandbox has no helper")

// FileError is a file operation the helper refused or that failed inside
// the sandbox: the file is missing, a symlink is on the way, it is a
// folder, too large, on a read-only mount… Errno names the reason when the
// helper gave one Berth knows (0 otherwise); Msg is the helper's message,
// bounded. It is the sandbox's answer, not a broken channel: errors that
// are not a FileError mean the call could not run.
type FileError struct {
	Path  string
	Errno syscall.Errno
	Msg   string
}

func (e *FileError) Error() string { return e.Msg }

// Unwrap lets errors.Is match the errno (and fs.ErrNotExist, fs.ErrPermission).
func (e *FileError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Is makes a file over the limit an ErrFileTooLarge too.
func (e *FileError) Is(target error) bool {
	return target == ErrFileTooLarge && e.Errno == syscall.EFBIG
}

// fileErrnos are the reasons the helper may give, by name: names, not
// numbers, since the host's numbers may differ from Linux's. Any other
// name is kept in the message only.
var fileErrnos = map[string]syscall.Errno{
	"ENOENT": syscall.ENOENT, "EACCES": syscall.EACCES, "EPERM": syscall.EPERM, "ELOOP": syscall.ELOOP,
	"ENOTDIR": syscall.ENOTDIR, "EISDIR": syscall.EISDIR, "EROFS": syscall.EROFS, "EFBIG": syscall.EFBIG,
	"ENOSPC": syscall.ENOSPC, "EEXIST": syscall.EEXIST, "EINVAL": syscall.EINVAL, "ENAMETOOLONG": syscall.ENAMETOOLONG,
	"EDQUOT": syscall.EDQUOT, "ENXIO": syscall.ENXIO,
}

// maxFileErrorMsg bounds the helper's message kept in a FileError.
const maxFileErrorMsg = 512

func fileError(p string, ex helper.Exit) *FileError {
	msg := ex.Error
	if len(msg) > maxFileErrorMsg {
		msg = msg[:maxFileErrorMsg] + "…"
	}
	return &FileError{Path: p, Errno: fileErrnos[ex.Errno], Msg: msg}
}

// ReadFileNoFollow reads a regular file inside the sandbox through its
// helper, refusing a symlink anywhere on the path (openat2 with
// RESOLVE_NO_SYMLINKS, or O_NOFOLLOW on every component) and anything
// larger than limit bytes. The sandbox's refusals are *FileError.
func (c *Client) ReadFileNoFollow(ctx context.Context, sandboxID, p string, limit int64) ([]byte, error) {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return nil, fmt.Errorf("read file: %q must be a clean absolute path", p)
	}
	res, ex, err := c.fileCall(ctx, sandboxID, helper.Request{Kind: helper.KindReadFile, Path: p, Limit: limit}, ExecRequest{}, int(limit))
	switch {
	case errors.Is(err, ErrNoHelper):
		return nil, fmt.Errorf("read file %s: %w", p, err)
	case err != nil:
		return nil, c.fileCallErr(ctx, sandboxID, "read file "+p, err)
	case ex.Error != "":
		return nil, fileError(p, ex)
	case res.Stdout.Total > limit || res.Stdout.Truncated:
		return nil, &FileError{Path: p, Errno: syscall.EFBIG, Msg: fmt.Sprintf("%s: %v: more than the limit of %d bytes", p, ErrFileTooLarge, limit)}
	}
	return res.Stdout.Data, nil
}

// WriteFileNoFollow creates or replaces a regular file inside the sandbox
// through its helper, making its missing folders as mkdir -p does, and
// refusing a symlink anywhere on the path. The sandbox's refusals are
// *FileError.
func (c *Client) WriteFileNoFollow(ctx context.Context, sandboxID, p string, data []byte, mode uint32) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("write file: %q must be a clean absolute path", p)
	}
	_, ex, err := c.fileCall(ctx, sandboxID, helper.Request{Kind: helper.KindWriteFile, Path: p, Mode: mode, Stdin: true},
		ExecRequest{Stdin: bytes.NewReader(data)}, 4096)
	switch {
	case errors.Is(err, ErrNoHelper):
		return fmt.Errorf("write file %s: %w", p, err)
	case err != nil:
		return c.fileCallErr(ctx, sandboxID, "write file "+p, err)
	case ex.Error != "":
		return fileError(p, ex)
	}
	return nil
}

// fileCall runs one file operation over the sandbox's helper; a channel
// found dead before the call reached it is replaced once, as for commands.
func (c *Client) fileCall(ctx context.Context, sandboxID string, hreq helper.Request, req ExecRequest, limit int) (ExecResult, helper.Exit, error) {
	for attempt := 0; ; attempt++ {
		h := c.helperFor(ctx, sandboxID, true)
		if h == nil {
			return ExecResult{}, helper.Exit{}, ErrNoHelper
		}
		res, ex, err := h.call(ctx, hreq, req, limit)
		if errors.Is(err, errNotStarted) && attempt == 0 {
			h.fail(err)
			continue
		}
		return res, ex, err
	}
}

// fileCallErr names why a file call's channel broke, as for a command: the
// sandbox or the engine went away, or the helper alone (the next call
// starts a fresh one).
func (c *Client) fileCallErr(ctx context.Context, sandboxID, what string, err error) error {
	if errors.Is(err, ErrHelperLost) {
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, ierr := c.InspectSandbox(ictx, sandboxID); errors.Is(ierr, ErrSandboxGone) {
			return fmt.Errorf("%s: %w (%v)", what, ErrSandboxGone, err)
		} else if ierr != nil {
			return fmt.Errorf("%s: %w: %v", what, ErrEngineLost, errors.Join(err, ierr))
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
