package assistant

import (
	"context"
	"errors"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/docker"
)

// fileEngine is the part of docker.Client that reads and writes files in a
// sandbox through its helper, never following a symlink; optional, so that
// fakes need not implement it (the tools then use their scripts).
type fileEngine interface {
	ReadFileNoFollow(ctx context.Context, sandboxID, path string, limit int64) ([]byte, error)
	WriteFileNoFollow(ctx context.Context, sandboxID, path string, data []byte, mode uint32) error
}

var _ fileEngine = (*docker.Client)(nil)

// newFileMode is the permissions of a file the agent creates, as a shell's
// `cat > file` makes it under the usual umask.
const newFileMode = 0o644

// File reads or writes a whole file in the session's sandbox through its
// helper (agent.ErrNoFileOps without one: the tool then runs its script
// through Exec). A write first passes the disk guard, as a command does.
// A sandbox found gone is replaced once: a whole-file read or write can be
// done again.
func (l *lazySandbox) File(ctx context.Context, req agent.FileRequest) (agent.FileResult, error) {
	res, err := l.file(ctx, req)
	if b := l.blocked(ctx, err); b != nil {
		return res, b
	}
	if isGone(err) {
		res, err = l.file(ctx, req)
		if b := l.blocked(ctx, err); b != nil {
			return res, b
		}
	}
	return res, err
}

func (l *lazySandbox) file(ctx context.Context, req agent.FileRequest) (agent.FileResult, error) {
	fe, ok := l.svc.Engine.(fileEngine)
	if !ok {
		return agent.FileResult{}, agent.ErrNoFileOps
	}
	id, err := l.sandbox(ctx)
	if err != nil {
		return agent.FileResult{}, err
	}
	if req.Write {
		if low := l.svc.lowDisk(l.svc.watchedDirs(ctx, l.group)); low != nil {
			l.svc.diskLow(ctx, l.group, l.session, low, false)
			return agent.FileResult{}, low
		}
	}
	if l.svc.OnUse != nil {
		l.svc.OnUse(id, true)
		defer l.svc.OnUse(id, false)
	}
	start := time.Now()
	var res agent.FileResult
	if req.Write {
		err = fe.WriteFileNoFollow(ctx, id, req.Path, req.Data, newFileMode)
	} else {
		res.Data, err = fe.ReadFileNoFollow(ctx, id, req.Path, req.Limit)
	}
	res.Duration = time.Since(start)
	var ferr *docker.FileError
	switch {
	case err == nil:
	case errors.Is(err, docker.ErrNoHelper):
		err = agent.ErrNoFileOps
	case errors.As(err, &ferr):
		err = &agent.FileError{Errno: ferr.Errno, Msg: ferr.Msg}
	case isGone(err):
		l.lost(ctx, id, err)
	}
	return res, err
}
