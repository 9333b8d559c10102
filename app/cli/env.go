package cli

import (
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/wire"
	"github.com/berth-app/berth/docker"
)

// env is the installation as a command opens it (see wire.Env).
type env struct {
	*wire.Env
	paths  home.Paths
	cfg    config.Config
	docker *docker.Client
}

func loadEnv() (*env, error) {
	w, err := wire.Load()
	if err != nil {
		return nil, err
	}
	return &env{Env: w, paths: w.Paths, cfg: w.Config, docker: w.Docker}, nil
}

func (e *env) close() { e.Env.Close() }

// writer is a command's hold on the installation (see wire.Writer).
type writer struct {
	*wire.Writer
	store *store.Store
}

// openWriter takes the lock (waiting briefly for another command, never for
// the desktop app) and opens the audit store.
func (e *env) openWriter() (*writer, error) {
	w, err := e.OpenWriter(wire.LockCLI, 30*time.Second)
	if err != nil {
		return nil, err
	}
	return &writer{Writer: w, store: w.Store}, nil
}

func (w *writer) close() error { return w.Writer.Close() }

func (e *env) service(w *writer) *assistant.Service {
	if w == nil {
		return e.Service(nil)
	}
	return e.Service(w.Writer)
}

// openReader opens the audit store read-only, which works beside a running app.
func (e *env) openReader() (*store.Store, error) { return e.OpenReader() }
