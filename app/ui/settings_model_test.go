package ui

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// stored is a config as config.Load returns it, defaults filled in.
var stored = assistant.Settings{Provider: "anthropic", Image: assistant.DefaultImage, Network: "none", Runtime: "runsc",
	IdleTimeout: assistant.SettingsDuration(10 * time.Minute), MaxAge: assistant.SettingsDuration(2 * time.Hour), ExecTimeout: assistant.SettingsDuration(time.Minute)}

func TestSettingsApply(t *testing.T) {
	t.Parallel()
	const key = "sk-ant-api03-secretsecret-abcd"
	tests := []struct {
		name     string
		edit     func(*SettingsForm)
		want     func(*assistant.Settings)
		wantErrs []string // fields
	}{
		{"unchanged", func(*SettingsForm) {}, func(*assistant.Settings) {}, nil},
		{"openai with a local server and a key", func(f *SettingsForm) {
			f.Provider, f.Model, f.BaseURL, f.APIKey = "openai", " llama3 ", "http://localhost:11434/v1", key
		}, func(c *assistant.Settings) {
			c.Provider, c.Model, c.BaseURL = "openai", "llama3", "http://localhost:11434/v1"
		}, nil},
		{"limits and lifetimes", func(f *SettingsForm) {
			f.MemoryMB, f.CPUs, f.Pids, f.IdleTimeout, f.MaxAge, f.Network = "2048", "1.5", "256", "5m", "", "bridge"
		}, func(c *assistant.Settings) {
			c.MemoryMB, c.CPUs, c.Pids, c.IdleTimeout, c.MaxAge, c.Network = 2048, 1.5, 256, assistant.SettingsDuration(5*time.Minute), 0, "bridge"
		}, nil},
		{"patterns and roots, one a line", func(f *SettingsForm) {
			f.BlockedPatterns = " secret\n\n.pgpass \n"
			f.AllowedRoots = "/home/me/src\n/srv/data" + WriteMark + "\n"
		}, func(c *assistant.Settings) {
			c.BlockedPatterns = []string{"secret", ".pgpass"}
			c.AllowedRoots = []assistant.AllowedRoot{{Path: "/home/me/src"}, {Path: "/srv/data", AllowWrite: true}}
		}, nil},
		{"every field wrong", func(f *SettingsForm) {
			f.Provider, f.BaseURL, f.APIKey, f.Image, f.Network = "gemini", "localhost:11434", "sk-one two", "my image", "host"
			f.MemoryMB, f.CPUs, f.Pids, f.IdleTimeout, f.MaxAge = "8", "lots", "3", "soon", "-1h"
			f.BlockedPatterns, f.AllowedRoots = "a/b", "src"
		}, nil, []string{FieldAPIKey, FieldAllowedRoots, FieldBaseURL, FieldBlockedPatterns, FieldCPUs, FieldIdleTimeout,
			FieldImage, FieldMaxAge, FieldMemory, FieldNetwork, FieldPids, FieldProvider}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := SettingsFormFrom(stored)
			tc.edit(&f)
			got, errs := f.Apply(stored)
			var fields []string
			for k := range errs {
				fields = append(fields, k)
			}
			if !sameSet(fields, tc.wantErrs) {
				t.Fatalf("errors: got %v, want fields %v", errs, tc.wantErrs)
			}
			want := stored
			if tc.want != nil {
				tc.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("settings:\ngot  %+v\nwant %+v", got, want)
			}
			raw, _ := json.Marshal(got)
			if strings.Contains(string(raw), "secret-abcd") || strings.Contains(string(raw), "sk-") {
				t.Errorf("the API key is in the settings: %s", raw)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

func TestSettingsFormRoundTrip(t *testing.T) {
	t.Parallel()
	c := stored
	c.MemoryMB, c.CPUs, c.Pids, c.MaxAge = 512, 0.5, 64, assistant.SettingsDuration(90*time.Minute)
	c.AllowedRoots = []assistant.AllowedRoot{{Path: "/srv", AllowWrite: true}}
	f := SettingsFormFrom(c)
	if f.IdleTimeout != "10m" || f.MaxAge != "1h30m" || f.AllowedRoots != "/srv +write" || f.CPUs != "0.5" {
		t.Errorf("form: got %+v", f)
	}
	if got, errs := f.Apply(c); errs != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("round trip: got %+v, %v; want %+v", got, errs, c)
	}
}

func TestKeyStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider, key string
		src           assistant.KeySource
		want          string
	}{
		{"anthropic", "sk-ant-api03-0123456789abcd", assistant.KeyFromKeyring, "sk-…abcd stored in the OS keyring"},
		{"openai", "sk-proj-0123456789wxyz", assistant.KeyFromEnv, "sk-…wxyz from OPENAI_API_KEY (none in the OS keyring)"},
		{"anthropic", "short", assistant.KeyFromKeyring, "•••• (a short key) stored in the OS keyring"},
		{"anthropic", "sk-ant-api03-0123456789abcd", assistant.KeyFromFile, "sk-…abcd stored in Berth's key file keys.json, readable only by you (no OS keyring here)"},
		{"anthropic", "", assistant.KeyNotFound, "No key stored — paste one to keep it in the OS keyring (or, where there is none, in a file only you can read)"},
		{"openai", "", assistant.KeyNotFound, "No key stored — paste one, or leave it empty for a local server that needs none"},
	}
	for _, tc := range tests {
		got := KeyStatus(tc.provider, tc.key, tc.src)
		if got != tc.want {
			t.Errorf("KeyStatus(%s, %s): got %q, want %q", tc.provider, tc.src, got, tc.want)
		}
		if len(tc.key) >= 12 && strings.Contains(got, tc.key[3:len(tc.key)-4]) {
			t.Errorf("KeyStatus shows the key's middle: %q", got)
		}
	}
}

func TestBuildLines(t *testing.T) {
	t.Parallel()
	var out []string
	for i := range BuildLines + 50 {
		out = AddLine(out, fmt.Sprintf("step %d\r\n", i))
	}
	if len(out) != BuildLines || out[0] != "step 50" {
		t.Errorf("kept %d lines from %q, want %d from %q", len(out), out[0], BuildLines, "step 50")
	}
	if got := BuildTail(out); !strings.HasPrefix(got, fmt.Sprintf("step %d\n", BuildLines+50-BuildShown)) || strings.Count(got, "\n") != BuildShown-1 {
		t.Errorf("tail: got %q", got)
	}
	if got := BuildTail([]string{"one"}); got != "one" {
		t.Errorf("tail of one line: got %q", got)
	}
}
