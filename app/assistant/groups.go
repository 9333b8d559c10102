package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/safefs"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/assets"
	"github.com/berth-app/berth/docker"
)

// DefaultGroup exists from the first use on (Group and Groups make it):
// `berth exec` without -g uses it.
const DefaultGroup = "main"

// MemoryFile is the group's memory, in its folder (/workspace/group inside).
const MemoryFile = "MEMORY.md"

// Approval modes of a group.
const (
	ApprovalAuto      = string(agent.ApprovalAuto)      // tools run without asking; the sandbox is the boundary
	ApprovalAskWrites = string(agent.ApprovalAskWrites) // bash, write_file and edit_file wait for a human click
	ApprovalAskAll    = string(agent.ApprovalAskAll)    // every tool call waits for a human click
)

// ToolNames are the agent's tools (their names are a contract).
var ToolNames = agent.ToolNames

// GroupSettings are a group's own sandbox and agent settings. Zero values
// fall back to the user's settings, then to Berth's defaults.
type GroupSettings struct {
	Image       string          `json:"image,omitempty"`
	Network     string          `json:"network,omitempty"`  // none | allowlist | open (the old bridge reads as open)
	Approval    string          `json:"approval,omitempty"` // auto | ask-writes | ask-all
	Tools       []string        `json:"tools,omitempty"`    // enabled tools; empty = all
	MemoryMB    int64           `json:"memory_mb,omitempty"`
	CPUs        float64         `json:"cpus,omitempty"`
	Pids        int64           `json:"pids,omitempty"`
	IdleTimeout config.Duration `json:"idle_timeout,omitempty"`
	MaxAge      config.Duration `json:"max_age,omitempty"`
	// AlwaysAllow lists tools the user allowed "always for this group".
	AlwaysAllow []string `json:"always_allow,omitempty"`
	// NetAllow and NetDeny are the group's network rules (allowlist mode,
	// see egress_rules.go); they apply to the next connection, without a
	// new sandbox.
	NetAllow []NetRule `json:"net_allow,omitempty"`
	NetDeny  []string  `json:"net_deny,omitempty"`
}

// Group is a group as the faces show it.
type Group struct {
	Slug     string        `json:"slug"`
	Name     string        `json:"name"`
	Folder   string        `json:"folder"`
	Settings GroupSettings `json:"settings"`
	Created  time.Time     `json:"created"`
}

// ErrNoGroup means a group does not exist.
var ErrNoGroup = errors.New("no such group")

func (g GroupSettings) validate() error {
	if err := g.validateNet(); err != nil {
		return err
	}
	switch g.Approval {
	case "", ApprovalAuto, ApprovalAskWrites, ApprovalAskAll:
	default:
		return fmt.Errorf("approval must be auto, ask-writes or ask-all, not %q", g.Approval)
	}
	for _, t := range g.Tools {
		if !slices.Contains(ToolNames, t) {
			return fmt.Errorf("unknown tool %q; the tools are %s", t, strings.Join(ToolNames, ", "))
		}
	}
	if g.MemoryMB < 0 || g.CPUs < 0 || g.Pids < 0 || g.IdleTimeout < 0 || g.MaxAge < 0 {
		return errors.New("limits cannot be negative")
	}
	if g.MemoryMB != 0 && g.MemoryMB < 32 {
		return fmt.Errorf("memory %d MB is too small to run anything (minimum 32)", g.MemoryMB)
	}
	if g.Pids != 0 && g.Pids < 16 {
		return fmt.Errorf("pids %d is too small to run anything (minimum 16)", g.Pids)
	}
	return nil
}

// Set applies one KEY=VALUE change, as `berth group set` takes them.
func (g *GroupSettings) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("%q: use KEY=VALUE", kv)
	}
	var err error
	switch k {
	case "image":
		g.Image = v
	case "network":
		g.Network = normalMode(v)
	case "approval":
		g.Approval = v
	case "tools":
		g.Tools = nil
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" && t != "all" {
				g.Tools = append(g.Tools, t)
			}
		}
	case "memory", "memory_mb":
		g.MemoryMB, err = parseMB(v)
	case "cpus":
		g.CPUs, err = strconv.ParseFloat(v, 64)
	case "pids":
		g.Pids, err = strconv.ParseInt(v, 10, 64)
	case "idle_timeout", "max_age":
		var d time.Duration
		if d, err = time.ParseDuration(v); err == nil {
			if k == "idle_timeout" {
				g.IdleTimeout = config.Duration(d)
			} else {
				g.MaxAge = config.Duration(d)
			}
		}
	default:
		return fmt.Errorf("unknown setting %q; settings are image, network, approval, tools, memory, cpus, pids, idle_timeout, max_age", k)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", k, err)
	}
	return nil
}

// parseMB reads "512", "512m", "2g" as megabytes.
func parseMB(v string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(strings.ToLower(v), "g"):
		mult, v = 1024, v[:len(v)-1]
	case strings.HasSuffix(strings.ToLower(v), "m"):
		v = v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n * mult, err
}

func (s *Service) toGroup(g store.Group) (Group, error) {
	out := Group{Slug: g.Slug, Name: g.Name, Folder: s.Paths.GroupDir(g.Slug), Created: g.Created}
	if err := json.Unmarshal(g.Settings, &out.Settings); err != nil {
		return out, fmt.Errorf("group %s: settings: %w", g.Slug, err)
	}
	out.Settings.Network = normalMode(out.Settings.Network) // bridge reads (and is saved back) as open
	return out, nil
}

// AddGroup creates a group: its folder, its memory file and its settings.
func (s *Service) AddGroup(ctx context.Context, slug, name string, gs GroupSettings) (Group, error) {
	if err := ValidGroup(slug); err != nil {
		return Group{}, err
	}
	gs.Network = normalMode(gs.Network)
	if err := gs.validate(); err != nil {
		return Group{}, err
	}
	if name == "" {
		name = slug
	}
	if _, err := s.groupFolder(slug); err != nil {
		return Group{}, err
	}
	if err := s.seedMemory(slug, name); err != nil {
		return Group{}, err
	}
	raw, _ := json.Marshal(gs)
	g, err := s.Store.CreateGroup(ctx, store.Group{Slug: slug, Name: name, Settings: raw})
	if errors.Is(err, store.ErrExists) {
		return Group{}, fmt.Errorf("group %q already exists; `berth group show %s`", slug, slug)
	}
	if err != nil {
		return Group{}, err
	}
	if err := s.record(ctx, store.Event{Group: slug, Kind: AuditGroupAdd, Actor: store.ActorUser,
		Summary: fmt.Sprintf("created group %q", name), Detail: mustJSON(map[string]any{"name": name, "settings": gs})}); err != nil {
		return Group{}, err
	}
	return s.toGroup(g)
}

// seedMemory writes the memory template unless the group has a memory file.
// It never follows a symlink planted in the folder.
func (s *Service) seedMemory(slug, name string) error {
	folder := s.Paths.GroupDir(slug)
	_, err := safefs.ReadFile(folder, MemoryFile)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("group %s memory: %w", slug, err)
	}
	body := strings.ReplaceAll(assets.MemoryTemplate, "{{GROUP}}", name)
	if err := safefs.WriteFile(folder, MemoryFile, []byte(body), 0o644); err != nil {
		return fmt.Errorf("group %s memory: %w", slug, err)
	}
	return s.giveToSandboxUser(folder + "/" + MemoryFile)
}

// Group reads one group.
func (s *Service) Group(ctx context.Context, slug string) (Group, error) {
	g, err := s.Store.Group(ctx, slug)
	if errors.Is(err, store.ErrNotFound) && slug == DefaultGroup {
		return s.AddGroup(ctx, DefaultGroup, "Main", GroupSettings{}) // the first use
	}
	if errors.Is(err, store.ErrNotFound) {
		return Group{}, fmt.Errorf("%w %q; create it with `berth group add %s`", ErrNoGroup, slug, slug)
	}
	if err != nil {
		return Group{}, err
	}
	return s.toGroup(g)
}

// Groups lists the groups: at least the default one, made on this first
// use when there is none (a fresh installation's windows then show it).
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	gs, err := s.Store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		g, err := s.Group(ctx, DefaultGroup)
		if err != nil {
			return nil, err
		}
		return []Group{g}, nil
	}
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		x, err := s.toGroup(g)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// SetGroup applies KEY=VALUE changes ("name=…" renames). The group's running
// sandboxes are stopped so that the next command gets the new settings.
func (s *Service) SetGroup(ctx context.Context, slug string, changes []string) (Group, error) {
	g, err := s.Group(ctx, slug)
	if err != nil {
		return g, err
	}
	for _, kv := range changes {
		if v, ok := strings.CutPrefix(kv, "name="); ok {
			g.Name = v
			continue
		}
		if err := g.Settings.Set(kv); err != nil {
			return g, err
		}
	}
	if err := g.Settings.validate(); err != nil {
		return g, err
	}
	if err := s.saveSettings(ctx, g, "changed "+strings.Join(changes, ", ")); err != nil {
		return g, err
	}
	s.stopGroupBestEffort(ctx, slug, "the group's settings changed")
	return g, nil
}

// saveSettings stores a group's name and settings, audited.
func (s *Service) saveSettings(ctx context.Context, g Group, summary string) error {
	raw, _ := json.Marshal(g.Settings)
	if err := s.Store.UpdateGroup(ctx, store.Group{Slug: g.Slug, Name: g.Name, Settings: raw}); err != nil {
		return err
	}
	return s.record(ctx, store.Event{Group: g.Slug, Kind: AuditGroupSet, Actor: store.ActorUser,
		Summary: summary, Detail: mustJSON(map[string]any{"name": g.Name, "settings": g.Settings})})
}

// RemoveGroup deletes a group and its mounts and stops its sandboxes. With
// purge its folder (and memory) is deleted too; otherwise it stays on disk.
func (s *Service) RemoveGroup(ctx context.Context, slug string, purge bool) error {
	if _, err := s.Group(ctx, slug); err != nil {
		return err
	}
	// Best effort: if Docker is down now, Reap removes them later, as
	// sandboxes of a group that no longer exists.
	s.stopGroupBestEffort(ctx, slug, "the group was removed")
	gone, _ := s.Tasks(ctx, slug)
	if err := s.Store.DeleteGroup(ctx, slug); err != nil {
		return err
	}
	if err := s.recordTasksGone(ctx, gone); err != nil {
		return err
	}
	if purge {
		// RemoveAll removes symlinks themselves, never what they point at.
		if err := os.RemoveAll(s.Paths.GroupDir(slug)); err != nil {
			return fmt.Errorf("delete group folder: %w", err)
		}
	}
	return s.record(ctx, store.Event{Group: slug, Kind: AuditGroupRemove, Actor: store.ActorUser,
		Summary: fmt.Sprintf("removed group %s (folder %s)", slug, map[bool]string{true: "deleted", false: "kept"}[purge]),
		Detail:  mustJSON(map[string]any{"purge": purge, "folder": s.Paths.GroupDir(slug)})})
}

// Memory reads the group's memory file, refusing a planted symlink.
func (s *Service) Memory(slug string) (string, error) {
	b, err := safefs.ReadFile(s.Paths.GroupDir(slug), MemoryFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

// stopGroup stops a group's sandboxes (after a change that they must not outlive).
func (s *Service) stopGroup(ctx context.Context, slug, why string) error {
	_, err := s.stopWhere(ctx, docker.Filter{Group: slug}, why)
	return err
}
