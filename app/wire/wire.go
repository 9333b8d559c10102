// Package wire is Berth's composition root: it opens an installation (its
// folders, settings, Docker client, lock and audit store) and builds the one
// assistant runtime that both faces drive — the desktop app and `berth
// serve` (StartRuntime), and a one-shot CLI command (StartOneShot). It holds
// no logic worth testing beyond putting the pieces together.
package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// Env is what most commands need: where state lives, the settings, and a
// Docker client (which may point at a dead engine; the gate says so).
type Env struct {
	Paths  home.Paths
	Config config.Config
	Docker *docker.Client
}

// Load opens the installation BERTH_HOME (or the platform's folders) names.
func Load() (*Env, error) {
	p, err := home.Resolve()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(p.Config)
	if err != nil {
		return nil, err
	}
	c, err := docker.New()
	if err != nil {
		return nil, err
	}
	if HelperBinaries != nil {
		c.UseHelperBinaries(HelperBinaries)
	}
	return &Env{Paths: p, Config: cfg, Docker: c}, nil
}

// HelperBinaries, when a test sets it, is the sandbox helper that the
// clients Load makes deliver instead of the embedded one (a `go test` build
// embeds none, and tool calls and network egress then have no helper).
var HelperBinaries func(arch string) []byte

// Close releases the Docker client.
func (e *Env) Close() { e.Docker.Close() }

// Writer is a hold on the installation: the single-instance lock and the
// audit store opened for writing.
type Writer struct {
	Lock  *home.Lock
	Store *store.Store
}

// LockCLI and LockApp are the lock kinds: a command, or a long-running Berth.
const (
	LockCLI = "cli"
	LockApp = "app"
)

// OpenWriter takes the lock as kind, waiting up to wait for another
// holder, and opens the audit store.
func (e *Env) OpenWriter(kind string, wait time.Duration) (*Writer, error) {
	lock, err := home.Acquire(e.Paths, kind, wait)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(e.Paths.DB, store.Options{})
	if err != nil {
		lock.Release()
		return nil, err
	}
	return &Writer{Lock: lock, Store: st}, nil
}

// Close closes the store and releases the lock.
func (w *Writer) Close() error {
	err := w.Store.Close()
	return errors.Join(err, w.Lock.Release())
}

// Service is the assistant service over this installation; w nil gives one
// without an audit store (read-only commands).
func (e *Env) Service(w *Writer) *assistant.Service {
	s := &assistant.Service{Engine: e.Docker, Paths: e.Paths, Config: e.Config}
	if w != nil {
		s.Store = w.Store
	}
	return s
}

// OpenReader opens the audit store read-only, which works beside a running
// app. A missing database is reported as such.
func (e *Env) OpenReader() (*store.Store, error) {
	if _, err := os.Stat(e.Paths.DB); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no audit log yet at %s: %w", e.Paths.DB, fs.ErrNotExist)
	}
	return store.OpenReadOnly(e.Paths.DB)
}
