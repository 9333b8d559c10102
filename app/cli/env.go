package cli

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

// env is what most commands need: where state lives, the settings, and a
// Docker client (which may point at a dead engine; the gate says so).
type env struct {
	paths  home.Paths
	cfg    config.Config
	docker *docker.Client
}

func loadEnv() (*env, error) {
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
	return &env{paths: p, cfg: cfg, docker: c}, nil
}

func (e *env) close() { e.docker.Close() }

// writer is a command's hold on the installation: the single-instance lock
// and the audit store opened for writing.
type writer struct {
	lock  *home.Lock
	store *store.Store
}

// openWriter takes the lock (waiting briefly for another command, never for
// the desktop app) and opens the audit store.
func (e *env) openWriter() (*writer, error) { return e.openWriterAs("cli", 30*time.Second) }

// openWriterAs takes the lock as kind ("app" for a long-running Berth).
func (e *env) openWriterAs(kind string, wait time.Duration) (*writer, error) {
	lock, err := home.Acquire(e.paths, kind, wait)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(e.paths.DB, store.Options{})
	if err != nil {
		lock.Release()
		return nil, err
	}
	return &writer{lock: lock, store: st}, nil
}

func (w *writer) close() error {
	err := w.store.Close()
	return errors.Join(err, w.lock.Release())
}

func (e *env) service(w *writer) *assistant.Service {
	s := &assistant.Service{Engine: e.docker, Paths: e.paths, Config: e.cfg}
	if w != nil {
		s.Store = w.store
	}
	return s
}

// openReader opens the audit store read-only, which works beside a running
// app. A missing database is reported as such.
func (e *env) openReader() (*store.Store, error) {
	if _, err := os.Stat(e.paths.DB); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no audit log yet at %s: %w", e.paths.DB, fs.ErrNotExist)
	}
	return store.OpenReadOnly(e.paths.DB)
}
