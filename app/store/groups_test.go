package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

func TestGroupsAndMounts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "berth.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if _, err := s.CreateGroup(ctx, Group{Slug: "work", Name: "Work", Settings: json.RawMessage(`{"network":"none"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(ctx, Group{Slug: "work", Name: "Again"}); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate group: got %v, want ErrExists", err)
	}
	g, err := s.Group(ctx, "work")
	if err != nil || g.Name != "Work" || string(g.Settings) != `{"network":"none"}` || g.Created.IsZero() {
		t.Fatalf("group: %+v %v", g, err)
	}
	g.Name, g.Settings = "Work stuff", json.RawMessage(`{"network":"bridge"}`)
	if err := s.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if g2, _ := s.Group(ctx, "work"); g2.Name != "Work stuff" {
		t.Errorf("update: got %+v", g2)
	}
	if _, err := s.Group(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing group: got %v", err)
	}

	m := Mount{Group: "work", Name: "code", HostPath: "/home/u/code", ReadOnly: true, Masks: []string{".env", ".ssh/"}}
	if _, err := s.AddMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMount(ctx, m); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate mount: got %v", err)
	}
	if _, err := s.AddMount(ctx, Mount{Group: "ghost", Name: "x", HostPath: "/x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("mount in a missing group: got %v", err)
	}
	ms, err := s.Mounts(ctx, "work")
	if err != nil || len(ms) != 1 || !ms[0].ReadOnly || !reflect.DeepEqual(ms[0].Masks, m.Masks) {
		t.Fatalf("mounts: %+v %v", ms, err)
	}
	if err := s.UpdateMountMasks(ctx, "work", "code", nil); err != nil {
		t.Fatal(err)
	}
	ms, _ = s.Mounts(ctx, "work")
	if len(ms[0].Masks) != 0 || !reflect.DeepEqual(ms[0].MasksBefore, m.Masks) || ms[0].MasksChanged.IsZero() {
		t.Errorf("masks after update: got %v (before %v at %v), want none, before %v with a time", ms[0].Masks, ms[0].MasksBefore, ms[0].MasksChanged, m.Masks)
	}
	changed := ms[0].MasksChanged
	if err := s.UpdateMountMasks(ctx, "work", "code", []string{}); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Mounts(ctx, "work"); !reflect.DeepEqual(ms[0].MasksBefore, m.Masks) || !ms[0].MasksChanged.Equal(changed) {
		t.Errorf("an unchanged update moved the change record: before %v at %v", ms[0].MasksBefore, ms[0].MasksChanged)
	}
	if err := s.UpdateMountMasks(ctx, "work", "nope", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("masks of a missing mount: got %v", err)
	}
	if err := s.RemoveMount(ctx, "work", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove a missing mount: got %v", err)
	}
	if _, err := s.AddMount(ctx, Mount{Group: "work", Name: "docs", HostPath: "/d"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Mounts(ctx, "work"); len(ms) != 0 {
		t.Errorf("mounts outlived their group: %+v", ms)
	}
	if gs, _ := s.Groups(ctx); len(gs) != 0 {
		t.Errorf("groups after delete: %+v", gs)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

func TestSessionsAndMessageStatus(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "berth.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateSession(ctx, Session{ID: "s1", Group: "ghost"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("session in a missing group: got %v", err)
	}
	s.CreateGroup(ctx, Group{Slug: "g", Name: "G"})
	if _, err := s.CreateSession(ctx, Session{ID: "s1", Group: "g", Title: "first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, Session{ID: "s2", Group: "g"}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "s1", "renamed"); err != nil {
		t.Fatal(err)
	}
	ss, err := s.Sessions(ctx, "g")
	if err != nil || len(ss) != 2 || ss[0].ID != "s1" || ss[0].Title != "renamed" {
		t.Fatalf("sessions, most recent first: %+v %v", ss, err)
	}
	m, err := s.AddMessage(ctx, Message{Session: "s1", Role: "user", Content: "hi", Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := s.MessagesWithStatus(ctx, "pending"); err != nil || len(ps) != 1 || ps[0].ID != m.ID {
		t.Errorf("pending messages: %+v %v", ps, err)
	}
	if err := s.SetMessageStatus(ctx, m.ID, "done"); err != nil {
		t.Fatal(err)
	}
	ms, _ := s.Messages(ctx, "s1")
	if len(ms) != 1 || ms[0].Status != "done" || ms[0].Content != "hi" {
		t.Errorf("messages: %+v", ms)
	}
	if err := s.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Messages(ctx, "s1"); len(ms) != 0 {
		t.Errorf("messages outlived their session: %+v", ms)
	}
	if _, err := s.Session(ctx, "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
}
