// Package config holds the user's settings (config.json in Berth's config
// folder): the sandbox image, isolation, default limits and lifetimes.
// Secrets never live here; API keys go to the OS keyring.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-app/berth/docker"
)

// Config is what the user can set. Zero values mean "Berth's default".
type Config struct {
	Provider    string   `json:"provider,omitempty"` // anthropic (default) | openai (any OpenAI-compatible server)
	Model       string   `json:"model,omitempty"`    // default per provider
	BaseURL     string   `json:"base_url,omitempty"` // e.g. http://localhost:11434/v1 for Ollama; "" = the provider's, or *_BASE_URL
	Image       string   `json:"image,omitempty"`    // sandbox image
	Runtime     string   `json:"runtime,omitempty"`  // "" (runc) or "runsc" for strong isolation
	Network     string   `json:"network,omitempty"`  // network mode of groups that set none: none | allowlist | open (bridge reads as open)
	MemoryMB    int64    `json:"memory_mb,omitempty"`
	CPUs        float64  `json:"cpus,omitempty"`
	Pids        int64    `json:"pids,omitempty"`
	IdleTimeout Duration `json:"idle_timeout,omitempty"`
	MaxAge      Duration `json:"max_age,omitempty"`
	ExecTimeout Duration `json:"exec_timeout,omitempty"`
	// Model limits (local models): see ModelLimits. The zero values mean
	// "learn it from the server, else Berth's default".
	ContextTokens int                    `json:"context_tokens,omitempty"` // any model
	MaxTokens     int                    `json:"max_tokens,omitempty"`     // any model
	Models        map[string]ModelLimits `json:"models,omitempty"`         // by "provider/model", e.g. "openai/qwen2.5-coder:7b"
	StallTimeout  Duration               `json:"stall_timeout,omitempty"`  // end a reply silent this long; "" = 5m
	// The disk guard stops commands when a disk they write has less room
	// than the smaller of DiskFloorMB and DiskFloorPercent of its size
	// (defaults: 2048 MiB and 5 %; app/disk).
	DiskFloorMB      int64   `json:"disk_floor_mb,omitempty"`
	DiskFloorPercent float64 `json:"disk_floor_percent,omitempty"`
	// BlockedPatterns are the user's own patterns on top of Berth's: a
	// mount whose path has a component containing one is refused.
	BlockedPatterns []string `json:"blocked_patterns,omitempty"`
	// AllowedRoots, when set, are the only folders mounts may come from.
	AllowedRoots []AllowedRoot `json:"allowed_roots,omitempty"`
	// ScanMaxFiles bounds the secret scan of each mount (files and folders
	// visited); a mount with more is refused rather than half scanned.
	ScanMaxFiles int `json:"scan_max_files,omitempty"`
}

// ModelLimits are the user's limits for one model.
type ModelLimits struct {
	ContextTokens int `json:"context_tokens,omitempty"` // the model's context; 0: learn it from the server
	MaxTokens     int `json:"max_tokens,omitempty"`     // the most tokens one reply may have
}

// Limits returns the limits set for provider's model: its own entry in
// Models, then the settings for any model.
func (c Config) Limits(provider, model string) ModelLimits {
	m := c.Models[provider+"/"+model]
	if m.ContextTokens == 0 {
		m.ContextTokens = c.ContextTokens
	}
	if m.MaxTokens == 0 {
		m.MaxTokens = c.MaxTokens
	}
	return m
}

// AllowedRoot is a folder that mounts may come from; write may be forbidden.
type AllowedRoot struct {
	Path       string `json:"path"`
	AllowWrite bool   `json:"allow_write"`
}

// Defaults.
const (
	DefaultImage       = docker.DefaultImage
	DefaultIdleTimeout = 10 * time.Minute
	DefaultMaxAge      = docker.DefaultMaxAge
	DefaultExecTimeout = 10 * time.Minute
)

// File is where the settings live.
func File(configDir string) string { return filepath.Join(configDir, "config.json") }

// Load reads the settings; a missing file is an empty Config. BERTH_IMAGE
// overrides the image (tests and CI point it at a local test image).
func Load(configDir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(File(configDir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("read settings: %w", err)
	default:
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("settings %s are not valid JSON: %w — fix or delete the file", File(configDir), err)
		}
	}
	if img := os.Getenv("BERTH_IMAGE"); img != "" {
		c.Image = img
	}
	return c.withDefaults(), nil
}

// Save writes the settings atomically, readable by the owner only.
func Save(configDir string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp := File(configDir) + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return os.Rename(tmp, File(configDir))
}

func (c Config) withDefaults() Config {
	if c.Image == "" {
		c.Image = DefaultImage
	}
	if c.Provider == "" {
		c.Provider = "anthropic"
	}
	if c.Network == "" {
		c.Network = "none"
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	if c.MaxAge == 0 {
		c.MaxAge = Duration(DefaultMaxAge)
	}
	if c.ExecTimeout == 0 {
		c.ExecTimeout = Duration(DefaultExecTimeout)
	}
	return c
}

// DefaultModel is the model used when none is set for the provider.
func DefaultModel(provider string) string {
	if provider == "openai" {
		return "gpt-4.1-mini"
	}
	return "claude-sonnet-4-5"
}

// Duration is a time.Duration written as "10m" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10m", "2h30m" and the like.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be text such as \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
