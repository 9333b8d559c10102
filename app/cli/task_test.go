package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker/dockertest"
)

func TestTaskCommands(t *testing.T) {
	withHome(t)
	r := berth(t, "task", "add", "-g", "main", "--cron", "0 8 * * 1-5", "--title", "Morning notes", "summarise", "my", "notes")
	if r.code != ExitOK || !strings.Contains(r.out, `"Morning notes" in main: on weekdays at 08:00`) || !strings.Contains(r.out, "next runs:") {
		t.Fatalf("task add: exit %d\n%s%s", r.code, r.out, r.err)
	}
	id := strings.Fields(r.out)[2]
	t.Logf("%s", strings.TrimSpace(r.out))

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"task", "add", "--cron", "0 8 * * *", "--every", "1h", "x"}, ExitUsage, "exactly one of"},
		{[]string{"task", "add", "--cron", "99 * * * *", "x"}, ExitUsage, "cron expression"},
		{[]string{"task", "add", "--every", "10s", "x"}, ExitUsage, "shorter than 1m"},
		{[]string{"task", "show", "t-nope"}, ExitUsage, "berth task list"},
		{[]string{"task", "fly"}, ExitUsage, "usage: berth task"},
	} {
		if r := berth(t, c.args...); r.code != c.code || !strings.Contains(r.out+r.err, c.want) {
			t.Errorf("%v: exit %d %q, want %d containing %q", c.args, r.code, r.out+r.err, c.code, c.want)
		}
	}

	if r := berth(t, "task", "list"); r.code != ExitOK || !strings.Contains(r.out, "Morning notes") || !strings.Contains(r.out, "never") {
		t.Fatalf("task list:\n%s%s", r.out, r.err)
	}
	if r := berth(t, "task", "pause", id); r.code != ExitOK {
		t.Fatal(r.err)
	}
	r = berth(t, "task", "list", "--json")
	var infos []struct {
		ID      string `json:"id"`
		Enabled bool   `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(r.out), &infos); err != nil || len(infos) != 1 || infos[0].Enabled {
		t.Fatalf("after pause: %v %s", err, r.out)
	}
	if r := berth(t, "task", "resume", id); r.code != ExitOK {
		t.Fatal(r.err)
	}
	if r := berth(t, "task", "show", id); !strings.Contains(r.out, "next runs:") {
		t.Fatalf("after resume: %s", r.out)
	}
	if r := berth(t, "task", "rm", id); r.code != ExitOK {
		t.Fatal(r.err)
	}
	if r := berth(t, "audit", "tail", "--kind", "task"); strings.Count(r.out, assistant.AuditTaskChanged) != 2 || !strings.Contains(r.out, assistant.AuditTaskCreated) || !strings.Contains(r.out, assistant.AuditTaskRemoved) {
		t.Errorf("task audit events:\n%s", r.out)
	}
}

func TestTaskRunNowWithoutARunningBerth(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"echo checked > /workspace/group/check.txt"}`}}},
		llmtest.Reply{Text: []string{"The build is green."}},
	)
	r := berth(t, "task", "add", "--every", "2h", "--title", "Build check", "check the build")
	if r.code != ExitOK {
		t.Fatal(r.err)
	}
	id := strings.Fields(r.out)[2]
	r = berth(t, "task", "run", id)
	t.Logf("task run: exit %d: %s%s", r.code, r.out, r.err)
	if r.code != ExitOK || !strings.Contains(r.out, `task "Build check" finished`) {
		t.Fatalf("task run: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := berth(t, "task", "history", id); !strings.Contains(r.out, "finished") {
		t.Errorf("history:\n%s", r.out)
	}
	if r := berth(t, "audit", "verify"); r.code != ExitOK {
		t.Errorf("audit verify: %s%s", r.out, r.err)
	}
}
