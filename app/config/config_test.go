package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaultsSaveRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BERTH_IMAGE", "")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Image != DefaultImage || c.Network != "none" || time.Duration(c.MaxAge) != DefaultMaxAge {
		t.Errorf("defaults: got %+v", c)
	}
	c.Image, c.MaxAge = "mine:1", Duration(30*time.Minute)
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(File(dir)); fi.Mode().Perm() != 0o600 {
		t.Errorf("settings mode: got %v, want 0600", fi.Mode().Perm())
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Image != "mine:1" || time.Duration(got.MaxAge) != 30*time.Minute {
		t.Errorf("round trip: got %+v", got)
	}
	t.Setenv("BERTH_IMAGE", "test:img")
	if got, _ := Load(dir); got.Image != "test:img" {
		t.Errorf("BERTH_IMAGE: got %s", got.Image)
	}
}

func TestLoadBrokenFileSaysWhere(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(File(dir), []byte("{not json"), 0o600)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), File(dir)) {
		t.Errorf("got %v, want an error naming %s", err, File(dir))
	}
}
