package ui

import (
	"context"
	"io"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/store"
)

// MountService is what the mount picker needs: a group's settings and its
// mounts. *assistant.Service satisfies it; tests fake it.
type MountService interface {
	Groups(ctx context.Context) ([]assistant.Group, error)
	Group(ctx context.Context, slug string) (assistant.Group, error)
	// SetGroup applies KEY=VALUE changes, as `berth group set` takes them.
	SetGroup(ctx context.Context, slug string, changes []string) (assistant.Group, error)
	Mounts(ctx context.Context, group string) ([]store.Mount, error)
	// CheckMount validates a mount without saving anything.
	CheckMount(ctx context.Context, group string, req mounts.Request) (assistant.MountCheck, error)
	// AddMount validates and saves; a refusal is *assistant.MountRejectedError.
	AddMount(ctx context.Context, group string, req mounts.Request) (assistant.MountCheck, error)
	RemoveMount(ctx context.Context, group, name string) error
}

var _ MountService = (*assistant.Service)(nil)

// AuditLog is what the audit viewer needs. *store.Store satisfies it.
type AuditLog interface {
	// Events returns the events matching the filter, oldest first.
	Events(ctx context.Context, f store.Filter) ([]store.Event, error)
	// Verify checks the hash chain.
	Verify(ctx context.Context) (store.Report, error)
	// Export writes every event as "jsonl" or "csv".
	Export(ctx context.Context, w io.Writer, format string) error
}

var _ AuditLog = (*store.Store)(nil)

// SettingsStore is where the settings screen reads and writes: the config
// file for everything but the API key, which goes to the OS keyring only.
type SettingsStore interface {
	Load() (config.Config, error)
	Save(c config.Config) error
	// Key is the provider's API key and where it was found.
	Key(provider string) (string, llm.KeySource, error)
	// SetKey stores the provider's API key in the OS keyring.
	SetKey(provider, key string) error
}

// configFiles is SettingsStore over config.json and the OS keyring.
type configFiles struct{ dir string }

var _ SettingsStore = configFiles{}

// ConfigFiles gives the settings screen the config folder's config.json and
// the OS keyring.
func ConfigFiles(configDir string) SettingsStore { return configFiles{dir: configDir} }

func (c configFiles) Load() (config.Config, error) { return config.Load(c.dir) }

func (c configFiles) Save(cfg config.Config) error { return config.Save(c.dir, cfg) }

func (configFiles) Key(provider string) (string, llm.KeySource, error) { return llm.GetKey(provider) }

func (configFiles) SetKey(provider, key string) error { return llm.SetKey(provider, key) }

// ChatAdmin is what the chat window needs to rename and delete chats and to
// create, rename and delete groups. *assistant.Service satisfies it.
type ChatAdmin interface {
	RenameSession(ctx context.Context, id, title string) error
	RemoveSession(ctx context.Context, id string) error
	AddGroup(ctx context.Context, slug, name string, gs assistant.GroupSettings) (assistant.Group, error)
	// SetGroup applies KEY=VALUE changes; "name=…" renames.
	SetGroup(ctx context.Context, slug string, changes []string) (assistant.Group, error)
	// RemoveGroup deletes a group; without purge its folder stays on disk.
	RemoveGroup(ctx context.Context, slug string, purge bool) error
}

var _ ChatAdmin = (*assistant.Service)(nil)
