package assistant

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// countingEngine counts the helper's file operations a docker.Client made.
type countingEngine struct {
	*docker.Client
	files atomic.Int64
}

func (e *countingEngine) ReadFileNoFollow(ctx context.Context, id, p string, limit int64) ([]byte, error) {
	e.files.Add(1)
	return e.Client.ReadFileNoFollow(ctx, id, p, limit)
}

func (e *countingEngine) WriteFileNoFollow(ctx context.Context, id, p string, data []byte, mode uint32) error {
	e.files.Add(1)
	return e.Client.WriteFileNoFollow(ctx, id, p, data, mode)
}

// TestChatFilesThroughTheHelper: a chat's file tools go through the
// session sandbox's helper (not a shell), refuse a symlinked folder the
// model planted, and are audited as before; a bash call's output streams
// as tool_output events.
func TestChatFilesThroughTheHelper(t *testing.T) {
	t.Parallel()
	eng := &countingEngine{Client: dockertest.Client(t)}
	svc, st := newService(t, eng)
	fake := fakeModel(t, svc)
	call := func(id, name, input string) llmtest.Reply {
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: id, Name: name, Input: input}}}
	}
	fake.Queue(
		call("b", "bash", `{"command":"ln -s /etc /workspace/group/etc-link && echo planted"}`),
		call("w", "write_file", `{"path":"etc-link/planted.txt","content":"x"}`),
		call("w2", "write_file", `{"path":"notes/todo.md","content":"- milk\n"}`),
		call("e", "edit_file", `{"path":"notes/todo.md","old_string":"milk","new_string":"bread"}`),
		call("r", "read_file", `{"path":"notes/todo.md"}`),
		llmtest.Reply{Text: []string{"done"}},
	)
	ctx := context.Background()
	ss, err := svc.NewSession(ctx, "main", "files")
	if err != nil {
		t.Fatal(err)
	}
	var live strings.Builder
	ends := map[string]agent.Event{}
	res, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: ss.ID, Text: "go", OnEvent: func(ev agent.Event) {
		switch ev.Kind {
		case agent.EventToolOutput:
			live.WriteString(ev.Text)
		case agent.EventToolEnd:
			ends[ev.CallID] = ev
		}
	}})
	if err != nil || res.Turn.ToolCalls != 5 {
		t.Fatalf("chat: %v (%d tool calls)", err, res.Turn.ToolCalls)
	}
	if live.String() != "planted\n" {
		t.Errorf("live output of the bash call: got %q", live.String())
	}
	if ev := ends["w"]; !ev.IsError || !strings.Contains(ev.Output, "a symlink is on the way") {
		t.Errorf("write through the planted link: got %q (error %v), want it refused", ev.Output, ev.IsError)
	}
	if ev := ends["r"]; ev.IsError || !strings.Contains(ev.Output, "     1\t- bread") {
		t.Errorf("read back: got %q", ev.Output)
	}
	if n := eng.files.Load(); n != 5 {
		t.Errorf("%d file operations through the helper, want 5 (two writes, the edit's read and write, the read)", n)
	}
	evs, err := st.Events(ctx, store.Filter{Kind: agent.AuditFileWrite})
	if err != nil || len(evs) != 2 {
		t.Errorf("file.write audit events: got %d (%v), want the write and the edit", len(evs), err)
	}
	t.Logf("attack: the model plants a link to /etc and writes through it → refused; %d file operations went through the helper", eng.files.Load())
}
