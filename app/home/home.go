// Package home decides where Berth keeps its state (BERTH_HOME, or the
// platform's config and data folders) and guards it with a single-instance
// lock so that two Berths never write the same database.
package home

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Paths are the places Berth reads and writes.
type Paths struct {
	Config string // settings (config.json)
	Data   string // database, anchor, lock, group folders; never mountable
	DB     string // the SQLite database
	Groups string // one folder per group
	Lock   string // single-instance lock file
	Socket string // the running app's control socket
}

// Resolve reads BERTH_HOME (everything under one folder, as tests do) or
// falls back to the platform's usual folders.
func Resolve() (Paths, error) {
	if root := os.Getenv("BERTH_HOME"); root != "" {
		p, err := Under(root)
		if err != nil {
			return Paths{}, fmt.Errorf("BERTH_HOME %q: %w", root, err)
		}
		return p, nil
	}
	userHome, err := os.UserHomeDir()
	if err != nil {
		return Paths{}, fmt.Errorf("find your home folder: %w (set BERTH_HOME)", err)
	}
	switch runtime.GOOS {
	case "darwin":
		base := filepath.Join(userHome, "Library", "Application Support", "Berth")
		return layout(base, base), nil
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		cfg = filepath.Join(userHome, ".config")
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(userHome, ".local", "share")
	}
	return layout(filepath.Join(cfg, "berth"), filepath.Join(data, "berth")), nil
}

// Under is the layout Resolve gives for BERTH_HOME=root, without reading
// the environment: a test that runs in parallel with others gets its own
// installation this way.
func Under(root string) (Paths, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Paths{}, err
	}
	return layout(filepath.Join(abs, "config"), filepath.Join(abs, "data")), nil
}

func layout(config, data string) Paths {
	return Paths{
		Config: config,
		Data:   data,
		DB:     filepath.Join(data, "berth.db"),
		Groups: filepath.Join(data, "groups"),
		Lock:   filepath.Join(data, "berth.lock"),
		Socket: filepath.Join(data, "berth.sock"),
	}
}

// Ensure creates the folders, readable by the owner only.
func (p Paths) Ensure() error {
	for _, d := range []string{p.Config, p.Data, p.Groups} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// InstallID names this installation in sandbox labels, so that one Berth
// never reaps another's sandboxes on a shared engine.
func (p Paths) InstallID() string {
	sum := sha256.Sum256([]byte(p.Data))
	return "b" + hex.EncodeToString(sum[:6])
}

// Protected lists the folders that must never be mounted into a sandbox.
func (p Paths) Protected() []string {
	return []string{p.Config, p.Data}
}

// GroupDir is the folder of one group.
func (p Paths) GroupDir(slug string) string { return filepath.Join(p.Groups, slug) }
