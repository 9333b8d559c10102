package agent

import (
	"context"
	"errors"
	"time"

	"github.com/berth-app/berth/docker/workspace"
)

// ExecRequest is one command for the sandbox to run.
type ExecRequest struct {
	Argv      []string
	Stdin     []byte // nil: no stdin
	WorkDir   string
	Timeout   time.Duration // 0: no limit beyond ctx
	OutputCap int           // bytes kept per stream (head and tail); 0: the sandbox's default
	// OnOutput, when set, sees each chunk of stdout and stderr as it
	// arrives, interleaved, before any cap. It may be called from another
	// goroutine than Exec's and must return quickly; p is its own.
	OnOutput func(p []byte)
	// Grace is how long a timed-out or canceled command has to end after a
	// SIGTERM before it and all it started are killed; 0: killed at once.
	Grace time.Duration
}

// ExecResult is how a command ended.
type ExecResult struct {
	ExitCode                 int
	Stdout, Stderr           []byte // what was kept of each stream
	StdoutTotal, StderrTotal int64  // how many bytes each stream produced
	Truncated, TimedOut      bool
	Duration                 time.Duration
}

// Sandbox runs commands in the session's sandbox. A non-zero exit is a
// result, not an error; an error means it could not run (sandbox gone, Docker
// lost, canceled).
//
// File reads and writes a whole file without following a symlink anywhere
// on its path (see files.go): the sandbox refusing it is a *FileError;
// ErrNoFileOps means this sandbox cannot (it has no helper), and the file
// tools then run their scripts through Exec, with the same rules.
//
// An error that wraps ErrBlocked means no tool can run now (Docker went
// away, the assistant is blocked): the turn ends at once, as interrupted.
type Sandbox interface {
	Exec(ctx context.Context, req ExecRequest) (ExecResult, error)
	File(ctx context.Context, req FileRequest) (FileResult, error)
}

// ErrBlocked, wrapped in an error of Sandbox.Exec or Sandbox.File, means
// that no tool can run now: Docker went away while the call was set up or
// ran, and the assistant is blocked. The call's failure is not handed to
// the model (it would improvise); the turn ends at once as interrupted,
// its result and the error recorded, and RunTurn returns the error.
var ErrBlocked = errors.New("no tool can run now")

// Container paths every sandbox has.
const (
	GroupDir   = workspace.GroupDir // the group's folder, read-write
	ExtraDir   = workspace.ExtraDir // the group's extra mounts
	MemoryPath = GroupDir + "/MEMORY.md"
)
