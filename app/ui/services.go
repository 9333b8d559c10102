package ui

import (
	"context"
	"io"

	"github.com/berth-app/berth/app/assistant"
)

// MountService is what the mount picker needs: a group's settings and its
// mounts. *assistant.Service satisfies it; tests fake it.
type MountService interface {
	Groups(ctx context.Context) ([]assistant.Group, error)
	Group(ctx context.Context, slug string) (assistant.Group, error)
	// SetGroup applies KEY=VALUE changes, as `berth group set` takes them.
	SetGroup(ctx context.Context, slug string, changes []string) (assistant.Group, error)
	Mounts(ctx context.Context, group string) ([]assistant.Mount, error)
	// CheckMount validates a mount without saving anything.
	CheckMount(ctx context.Context, group string, req assistant.MountRequest) (assistant.MountCheck, error)
	// AddMount validates and saves; a refusal is *assistant.MountRejectedError.
	AddMount(ctx context.Context, group string, req assistant.MountRequest) (assistant.MountCheck, error)
	RemoveMount(ctx context.Context, group, name string) error
}

var _ MountService = (*assistant.Service)(nil)

// AuditLog is what the audit viewer needs. The installation's audit log
// (assistant.Instance.Store) satisfies it.
type AuditLog interface {
	// Events returns the events matching the filter, oldest first.
	Events(ctx context.Context, f assistant.AuditFilter) ([]assistant.AuditEvent, error)
	// Verify checks the hash chain.
	Verify(ctx context.Context) (assistant.AuditReport, error)
	// Export writes every event as "jsonl" or "csv".
	Export(ctx context.Context, w io.Writer, format string) error
}

// SettingsStore is where the settings screen reads and writes: the config
// file for everything but the API key, which goes to the OS keyring only.
type SettingsStore interface {
	Load() (assistant.Settings, error)
	Save(c assistant.Settings) error
	// Key is the provider's API key and where it was found.
	Key(provider string) (string, assistant.KeySource, error)
	// SetKey stores the provider's API key in the OS keyring.
	SetKey(provider, key string) error
}

// ConfigFiles gives the settings screen the config folder's config.json and
// the OS keyring.
func ConfigFiles(configDir string) SettingsStore { return assistant.SettingsFiles{Dir: configDir} }

// RuntimeSettings gives the settings screen config.json and the OS keyring,
// and saves through the running runtime, so that saved settings take effect
// at once.
func RuntimeSettings(rt *assistant.Runtime, configDir string) SettingsStore {
	return assistant.SettingsFiles{Dir: configDir, Runtime: rt}
}

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
