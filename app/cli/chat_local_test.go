package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestChatCtrlCExits130: Ctrl-C while the reply streams ends `berth chat`
// with 130 and the interrupted line, not 0 and the normal summary.
func TestChatCtrlCExits130(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	fake.Queue(llmtest.Reply{Text: []string{"Working on ", "it"}, HoldAfter: 4})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C once the model is answering (signal.NotifyContext in Run
		// turns SIGINT into this cancel).
		deadline := time.Now().Add(60 * time.Second)
		for len(fake.Requests()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb bytes.Buffer
	code := Run(ctx, []string{"chat", "hello"}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != ExitInterrupt {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupt, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") || strings.Contains(errb.String(), "[chat ") {
		t.Errorf("stderr: %q", errb.String())
	}
}

// TestOneShotChatStopsItsSandbox: the sandbox a one-shot `berth chat`
// started for its tool calls is stopped when it exits.
func TestOneShotChatStopsItsSandbox(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"echo hi"}`}}},
		llmtest.Reply{Text: []string{"Done."}},
	)
	if r := berth(t, "chat", "--yes", "say", "hi"); r.code != 0 {
		t.Fatalf("chat: %d %s", r.code, r.err)
	}
	// Stopped is the claim: the engine may still be removing the container
	// (it is started with auto-remove), which `sandbox list` shows.
	r := berth(t, "sandbox", "list", "--json")
	var list []docker.Sandbox
	if r.code != 0 || json.Unmarshal([]byte(r.out), &list) != nil {
		t.Fatalf("sandbox list: %d %s %s", r.code, r.out, r.err)
	}
	for _, sb := range list {
		if sb.Running() {
			t.Errorf("a sandbox outlived the one-shot chat: %s", r.out)
		}
	}
	r = berth(t, "audit", "tail", "-n", "50")
	if !strings.Contains(r.out, "the one-shot chat ended") {
		t.Errorf("the stop is not audited: %s", r.out)
	}
}

func TestToolAndProgressLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   agent.Event
		got  func(agent.Event) string
		want string
	}{
		{"ok", agent.Event{Tool: "bash", Summary: "bash: make test", ExitCode: 0, Duration: 1200 * time.Millisecond}, toolLine,
			"✓ bash: make test → exit 0, 1.2s"},
		{"failed with its reason", agent.Event{Tool: "edit_file", Summary: "edit_file", ExitCode: -1, IsError: true,
			Output: "\nold_string was not found in /workspace/group/a.md\nmore"}, toolLine,
			"✗ edit_file → exit -1, 0s: old_string was not found in /workspace/group/a.md"},
		{"progress in bytes", agent.Event{Tool: "write_file", Bytes: 512}, progressLine, "writing a tool call (write_file)… 512 B"},
		{"progress in KB", agent.Event{Tool: "write_file", Bytes: 2150}, progressLine, "writing a tool call (write_file)… 2.1 KB"},
		{"progress of an unnamed call", agent.Event{Bytes: 0}, progressLine, "writing a tool call… 0 B"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.got(tc.ev); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
