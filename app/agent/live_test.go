package agent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
)

// goid names the calling goroutine, to check where events arrive.
func goid() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return string(bytes.Fields(b)[1])
}

// liveTurn runs one bash call through RunTurn and returns the events, each
// checked to arrive on RunTurn's goroutine, and the call's result.
func liveTurn(t *testing.T, sb Sandbox, command string, onOutput func(Event)) ([]Event, string) {
	t.Helper()
	p := &fakeProvider{replies: []fakeReply{replyWith(use{"c1", "bash", mustJSON(t, map[string]any{"command": command, "timeout_s": 60})}), replyWith("Done.")}}
	var events []Event
	me := goid()
	cfg := testConfig(p, &recorder{})
	cfg.OnEvent = func(ev Event) {
		if g := goid(); g != me {
			t.Errorf("event %s arrived on goroutine %s, want RunTurn's %s", ev.Kind, g, me)
		}
		events = append(events, ev)
		if ev.Kind == EventToolOutput && onOutput != nil {
			onOutput(ev)
		}
	}
	res, err := RunTurn(context.Background(), cfg, sb, "", []llm.Message{llm.UserText("go")})
	if err != nil {
		t.Fatal(err)
	}
	r := toolResults(res.Messages)
	if len(r) != 1 {
		t.Fatalf("got %d results", len(r))
	}
	return events, r[0].Text
}

// liveText joins the tool_output events, checking they all come between
// the call's start and its end.
func liveText(t *testing.T, events []Event) (string, int) {
	t.Helper()
	var b strings.Builder
	n, started, ended := 0, false, false
	for _, ev := range events {
		switch ev.Kind {
		case EventToolStart:
			started = true
		case EventToolEnd:
			ended = true
		case EventToolOutput:
			if !started || ended || ev.CallID != "c1" || ev.Tool != ToolBash {
				t.Errorf("tool_output %q out of place (started %v, ended %v, call %q, tool %q)", ev.Text, started, ended, ev.CallID, ev.Tool)
			}
			b.WriteString(ev.Text)
			n++
		}
	}
	return b.String(), n
}

func TestLiveOutputInSandbox(t *testing.T) { onBothPaths(t, testLiveOutputInSandbox) }

func testLiveOutputInSandbox(t *testing.T, path string) {
	sb, dir := testSandboxOn(t, path)
	t.Run("while it runs", func(t *testing.T) {
		// The command waits for a file that the test makes only once it
		// saw the command's first line as an event: the output is live,
		// or the call would wait until its time limit.
		events, result := liveTurn(t, sb, "echo ready; while [ ! -e go ]; do sleep 0.05; done; echo done >&2", func(ev Event) {
			if strings.Contains(ev.Text, "ready") {
				_ = os.WriteFile(filepath.Join(dir, "go"), nil, 0o666)
			}
		})
		live, _ := liveText(t, events)
		if live != "ready\ndone\n" {
			t.Errorf("live output: got %q, want %q", live, "ready\ndone\n")
		}
		if !strings.Contains(result, "ready") || strings.Contains(result, "killed") {
			t.Errorf("result: got %q", result)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		events, result := liveTurn(t, sb, "head -c 1000000 /dev/zero | tr '\\0' x", nil)
		live, n := liveText(t, events)
		if !strings.HasSuffix(live, liveCapNote) || len(live) != LiveMaxBytes+len(liveCapNote) || strings.Trim(live[:LiveMaxBytes], "x") != "" {
			t.Errorf("live output: got %d bytes in %d events, ending %q; want %d x then the note", len(live), n, live[max(0, len(live)-80):], LiveMaxBytes)
		}
		if !strings.Contains(result, "[the output was long") && !strings.Contains(result, "cut from the middle") {
			t.Errorf("result: got %q…, want the usual capped result", result[:min(len(result), 200)])
		}
		t.Logf("%s path: 1 MB of output → %d live events, %d bytes shown, then the note", path, n, len(live))
	})
}

func TestLiveOutputCoalesced(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{exec: func(_ context.Context, req ExecRequest) (ExecResult, error) {
		for i := 0; i < 1000; i++ {
			req.OnOutput([]byte("0123456789"))
		}
		return ExecResult{Stdout: []byte("out")}, nil
	}}
	events, _ := liveTurn(t, sb, "anything", nil)
	live, n := liveText(t, events)
	if live != strings.Repeat("0123456789", 1000) {
		t.Errorf("got %d bytes, want the 10000 in order", len(live))
	}
	// 10,000 bytes in 1,000 chunks: an event per 4 KiB pending, per tick
	// or at the end — never one per chunk.
	if n < 1 || n >= 100 {
		t.Errorf("got %d events for 1,000 chunks, want them coalesced", n)
	}
}

func TestLiveOutputOnlyBash(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{exec: func(_ context.Context, req ExecRequest) (ExecResult, error) {
		if req.OnOutput != nil {
			t.Errorf("%q streams; only bash should", req.Argv)
		}
		return ExecResult{Stdout: []byte("berth-total 0 0\n")}, nil
	}}
	x := &executor{sb: sb, callTimeout: time.Second, outputCap: DefaultOutputCap, live: func(string) {}}
	c, _ := parseCall(ToolListFiles, []byte(`{}`), nil, nil)
	c.run(context.Background(), x)
}

func TestLiveOutputKeepsCharacters(t *testing.T) {
	t.Parallel()
	l := newLiveOutput()
	l.add([]byte("caf\xc3"))
	if got := l.take(false); got != "caf" {
		t.Errorf("got %q, want the split é held back", got)
	}
	l.add([]byte("\xa9!"))
	if got := l.take(false); got != "é!" {
		t.Errorf("got %q, want é!", got)
	}
	l.add([]byte("\xe2\x82"))
	if got := l.take(true); got != "\uFFFD" {
		t.Errorf("final: got %q, want the broken character shown as such", got)
	}
}
