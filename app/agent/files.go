package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileRequest is one whole-file read or write in the sandbox. Neither ever
// follows a symlink on the path; a write makes the file's missing folders.
type FileRequest struct {
	Path  string // clean and absolute
	Write bool
	Data  []byte // Write: the file's new content
	Limit int64  // read: refuse a larger file (a *FileError with EFBIG)
}

// FileResult is what a file operation did.
type FileResult struct {
	Data     []byte // read: the file's bytes
	Duration time.Duration
}

// FileError is the sandbox's refusal of a file operation: Errno names the
// reason (ENOENT, EACCES, ELOOP for a symlink on the way, EISDIR, EROFS,
// EFBIG…) or is 0; Msg says it in the sandbox's words.
type FileError struct {
	Errno syscall.Errno
	Msg   string
}

func (e *FileError) Error() string { return e.Msg }
func (e *FileError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// ErrNoFileOps is what Sandbox.File returns when the sandbox cannot read
// and write files by itself (no helper): the tools use their scripts.
var ErrNoFileOps = errors.New("the sandbox has no direct file operations")

// maxDirectRead is the largest file read_file reads whole through
// Sandbox.File; a larger one is read by its script, which streams.
const maxDirectRead = maxEditBytes

// file runs one file operation within the call's time limit.
func (x *executor) file(ctx context.Context, req FileRequest) (FileResult, error) {
	if x.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, x.callTimeout)
		defer cancel()
	}
	start := time.Now()
	res, err := x.sb.File(ctx, req)
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	return res, err
}

// noLinkScript is the scripts' side of the rule Sandbox.File keeps: a
// shell function that refuses a path with a symlink on it (exit 2, with
// noLinkMark on stderr). Only the docker exec path runs it.
const noLinkScript = `nolink() {
  p= rest=${1#/}
  while [ -n "$rest" ]; do
    c=${rest%%/*}; p=$p/$c
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
    [ -L "$p" ] && { echo "` + noLinkMark + `" >&2; exit 2; }
  done
  return 0
}
`

const noLinkMark = "berth-symlink"

// symlinkRefused reports whether a script refused its path for a symlink.
func symlinkRefused(res ExecResult) bool {
	return res.ExitCode == fileExitCode && strings.Contains(string(res.Stderr), noLinkMark)
}

// symlinkMessage is what the model reads about a path with a symlink on
// it, on either path.
func symlinkMessage(p string) string {
	return fmt.Sprintf("%s: a symlink is on the way; read_file, write_file and edit_file never follow symlinks "+
		"(use bash, for example `ls -l`, to see where it leads, and work on the real path)", p)
}

// fileOp says which file operation failed, for its message.
type fileOp string

const (
	opRead  fileOp = "read"
	opWrite fileOp = "written"
	opEdit  fileOp = "edited"
)

// fileExitCode is the exit code a refused file operation reports, as the
// scripts exit when they refuse.
const fileExitCode = 2

// fileFailed is the outcome of a file operation the sandbox refused or
// could not run: a FileError is told to the model in the tools' words,
// anything else means the sandbox could not run the call.
func fileFailed(p string, op fileOp, err error, res FileResult) outcome {
	var fe *FileError
	if !errors.As(err, &fe) {
		return sandboxFailed(err, ExecResult{Duration: res.Duration})
	}
	var msg string
	switch {
	case errors.Is(fe, syscall.ELOOP):
		msg = symlinkMessage(p)
	case errors.Is(fe, syscall.ENOENT) && op == opRead:
		msg = "no such file: " + p // as readScript says it
	case errors.Is(fe, syscall.ENOENT):
		msg = p + ": No such file or directory"
	case errors.Is(fe, syscall.EISDIR) && op == opRead:
		msg = p + " is a folder, not a file; use list_files to see what it holds"
	case errors.Is(fe, syscall.EISDIR):
		msg = p + " is a folder, not a file"
	case errors.Is(fe, syscall.EACCES) || errors.Is(fe, syscall.EPERM):
		msg = "permission denied: " + p + " cannot be " + string(op)
	case errors.Is(fe, syscall.EROFS):
		msg = p + ": Read-only file system"
	case errors.Is(fe, syscall.ENOTDIR):
		msg = p + ": a file is in the way where a folder should be (Not a directory)"
	default:
		msg = fe.Msg
	}
	return outcome{output: msg, isError: true, exitCode: fileExitCode, duration: res.Duration}
}

// readScriptOutput gives, for a whole file read through Sandbox.File, what
// readScript prints for it (its awk program, line for line), so that
// formatRead makes the same answer on both paths.
func readScriptOutput(data []byte, start, n, width, budget int) string {
	var b strings.Builder
	nuls := bytes.Count(data[:min(len(data), 8000)], []byte{0})
	fmt.Fprintf(&b, "berth-read %d %d\n", len(data), nuls)
	if nuls > 0 {
		return b.String()
	}
	lines := strings.Split(string(data), "\n")
	if len(data) == 0 || data[len(data)-1] == '\n' {
		lines = lines[:len(lines)-1] // awk counts no record after the last newline
	}
	used, shown, stop := 0, 0, 0
	for i, line := range lines {
		nr := i + 1
		if nr < start || nr >= start+n || stop > 0 {
			continue
		}
		if len(line) > width {
			line = line[:width] + " [... line cut: " + strconv.Itoa(len(line)) + " bytes in all]"
		}
		used += len(line) + 8
		if used > budget && shown > 0 {
			stop = nr
			continue
		}
		fmt.Fprintf(&b, "%6d\t%s\n", nr, line)
		shown++
	}
	fmt.Fprintf(&b, "berth-end %d %d\n", len(lines), stop)
	return b.String()
}
