package assistant

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/store"
)

// Settings saved anywhere take effect in the running runtime at once: the
// next turn uses the provider, model and base URL; the gate checks the new
// image; each chat's next tool call gets a sandbox made with the new image,
// limits and network (a sandbox whose settings changed is replaced, see
// Service.Sandbox); idle sandboxes go by the new idle timeout.

// SaveSettings writes the settings to config.json and puts them in force.
func (r *Runtime) SaveSettings(ctx context.Context, c config.Config) error {
	if err := config.Save(r.svc.Paths.Config, c); err != nil {
		return err
	}
	return r.ReloadSettings(ctx)
}

// ReloadSettings reads config.json again (after `berth settings set`, or an
// edit by hand) and puts it in force.
func (r *Runtime) ReloadSettings(ctx context.Context) error {
	c, err := config.Load(r.svc.Paths.Config)
	if err != nil {
		return err
	}
	return r.SetSettings(ctx, c)
}

// SetSettings puts settings in force without writing them: the service
// uses them from now on and the monitor checks their image and runtime.
func (r *Runtime) SetSettings(ctx context.Context, c config.Config) error {
	old := r.svc.Settings()
	r.svc.SetSettings(c)
	r.gate.SetImage(c.Image, c.Runtime)
	changed := settingsChanges(old, c)
	if len(changed) == 0 {
		return nil
	}
	return r.svc.record(ctx, store.Event{Kind: AuditSettingsChange, Actor: store.ActorUser,
		Summary: "settings changed: " + strings.Join(changed, ", "), Detail: mustJSON(map[string]any{"changed": changed})})
}

// settingsChanges names the settings that differ (values are not listed:
// a base URL may hold a token).
func settingsChanges(a, b config.Config) []string {
	var out []string
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"provider", a.Provider, b.Provider}, {"model", a.Model, b.Model}, {"base_url", a.BaseURL, b.BaseURL},
		{"image", a.Image, b.Image}, {"runtime", a.Runtime, b.Runtime}, {"network", a.Network, b.Network},
		{"memory_mb", a.MemoryMB, b.MemoryMB}, {"cpus", a.CPUs, b.CPUs}, {"pids", a.Pids, b.Pids},
		{"idle_timeout", a.IdleTimeout, b.IdleTimeout}, {"max_age", a.MaxAge, b.MaxAge}, {"exec_timeout", a.ExecTimeout, b.ExecTimeout},
		{"blocked_patterns", fmt.Sprint(a.BlockedPatterns), fmt.Sprint(b.BlockedPatterns)},
		{"allowed_roots", fmt.Sprint(a.AllowedRoots), fmt.Sprint(b.AllowedRoots)},
	} {
		if f.a != f.b {
			out = append(out, f.name)
		}
	}
	return out
}
