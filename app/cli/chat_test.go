package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker/dockertest"
)

const testKey = "sk-ant-test-CANARY-7f3a9c1e"

// TestChatEndToEnd runs `berth chat` against a fake Anthropic server that
// speaks the real SSE protocol and a real sandbox: the model writes a file,
// tries to write into a read-only mount (the error comes back as a tool
// result and the turn goes on) and answers.
func TestChatEndToEnd(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	ro := t.TempDir()
	os.WriteFile(filepath.Join(ro, "data.txt"), []byte("read me"), 0o644)

	if r := berth(t, "group", "add", "work"); r.code != 0 {
		t.Fatal(r.err)
	}
	if r := berth(t, "mount", "add", "-g", "work", ro, "--as", "docs"); r.code != 0 {
		t.Fatal(r.err)
	}
	fake.Queue(
		llmtest.Reply{Text: []string{"Let me write that down."}, ToolCalls: []llmtest.ToolCall{
			{ID: "t1", Name: "write_file", Input: `{"path":"/workspace/group/notes.md","content":"# Notes\nhello\n"}`},
		}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{
			{ID: "t2", Name: "bash", Input: `{"command":"echo x > /workspace/extra/docs/new.txt"}`},
		}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{
			{ID: "t3", Name: "bash", Input: `{"command":"cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c CANARY; true"}`},
		}},
		llmtest.Reply{Text: []string{"Done: notes.md is written; ", "the docs folder is read-only."}, Usage: llmtest.Usage{InputTokens: 120, OutputTokens: 30}},
	)
	r := berth(t, "chat", "-g", "work", "--yes", "write", "a", "note")
	if r.code != 0 {
		t.Fatalf("chat: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "Done: notes.md is written; the docs folder is read-only.") {
		t.Errorf("answer: %q", r.out)
	}
	if !strings.Contains(r.err, "✓ write_file") || !strings.Contains(r.err, "✗ bash") {
		t.Errorf("tool lines: %q", r.err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data", "groups", "work", "notes.md")); err != nil || string(b) != "# Notes\nhello\n" {
		t.Errorf("host file: %q %v", b, err)
	}
	// The EROFS error went back to the model as a tool result.
	reqs := fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("model requests: %d, want 4", len(reqs))
	}
	if !strings.Contains(string(reqs[2].Raw), "Read-only file system") {
		t.Errorf("the read-only error did not reach the model: %s", reqs[2].Raw)
	}
	// The key is nowhere in the sandbox: the grep over every environ found 0.
	if !strings.Contains(string(reqs[3].Raw), `0`) || strings.Contains(string(reqs[3].Raw), testKey) {
		t.Errorf("environ probe result: %s", reqs[3].Raw)
	}
	if !strings.Contains(string(reqs[0].Raw), "/workspace/extra/docs") {
		t.Errorf("the system prompt does not list the mount")
	}
	r = berth(t, "audit", "verify")
	if r.code != 0 {
		t.Errorf("verify: %s", r.out)
	}
	r = berth(t, "audit", "tail", "-n", "200", "--json")
	for _, kind := range []string{assistant.AuditMessageUser, agent.AuditModelRequest, agent.AuditToolCall, agent.AuditToolResult, agent.AuditFileWrite, assistant.AuditTurnEnd} {
		if !strings.Contains(r.out, `"`+kind+`"`) {
			t.Errorf("audit lacks %s", kind)
		}
	}
	// The key is in no file Berth wrote: not the DB, not the anchor, not the
	// settings, not the group folder.
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(testKey)) {
				t.Errorf("the API key is in %s", p)
			}
		}
		return nil
	})
	if strings.Contains(r.out+r.err, testKey) {
		t.Error("the API key is in the audit output")
	}

	// The next message continues the same chat with its history.
	fake.Queue(llmtest.Reply{Text: []string{"Yes."}})
	if r := berth(t, "chat", "-g", "work", "still", "there?"); r.code != 0 {
		t.Fatalf("second chat: %d %s", r.code, r.err)
	}
	if last := fake.Requests()[4]; !strings.Contains(string(last.Raw), "write a note") {
		t.Errorf("the second turn lacks the history")
	}
	r = berth(t, "session", "list", "-g", "work")
	if strings.Count(r.out, "\n") != 2 || !strings.Contains(r.out, "write a note") {
		t.Errorf("sessions: %q", r.out)
	}
}

func TestChatApprovalDeniedIsNotExecuted(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	berth(t, "group", "add", "work", "--approval", "ask-writes")
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"touch /workspace/group/denied"}`}}},
		llmtest.Reply{Text: []string{"OK, I did not do it."}},
	)
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"chat", "-g", "work", "make", "a", "file"}, IO{In: strings.NewReader("n\n"), Out: &out, Err: &errb})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "Allow bash") {
		t.Errorf("no approval prompt: %q", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "groups", "work", "denied")); err == nil {
		t.Error("a denied call ran")
	}
	if !strings.Contains(string(fake.Requests()[1].Raw), "denied") {
		t.Errorf("the model was not told: %s", fake.Requests()[1].Raw)
	}
	if r := berth(t, "audit", "tail", "--kind", "approval", "--json"); !strings.Contains(r.out, agent.AuditApprovalDeny) {
		t.Errorf("denial not audited: %s", r.out)
	}
}

func TestChatGateClosedKeepsTheMessage(t *testing.T) {
	withHome(t)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	r := berth(t, "chat", "remember", "the", "milk")
	if r.code != ExitGateClosed || !strings.Contains(r.err, "your message is saved") {
		t.Fatalf("got exit %d %q", r.code, r.err)
	}
	r = berth(t, "audit", "tail", "--kind", "message", "--json")
	if !strings.Contains(r.out, assistant.AuditMessageUser) {
		t.Errorf("the message is not audited: %s", r.out)
	}
}

func TestChatProviderErrorExits4(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	fake.Queue(llmtest.Reply{Status: 401})
	r := berth(t, "chat", "hello")
	if r.code != ExitProvider || !strings.Contains(r.err, "berth auth set anthropic") || strings.Contains(r.err, testKey) {
		t.Errorf("got exit %d %q", r.code, r.err)
	}
}

// TestChatThroughOpenAICompatible runs the same loop against a fake
// OpenAI-compatible server (as Ollama, LM Studio or vLLM would serve it).
func TestChatThroughOpenAICompatible(t *testing.T) {
	dockertest.Client(t)
	dir := withHome(t)
	fake := llmtest.NewOpenAI(t)
	t.Setenv("OPENAI_BASE_URL", fake.URL)
	t.Setenv("OPENAI_API_KEY", "sk-openai-CANARY")
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c1", Name: "write_file", Input: `{"path":"hello.txt","content":"hi\n"}`}}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c2", Name: "edit_file", Input: `{"path":"hello.txt","old_string":"hi","new_string":"hello"}`}}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c3", Name: "grep", Input: `{"pattern":"hel+o"}`}}},
		llmtest.Reply{Text: []string{"Written and edited."}, Usage: llmtest.Usage{InputTokens: 50, OutputTokens: 5}},
	)
	r := berth(t, "chat", "--provider", "openai", "--model", "local-model", "--yes", "greet")
	if r.code != 0 || !strings.Contains(r.out, "Written and edited.") {
		t.Fatalf("chat: %d %q %q", r.code, r.out, r.err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "data", "groups", "main", "hello.txt")); string(b) != "hello\n" {
		t.Errorf("host file: %q", b)
	}
	reqs := fake.Requests()
	if len(reqs) != 4 || reqs[0].Get("model") != "local-model" {
		t.Fatalf("requests: %d, model %v", len(reqs), reqs[0].Get("model"))
	}
	if !strings.Contains(string(reqs[3].Raw), "hello.txt:1:hello") {
		t.Errorf("grep result did not reach the model: %s", reqs[3].Raw)
	}
	if r := berth(t, "session", "list"); !strings.Contains(r.out, "55 tokens") {
		t.Errorf("session usage: %q", r.out)
	}
}
