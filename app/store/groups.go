package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound means the group or mount asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists means a group or mount with that name exists already.
var ErrExists = errors.New("already exists")

// Group is a stored group. Settings is the assistant's JSON; the store does
// not interpret it.
type Group struct {
	Slug     string
	Name     string
	Settings json.RawMessage
	Created  time.Time
}

// Mount is a stored extra mount of a group.
type Mount struct {
	Group    string
	Name     string
	HostPath string // the resolved path that gets mounted
	ReadOnly bool
	Masks    []string // secret files found at the last scan, relative to the mount
	Created  time.Time
	// MasksBefore are the masks before the last change of Masks, at
	// MasksChanged (zero when they never changed since the mount was added).
	MasksBefore  []string
	MasksChanged time.Time
}

func (s *Store) writable(what string) error {
	if s.w == nil {
		return fmt.Errorf("%s: %w", what, ErrReadOnly)
	}
	return nil
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if err := s.writable("create group"); err != nil {
		return g, err
	}
	if len(g.Settings) == 0 {
		g.Settings = json.RawMessage("{}")
	}
	g.Created = s.opts.Now().UTC()
	_, err := s.w.ExecContext(ctx, `INSERT INTO groups (slug, name, settings, created) VALUES (?, ?, ?, ?)`,
		g.Slug, g.Name, string(g.Settings), formatTime(g.Created))
	if isUnique(err) {
		return g, fmt.Errorf("group %q %w", g.Slug, ErrExists)
	}
	if err != nil {
		return g, fmt.Errorf("create group %s in %s: %w", g.Slug, s.path, classify(err))
	}
	return g, nil
}

// UpdateGroup changes a group's name and settings.
func (s *Store) UpdateGroup(ctx context.Context, g Group) error {
	if err := s.writable("update group"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE groups SET name = ?, settings = ? WHERE slug = ?`, g.Name, string(g.Settings), g.Slug)
	if err != nil {
		return fmt.Errorf("update group %s: %w", g.Slug, classify(err))
	}
	return affected(res, "group "+g.Slug)
}

// DeleteGroup removes a group and (by cascade) its mounts and sessions. The
// audit events that mention it stay.
func (s *Store) DeleteGroup(ctx context.Context, slug string) error {
	if err := s.writable("delete group"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM groups WHERE slug = ?`, slug)
	if err != nil {
		return fmt.Errorf("delete group %s: %w", slug, classify(err))
	}
	return affected(res, "group "+slug)
}

// Group reads one group.
func (s *Store) Group(ctx context.Context, slug string) (Group, error) {
	gs, err := s.groups(ctx, `WHERE slug = ?`, slug)
	if err != nil {
		return Group{}, err
	}
	if len(gs) == 0 {
		return Group{}, fmt.Errorf("group %q %w", slug, ErrNotFound)
	}
	return gs[0], nil
}

// Groups lists all groups by slug.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	return s.groups(ctx, `ORDER BY slug`)
}

func (s *Store) groups(ctx context.Context, where string, args ...any) ([]Group, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT slug, name, settings, created FROM groups `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", classify(err))
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		var settings, created string
		if err := rows.Scan(&g.Slug, &g.Name, &settings, &created); err != nil {
			return nil, fmt.Errorf("read groups: %w", err)
		}
		g.Settings = json.RawMessage(settings)
		g.Created, _ = time.Parse(timeLayout, created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddMount stores a mount of an existing group.
func (s *Store) AddMount(ctx context.Context, m Mount) (Mount, error) {
	if err := s.writable("add mount"); err != nil {
		return m, err
	}
	m.Created = s.opts.Now().UTC()
	masks, err := json.Marshal(nonNil(m.Masks))
	if err != nil {
		return m, err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO mounts (group_slug, name, host_path, readonly, created, masks) VALUES (?, ?, ?, ?, ?, ?)`,
		m.Group, m.Name, m.HostPath, m.ReadOnly, formatTime(m.Created), string(masks))
	switch {
	case isUnique(err):
		return m, fmt.Errorf("mount %q in group %s %w", m.Name, m.Group, ErrExists)
	case err != nil && isForeignKey(err):
		return m, fmt.Errorf("group %q %w", m.Group, ErrNotFound)
	case err != nil:
		return m, fmt.Errorf("add mount %s to %s: %w", m.Name, m.Group, classify(err))
	}
	return m, nil
}

// UpdateMountMasks records the masks found by a new scan. When they differ
// from the stored ones, the old set is kept as MasksBefore with the time.
func (s *Store) UpdateMountMasks(ctx context.Context, group, name string, masks []string) error {
	if err := s.writable("update mount"); err != nil {
		return err
	}
	b, err := json.Marshal(nonNil(masks))
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE mounts SET masks_before = masks, masks_changed = ?, masks = ?
		WHERE group_slug = ? AND name = ? AND masks != ?`, formatTime(s.opts.Now().UTC()), string(b), group, name, string(b))
	if err != nil {
		return fmt.Errorf("update mount %s: %w", name, classify(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	// Unchanged, or no such mount: affected below tells which.
	res, err = s.w.ExecContext(ctx, `UPDATE mounts SET masks = ? WHERE group_slug = ? AND name = ?`, string(b), group, name)
	if err != nil {
		return fmt.Errorf("update mount %s: %w", name, classify(err))
	}
	return affected(res, "mount "+name)
}

// RemoveMount deletes a group's mount.
func (s *Store) RemoveMount(ctx context.Context, group, name string) error {
	if err := s.writable("remove mount"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM mounts WHERE group_slug = ? AND name = ?`, group, name)
	if err != nil {
		return fmt.Errorf("remove mount %s: %w", name, classify(err))
	}
	return affected(res, fmt.Sprintf("mount %q in group %s", name, group))
}

// Mounts lists a group's mounts by name.
func (s *Store) Mounts(ctx context.Context, group string) ([]Mount, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT group_slug, name, host_path, readonly, masks, created, masks_before, masks_changed FROM mounts WHERE group_slug = ? ORDER BY name`, group)
	if err != nil {
		return nil, fmt.Errorf("read mounts of %s: %w", group, classify(err))
	}
	defer rows.Close()
	var out []Mount
	for rows.Next() {
		var m Mount
		var masks, created, before, changed string
		if err := rows.Scan(&m.Group, &m.Name, &m.HostPath, &m.ReadOnly, &masks, &created, &before, &changed); err != nil {
			return nil, fmt.Errorf("read mounts of %s: %w", group, err)
		}
		if err := json.Unmarshal([]byte(masks), &m.Masks); err != nil {
			return nil, fmt.Errorf("mount %s: masks: %w", m.Name, err)
		}
		if err := json.Unmarshal([]byte(before), &m.MasksBefore); err != nil {
			return nil, fmt.Errorf("mount %s: masks before: %w", m.Name, err)
		}
		m.Created, _ = time.Parse(timeLayout, created)
		m.MasksChanged, _ = time.Parse(timeLayout, changed)
		out = append(out, m)
	}
	return out, rows.Err()
}

func affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s %w", what, ErrNotFound)
	}
	return nil
}

func isUnique(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "UNIQUE constraint") || strings.Contains(err.Error(), "PRIMARY KEY"))
}

func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
