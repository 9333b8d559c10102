package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
)

// TestChatEngineLostAtEachStage runs a one-shot `berth chat` (no running
// Berth) whose engine goes away at each stage of its tool call: the
// sandbox lookup, create, start, its tmpfs set-up exec, the command's exec,
// and the command running (this test binary has no embedded helper, so
// there is no helper delivery). Each time the command exits 3 with Docker's
// reason and fix, the model is asked once (not again with the failure as a
// tool result), the message is kept as interrupted, the call's tool.result
// says why it stopped, and the audit chain verifies.
//
// The monitor's event stream is spared by the cut, so that only its ping,
// up to 2 s later, would notice: the failed call has to. Before, the
// fake model — answering at once — was asked again and said "the command
// finished", and the chat could end done (exit 0) with Docker gone.
func TestChatEngineLostAtEachStage(t *testing.T) {
	_, paths, proxy, fake := proxiedChat(t)
	stages := []struct {
		name string
		on   *regexp.Regexp // nil: cut once the command runs
	}{
		{"lookup", regexp.MustCompile(`GET /v[0-9.]+/containers/json`)},
		{"create", regexp.MustCompile(`POST /v[0-9.]+/containers/create`)},
		{"start", regexp.MustCompile(`POST /v[0-9.]+/containers/[0-9a-f]{64}/start`)},
		{"tmpfs set-up", regexp.MustCompile(`berth-tmpfs`)},
		{"exec start", regexp.MustCompile(`stage-marker`)},
		{"mid-exec", nil},
	}
	var mu sync.Mutex
	var armed <-chan struct{}
	var arm *regexp.Regexp
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(string(req.Raw), "tool_result") {
			return llmtest.Reply{Text: []string{"the command finished"}}
		}
		mu.Lock()
		if arm != nil {
			armed = proxy.CutWhen(arm, "/events")
		}
		mu.Unlock()
		return llmtest.Reply{Text: []string{"Working on it. "}, ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash",
			Input: `{"command":"touch stage-running; echo stage-marker; sleep 30"}`}}}
	})
	running := filepath.Join(paths.GroupDir(assistant.DefaultGroup), "stage-running")
	for _, s := range stages {
		text := "stage " + s.name + "."
		before := len(fake.Requests())
		if err := os.Remove(running); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		mu.Lock()
		arm, armed = s.on, nil
		mu.Unlock()
		var out, errb syncBuffer
		done := make(chan int)
		go func() {
			done <- Run(context.Background(), []string{"chat", "--new", "--yes", text}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
		}()
		if s.on == nil {
			deadline := time.Now().Add(30 * time.Second)
			for _, err := os.Stat(running); err != nil; _, err = os.Stat(running) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: the command did not start within 30 s:\n%s", s.name, errb.String())
				}
				time.Sleep(20 * time.Millisecond) // polling the group folder
			}
			proxy.CutExcept("/events")
		}
		var code int
		select {
		case code = <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: berth chat did not end after Docker went away:\n%s", s.name, errb.String())
		}
		proxy.Restore()
		asked := len(fake.Requests()) - before
		t.Logf("%-13s exit %d, the user sees %q; the model was asked %d time(s)", s.name+":", code,
			strings.TrimSpace(out.String())+" | "+oneLine(errb.String()), asked)
		mu.Lock()
		fired := armed
		mu.Unlock()
		if s.on != nil && (fired == nil || !closed(fired)) {
			t.Errorf("%s: the cut never fired", s.name)
		}
		if asked != 1 || strings.Contains(out.String(), "the command finished") {
			t.Errorf("%s: the model was asked %d times (stdout %q); want once, not again after the call failed", s.name, asked, out.String())
		}
		if e := errb.String(); code != ExitGateClosed || !strings.Contains(e, "Docker is not running") || !strings.Contains(e, "— start ") || !strings.Contains(e, "the partial answer is saved") {
			t.Errorf("%s: exit %d, stderr %q; want %d with Docker's reason and fix", s.name, code, e, ExitGateClosed)
		}
		turn, result := lastEvent(t, assistant.AuditTurnEnd), lastEvent(t, agent.AuditToolResult)
		if !strings.Contains(string(turn.Detail), `"status":"`+assistant.StatusInterrupted+`"`) {
			t.Errorf("%s: the turn's end: %s; want it interrupted", s.name, turn.Detail)
		}
		if !strings.Contains(string(result.Detail), `"stopped":"`) || !strings.Contains(string(result.Detail), "Docker is not running") {
			t.Errorf("%s: the call's tool.result: %s; want it to say the turn stopped because Docker is not running", s.name, result.Detail)
		}
	}
	if r := berth(t, "audit", "verify"); r.code != 0 {
		t.Errorf("audit verify: exit %d %s %s", r.code, r.out, r.err)
	}
}

// lastEvent is the newest audit event of a kind.
func lastEvent(t *testing.T, kind string) store.Event {
	t.Helper()
	r := berth(t, "audit", "tail", "-n", "1", "--kind", kind, "--json")
	var ev store.Event
	if r.code != 0 || json.Unmarshal([]byte(r.out), &ev) != nil {
		t.Fatalf("audit tail --kind %s: %d %q %q", kind, r.code, r.out, r.err)
	}
	return ev
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
