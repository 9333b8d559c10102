package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
)

func TestSystemPrompt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      PromptInput
		want    []string
		wantNot []string
	}{
		{"defaults", PromptInput{Now: now, Group: "home"},
			[]string{DefaultPersona, "Today is Saturday, 14 March 2026.", `group "home"`, "/workspace/group — the group's own folder, read-write",
				"MEMORY.md is empty so far.", "network mode is none", "no network", "bash, read_file, write_file, edit_file, list_files, grep",
				"update /workspace/group/MEMORY.md with edit_file", "shared no other folders"},
			[]string{"<memory>", "can reach the network"}},
		{"persona, memory and mounts", PromptInput{
			Persona: "You are Ada, a terse helper.", Now: now, Group: "work", Memory: "- The user's name is Sam.\n",
			Mounts: []MountInfo{
				{Path: "/workspace/extra/docs", ReadOnly: true},
				{Path: "/workspace/extra/app", Masked: []string{"/workspace/extra/app/.env", "key.pem"}},
			},
			Tools: []string{"read_file", "grep"}, Network: egress.ModeOpen},
			[]string{"You are Ada, a terse helper.", "<memory>\n- The user's name is Sam.\n</memory>",
				"/workspace/extra/docs — a folder the user shared, read-only", "Read-only file system",
				"/workspace/extra/app — a folder the user shared, read-write.", "masked (they read as empty",
				"/workspace/extra/app/.env, /workspace/extra/app/key.pem", "You have these tools: read_file, grep.", "can reach the network"},
			[]string{DefaultPersona, "no network", "bash"}},
		{"allowlist", PromptInput{Network: egress.ModeAllowlist, NetHosts: []string{"pypi.org", "10.0.0.5:11434"}},
			[]string{"network mode is allowlist", "only through Berth's proxy", "pypi.org, 10.0.0.5:11434", "403", "ask them to allow it"},
			[]string{"no network", "can reach the network"}},
		{"allowlist with no rules yet", PromptInput{Network: egress.ModeAllowlist},
			[]string{"allows for this group: none yet"}, nil},
		{"long memory is cut", PromptInput{Memory: strings.Repeat("m", maxMemoryBytes+100)},
			[]string{"the first 16384 of its 16484 bytes"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := SystemPrompt(tc.in)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("prompt lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("prompt has %q", w)
				}
			}
		})
	}
}
