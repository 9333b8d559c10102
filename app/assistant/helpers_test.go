package assistant

import (
	"os"

	"context"
	"errors"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/mounts"

	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/berth-app/berth/docker"
)

var farFuture = time.Now().Add(100 * 365 * 24 * time.Hour)

func fmtSscan(s string, uid, gid *int) (int, error) { return fmt.Sscanf(s, "%d:%d", uid, gid) }

func ownerOf(fi fs.FileInfo) string {
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// fakeEngine is an Engine whose methods a test sets; a nil method acts as
// an engine that cannot be reached.
type fakeEngine struct {
	check func(ctx context.Context, image, runtime string) docker.Status
	list  func(ctx context.Context, f docker.Filter) ([]docker.Sandbox, error)
}

var errDown = errors.New("docker is not running")

func (f fakeEngine) Check(ctx context.Context, image, runtime string) docker.Status {
	if f.check != nil {
		return f.check(ctx, image, runtime)
	}
	return docker.Status{State: docker.Down, Reason: errDown.Error(), Hint: "start Docker"}
}

func (f fakeEngine) ListSandboxes(ctx context.Context, flt docker.Filter) ([]docker.Sandbox, error) {
	if f.list != nil {
		return f.list(ctx, flt)
	}
	return nil, errDown
}

func (fakeEngine) CreateSandbox(context.Context, docker.Spec) (docker.Sandbox, error) {
	return docker.Sandbox{}, errDown
}

func (fakeEngine) Exec(context.Context, string, docker.ExecRequest) (docker.ExecResult, error) {
	return docker.ExecResult{}, errDown
}

func (fakeEngine) StopSandbox(context.Context, string) error { return errDown }

func (fakeEngine) Reap(context.Context, string, time.Time) ([]docker.Sandbox, error) {
	return nil, errDown
}

func osReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

func configDuration(d time.Duration) config.Duration { return config.Duration(d) }

func mountReq(dir, name string) mounts.Request { return mounts.Request{HostPath: dir, Name: name} }
