package assistant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// MountCheck is what validating a mount found: the decision and, for an
// accepted folder, what the secret scan masks and how big it is.
type MountCheck struct {
	mounts.Decision
	Scan *mounts.ScanResult `json:"scan,omitempty"`
}

// MountRejectedError is a refused mount request; Reason says why.
type MountRejectedError struct{ Decision mounts.Decision }

func (e *MountRejectedError) Error() string { return "mount refused: " + e.Decision.Reason }

// Audit event kinds of the mount guards.
const (
	AuditMountRefused  = "mount.refused"  // a stored mount refused at sandbox start
	AuditMountMasks    = "mount.masks"    // the set of masked files of a mount changed
	AuditMountMismatch = "mount.mismatch" // a mount inside a new sandbox was not the folder checked
)

// scanSetting is the setting that raises the secret scan's file limit.
const scanSetting = "scan_max_files"

// scanLimits bound every secret scan of a mount.
func (s *Service) scanLimits() mounts.ScanLimits {
	return mounts.ScanLimits{MaxFiles: s.Settings().ScanMaxFiles}
}

// policy is the mount policy for a group ("" for a check outside any
// group). self names a stored mount of the group being checked again: its
// own name and folder do not count against it.
func (s *Service) policy(ctx context.Context, group, self string) (mounts.Policy, error) {
	home, _ := os.UserHomeDir()
	c := s.Settings()
	p := mounts.Policy{Home: home, ProtectedDirs: s.Paths.Protected(), ExtraBlocked: c.BlockedPatterns}
	for _, r := range c.AllowedRoots {
		p.AllowedRoots = append(p.AllowedRoots, mounts.Root{Path: r.Path, AllowWrite: r.AllowWrite})
	}
	groups, err := s.Store.Groups(ctx)
	if err != nil {
		return p, err
	}
	for _, g := range groups {
		p.Sources = append(p.Sources, mounts.Source{Path: s.Paths.GroupDir(g.Slug), What: fmt.Sprintf("the folder of group %q", g.Slug), Write: true})
		ms, err := s.Store.Mounts(ctx, g.Slug)
		if err != nil {
			return p, err
		}
		for _, m := range ms {
			if g.Slug == group && m.Name == self {
				continue
			}
			if g.Slug == group {
				p.ExistingNames = append(p.ExistingNames, m.Name)
			}
			mode := "read-only"
			if !m.ReadOnly {
				mode = "read-write"
			}
			p.Sources = append(p.Sources, mounts.Source{Path: m.HostPath, What: fmt.Sprintf("the %s mount %q of group %q", mode, m.Name, g.Slug), Write: !m.ReadOnly})
		}
	}
	return p, nil
}

// CheckMount validates a mount request without saving anything: the mount
// picker and `berth mount check` show this before the user commits. A
// folder the secret scan cannot finish is refused: masks must never rest
// on a partial scan.
func (s *Service) CheckMount(ctx context.Context, group string, req mounts.Request) (MountCheck, error) {
	p, err := s.policy(ctx, group, "")
	if err != nil {
		return MountCheck{}, err
	}
	mc := MountCheck{Decision: mounts.Check(req, p)}
	if !mc.Allowed {
		return mc, nil
	}
	scan, err := mounts.Scan(ctx, mc.Host, s.scanLimits())
	if err != nil {
		return mc, fmt.Errorf("scan %s: %w", mc.Host, err)
	}
	mc.Scan = &scan
	if why := scan.Incomplete(s.scanLimits(), scanSetting); why != "" {
		mc.Allowed, mc.Rule, mc.Reason = false, mounts.RuleScanIncomplete, fmt.Sprintf("%q cannot be mounted: %s", mc.Host, why)
	}
	return mc, nil
}

// AddMount validates and saves a mount. A refusal is audited with its reason
// and returned as *MountRejectedError.
func (s *Service) AddMount(ctx context.Context, group string, req mounts.Request) (MountCheck, error) {
	if _, err := s.Group(ctx, group); err != nil {
		return MountCheck{}, err
	}
	mc, err := s.CheckMount(ctx, group, req)
	if err != nil {
		return mc, err
	}
	if !mc.Allowed {
		if err := s.record(ctx, store.Event{Group: group, Kind: AuditMountReject, Actor: store.ActorUser,
			Summary: "refused " + req.HostPath + ": " + mc.Reason,
			Detail:  mustJSON(map[string]any{"request": req, "rule": mc.Rule, "reason": mc.Reason, "resolved": mc.Host})}); err != nil {
			return mc, err
		}
		return mc, &MountRejectedError{Decision: mc.Decision}
	}
	if _, err := s.Store.AddMount(ctx, store.Mount{Group: group, Name: mc.Name, HostPath: mc.Host, ReadOnly: mc.ReadOnly, Masks: mc.Scan.Masked}); err != nil {
		return mc, err
	}
	mode := "read-only"
	if !mc.ReadOnly {
		mode = "read-write"
	}
	if err := s.record(ctx, store.Event{Group: group, Kind: AuditMountAdd, Actor: store.ActorUser,
		Summary: fmt.Sprintf("mounted %s at %s (%s, %d secret files masked)", mc.Host, mc.Container, mode, len(mc.Scan.Masked)),
		Detail: mustJSON(map[string]any{"name": mc.Name, "host": mc.Host, "requested": req.HostPath, "container": mc.Container,
			"readonly": mc.ReadOnly, "masked": mc.Scan.Masked, "files": mc.Scan.Files, "bytes": mc.Scan.Bytes,
			"scan_truncated": mc.Scan.Truncated, "symlinks_out": mc.Scan.Symlinks})}); err != nil {
		return mc, err
	}
	s.stopGroupBestEffort(ctx, group, "its mounts changed")
	return mc, nil
}

// RemoveMount deletes a group's mount.
func (s *Service) RemoveMount(ctx context.Context, group, name string) error {
	if err := s.Store.RemoveMount(ctx, group, name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("group %s has no mount %q; `berth mount list -g %s`", group, name, group)
	} else if err != nil {
		return err
	}
	if err := s.record(ctx, store.Event{Group: group, Kind: AuditMountRemove, Actor: store.ActorUser,
		Summary: "removed mount " + name, Detail: mustJSON(map[string]any{"name": name})}); err != nil {
		return err
	}
	s.stopGroupBestEffort(ctx, group, "its mounts changed")
	return nil
}

// Mounts lists a group's mounts.
func (s *Service) Mounts(ctx context.Context, group string) ([]store.Mount, error) {
	if _, err := s.Group(ctx, group); err != nil {
		return nil, err
	}
	return s.Store.Mounts(ctx, group)
}

// stopGroupBestEffort stops a group's sandboxes after a change; when Docker
// cannot be reached the spec digest keeps a stale sandbox from being reused.
func (s *Service) stopGroupBestEffort(ctx context.Context, group, why string) {
	_ = s.stopGroup(ctx, group, why)
}

// sandboxMounts re-validates every stored mount (a folder may have become a
// symlink to a blocked place since it was added, or a read-write mount may
// now surround it), scans it again for secrets and returns the mounts and
// masks for the sandbox spec. A mount refused now, or one whose scan cannot
// finish, refuses the whole sandbox with an audit event: silently dropping
// it would surprise the user as much as mounting it, and a partial scan
// could miss a secret. A change in a mount's masks is saved and audited.
func (s *Service) sandboxMounts(ctx context.Context, group string) ([]docker.Mount, []docker.Mask, error) {
	stored, err := s.Store.Mounts(ctx, group)
	if err != nil {
		return nil, nil, err
	}
	var ms []docker.Mount
	var masks []docker.Mask
	for _, m := range stored {
		p, err := s.policy(ctx, group, m.Name)
		if err != nil {
			return nil, nil, err
		}
		prev := mounts.Decision{Allowed: true, Host: m.HostPath, Name: m.Name, Container: mounts.ContainerRoot + "/" + m.Name, ReadOnly: m.ReadOnly}
		d := mounts.Recheck(prev, p)
		var scan mounts.ScanResult
		if d.Allowed {
			if scan, err = mounts.Scan(ctx, d.Host, s.scanLimits()); err != nil {
				return nil, nil, fmt.Errorf("scan mount %s: %w", m.Name, err)
			}
			if why := scan.Incomplete(s.scanLimits(), scanSetting); why != "" {
				d.Allowed, d.Rule, d.Reason = false, mounts.RuleScanIncomplete, why
			}
		}
		if !d.Allowed {
			_ = s.record(ctx, store.Event{Group: group, Kind: AuditMountRefused, Summary: fmt.Sprintf("refused mount %s at sandbox start: %s", m.Name, d.Reason),
				Detail: mustJSON(map[string]any{"name": m.Name, "host": m.HostPath, "rule": d.Rule, "reason": d.Reason})})
			return nil, nil, fmt.Errorf("mount %q (%s) is refused now: %s — fix the folder or remove the mount with `berth mount rm -g %s %s`",
				m.Name, m.HostPath, d.Reason, group, m.Name)
		}
		if err := s.masksChanged(ctx, m, scan.Masked); err != nil {
			return nil, nil, err
		}
		ms = append(ms, docker.Mount{Host: d.Host, Container: d.Container, ReadOnly: d.ReadOnly})
		if fi, err := os.Stat(d.Host); err == nil && !fi.IsDir() {
			continue // a single-file mount was refused already if it looked secret
		}
		for _, mk := range mounts.MaskTargets(d.Container, scan.Masked) {
			masks = append(masks, docker.Mask{Path: mk.Path, Dir: mk.Dir})
		}
	}
	return ms, masks, nil
}

// masksChanged saves and audits a change in the set of a mount's masked
// files since its last scan. The change is audited before the sandbox that
// uses the new set starts; a change that cannot be audited stops it.
func (s *Service) masksChanged(ctx context.Context, m store.Mount, now []string) error {
	if slices.Equal(now, m.Masks) || (len(now) == 0 && len(m.Masks) == 0) {
		return nil
	}
	added, removed := setDiff(now, m.Masks), setDiff(m.Masks, now)
	if err := s.record(ctx, store.Event{Group: m.Group, Kind: AuditMountMasks,
		Summary: fmt.Sprintf("masks of mount %s changed: %d added %v, %d removed %v (%d masked now)", m.Name, len(added), added, len(removed), removed, len(now)),
		Detail:  mustJSON(map[string]any{"name": m.Name, "host": m.HostPath, "added": added, "removed": removed, "before": m.Masks, "masked": now})}); err != nil {
		return err
	}
	return s.Store.UpdateMountMasks(ctx, m.Group, m.Name, now)
}

// setDiff lists the entries of a that b lacks.
func setDiff(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
