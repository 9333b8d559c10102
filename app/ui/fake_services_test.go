package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// fakeMounts is a MountService with func fields; nil ones return zero
// values.
type fakeMounts struct {
	groups       []assistant.Group
	mounts       map[string][]assistant.Mount
	CheckFunc    func(group string, req assistant.MountRequest) (assistant.MountCheck, error)
	AddFunc      func(group string, req assistant.MountRequest) (assistant.MountCheck, error)
	RemoveFunc   func(group, name string) error
	SetGroupFunc func(slug string, changes []string) (assistant.Group, error)
}

var _ MountService = (*fakeMounts)(nil)

func (f *fakeMounts) Groups(context.Context) ([]assistant.Group, error) { return f.groups, nil }

func (f *fakeMounts) Group(_ context.Context, slug string) (assistant.Group, error) {
	for _, g := range f.groups {
		if g.Slug == slug {
			return g, nil
		}
	}
	return assistant.Group{}, assistant.ErrNoGroup
}

func (f *fakeMounts) SetGroup(_ context.Context, slug string, changes []string) (assistant.Group, error) {
	if f.SetGroupFunc == nil {
		return assistant.Group{Slug: slug}, nil
	}
	return f.SetGroupFunc(slug, changes)
}

func (f *fakeMounts) Mounts(_ context.Context, group string) ([]assistant.Mount, error) {
	return f.mounts[group], nil
}

func (f *fakeMounts) CheckMount(_ context.Context, group string, req assistant.MountRequest) (assistant.MountCheck, error) {
	if f.CheckFunc == nil {
		return assistant.MountCheck{}, nil
	}
	return f.CheckFunc(group, req)
}

func (f *fakeMounts) AddMount(_ context.Context, group string, req assistant.MountRequest) (assistant.MountCheck, error) {
	if f.AddFunc == nil {
		return assistant.MountCheck{}, nil
	}
	return f.AddFunc(group, req)
}

func (f *fakeMounts) RemoveMount(_ context.Context, group, name string) error {
	if f.RemoveFunc == nil {
		return nil
	}
	return f.RemoveFunc(group, name)
}

// fakeAudit is an AuditLog of n made-up events, computed from their seq
// so that a large log costs no memory: the group alternates work/home, the
// kind cycles exec.start, exec.end, mount.add, the session is s0…s4.
type fakeAudit struct {
	n          int64
	VerifyFunc func() (assistant.AuditReport, error)
	ExportFunc func(w io.Writer, format string) error
	queries    int
}

var _ AuditLog = (*fakeAudit)(nil)

var auditKinds = []string{assistant.AuditExecStart, assistant.AuditExecEnd, assistant.AuditMountAdd}

func auditEvent(seq int64) assistant.AuditEvent {
	return assistant.AuditEvent{Seq: seq, Time: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second),
		Group: []string{"home", "work"}[seq%2], Session: fmt.Sprintf("s%d", seq%5), Kind: auditKinds[seq%3],
		Actor: assistant.ActorAgent, Summary: fmt.Sprintf("event %d", seq), Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq)),
		PrevHash: fmt.Sprintf("%064x", seq-1), Hash: fmt.Sprintf("%064x", seq)}
}

func matches(ev assistant.AuditEvent, f assistant.AuditFilter) bool {
	k := strings.TrimSuffix(f.Kind, ".*")
	return (f.Group == "" || ev.Group == f.Group) && (f.Session == "" || ev.Session == f.Session) &&
		(k == "" || ev.Kind == k || strings.HasPrefix(ev.Kind, k+"."))
}

func (a *fakeAudit) Events(_ context.Context, f assistant.AuditFilter) ([]assistant.AuditEvent, error) {
	a.queries++
	var out []assistant.AuditEvent
	full := func() bool { return f.Limit > 0 && len(out) >= f.Limit }
	if f.Newest {
		for s := a.n; s > f.Since && !full(); s-- {
			if ev := auditEvent(s); matches(ev, f) {
				out = append([]assistant.AuditEvent{ev}, out...)
			}
		}
		return out, nil
	}
	for s := f.Since + 1; s <= a.n && !full(); s++ {
		if ev := auditEvent(s); matches(ev, f) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (a *fakeAudit) Verify(context.Context) (assistant.AuditReport, error) {
	if a.VerifyFunc == nil {
		return assistant.AuditReport{OK: true, Events: a.n, HeadSeq: a.n}, nil
	}
	return a.VerifyFunc()
}

func (a *fakeAudit) Export(_ context.Context, w io.Writer, format string) error {
	if a.ExportFunc == nil {
		return nil
	}
	return a.ExportFunc(w, format)
}

// fakeSettings is a SettingsStore in memory; it remembers what was saved.
type fakeSettings struct {
	cfg        assistant.Settings
	keys       map[string]string
	saved      []assistant.Settings
	SetKeyFunc func(provider, key string) error
}

var _ SettingsStore = (*fakeSettings)(nil)

func (s *fakeSettings) Load() (assistant.Settings, error) { return s.cfg, nil }

func (s *fakeSettings) Save(c assistant.Settings) error {
	s.saved = append(s.saved, c)
	s.cfg = c
	return nil
}

func (s *fakeSettings) Key(provider string) (string, assistant.KeySource, error) {
	if k := s.keys[provider]; k != "" {
		return k, assistant.KeyFromKeyring, nil
	}
	return "", assistant.KeyNotFound, assistant.ErrNoKey
}

func (s *fakeSettings) SetKey(provider, key string) error {
	if s.SetKeyFunc != nil {
		return s.SetKeyFunc(provider, key)
	}
	if s.keys == nil {
		s.keys = map[string]string{}
	}
	s.keys[provider] = key
	return nil
}
