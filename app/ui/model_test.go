package ui

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

var (
	openGate = assistant.GateState{Open: true, Docker: assistant.DockerReady}
	downGate = assistant.GateState{Docker: assistant.DockerDown, Reason: "cannot connect to the Docker daemon", Hint: "start Docker: `sudo systemctl start docker`"}
)

func agentEv(session string, ev assistant.AgentEvent) assistant.Event {
	return assistant.Event{Kind: assistant.EventAgent, Session: session, MessageID: 1, Agent: &ev}
}

// summary flattens a conversation to one string per item.
func summary(c *Conversation) []string {
	var out []string
	for _, it := range c.Items {
		switch it.Kind {
		case ItemUser:
			out = append(out, "user "+it.Text+" ["+it.Status+"] "+it.Note)
		case ItemAssistant:
			s := "assistant " + it.Text
			if it.Streaming {
				s += " …"
			}
			out = append(out, s)
		case ItemTool:
			out = append(out, "tool "+it.Card.Summary+": "+CardStatus(*it.Card))
		case ItemNotice:
			out = append(out, "notice "+it.Text)
		case ItemTurnEnd:
			s := "end " + it.Text
			if it.CanRetry() {
				s += " [retry]"
			}
			out = append(out, s)
		}
	}
	return out
}

func TestConversationApply(t *testing.T) {
	t.Parallel()
	const s = "chat-1"
	tests := []struct {
		name     string
		events   []assistant.Event
		want     []string
		busy     int64
		asking   bool
		input    bool
		unchange bool // the last event changes nothing shown
	}{
		{
			name:  "sent, waiting",
			want:  []string{"user hello [pending] "},
			busy:  1,
			input: true,
		},
		{
			name:   "queued behind another message",
			events: []assistant.Event{{Kind: assistant.EventQueued, Session: s, MessageID: 1, Position: 2}},
			want:   []string{"user hello [pending] Queued: 1 message ahead in this group"},
			busy:   1, input: true,
		},
		{
			name:   "waiting for the gate",
			events: []assistant.Event{{Kind: assistant.EventWaitGate, Session: s, MessageID: 1, Text: "Docker is not running"}},
			want:   []string{"user hello [pending] Waiting: Docker is not running"},
			busy:   1, input: true,
		},
		{
			name:   "waiting for a slot",
			events: []assistant.Event{{Kind: assistant.EventWaitSlot, Session: s, MessageID: 1, Text: "waiting for a free sandbox (4 running at most)"}},
			want:   []string{"user hello [pending] Waiting for a free sandbox (4 running at most)"},
			busy:   1, input: true,
		},
		{
			name: "streaming text",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentText, Text: "Hel"}), agentEv(s, assistant.AgentEvent{Kind: assistant.AgentText, Text: "lo!"})},
			want: []string{"user hello [running] ", "assistant Hello! …"},
			busy: 1, input: true,
		},
		{
			name: "tool call ends, text resumes in a new item",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentText, Text: "Let me look."}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: ls"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: 0, Duration: 1234 * time.Millisecond, Output: "a\nb\n"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentText, Text: "Two files."}),
				{Kind: assistant.EventTurnEnd, Session: s, MessageID: 1, Status: assistant.StatusDone}},
			want:  []string{"user hello [done] ", "assistant Let me look.", "tool bash: ls: exit 0 · 1.2s", "assistant Two files."},
			input: true,
		},
		{
			name: "approval asked",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"})},
			want: []string{"user hello [running] ", "tool bash: rm -rf build: Waiting for your approval"},
			busy: 1, asking: true, input: true,
		},
		{
			name: "approval denied",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentApproval, CallID: "c1"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentApprovalAnswer, CallID: "c1", Approval: assistant.Deny}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolEnd, CallID: "c1", ExitCode: -1, IsError: true})},
			want: []string{"user hello [running] ", "tool bash: rm -rf build: You denied this — not run"},
			busy: 1, input: true,
		},
		{
			name: "gate closes mid-turn: interrupted with the reason, input off",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make"}),
				{Kind: assistant.EventGate, Gate: &downGate},
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: -1, IsError: true,
					Output: "interrupted: the user stopped the turn while this call ran; it was killed"}),
				{Kind: assistant.EventTurnEnd, Session: s, MessageID: 1, Status: assistant.StatusInterrupted}},
			want: []string{"user hello [interrupted] ", "tool bash: make: Cut short — Docker went down: cannot connect to the Docker daemon",
				"end Interrupted: Docker went down (cannot connect to the Docker daemon). The partial answer is kept. [retry]"},
		},
		{
			name: "failed turn says why",
			events: []assistant.Event{{Kind: assistant.EventTurnStart, Session: s, MessageID: 1},
				{Kind: assistant.EventTurnEnd, Session: s, MessageID: 1, Status: assistant.StatusFailed, Err: "the API key was refused"}},
			want:  []string{"user hello [failed] ", "end Failed: the API key was refused — paste a new one in Settings. [retry]"},
			input: true,
		},
		{
			name: "retries and compaction are notices",
			events: []assistant.Event{agentEv(s, assistant.AgentEvent{Kind: assistant.AgentRetry, Err: errors.New("overloaded"), Attempt: 2, Wait: 2 * time.Second}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentCompacted, Text: "The conversation was shortened."})},
			want: []string{"user hello [pending] ", "notice The model provider failed (overloaded); retrying in 2s (attempt 2).", "notice The conversation was shortened."},
			busy: 1, input: true,
		},
		{
			name: "a tool call being written shows one line that grows, gone when the call starts",
			events: []assistant.Event{agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolProgress, Tool: "write_file", CallID: "c1", Bytes: 512}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolProgress, Tool: "write_file", CallID: "c1", Bytes: 2150})},
			want: []string{"user hello [pending] ", "notice Writing a tool call (write_file)… 2.1 KB"},
			busy: 1, input: true,
		},
		{
			name: "the progress line gives way to the card; a cut reply is a notice",
			events: []assistant.Event{agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolProgress, Tool: "bash", CallID: "c1", Bytes: 600}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: ls"}),
				agentEv(s, assistant.AgentEvent{Kind: assistant.AgentNotice, Text: "The reply was cut at the output limit."})},
			want: []string{"user hello [pending] ", "tool bash: ls: Running in the sandbox…", "notice The reply was cut at the output limit."},
			busy: 1, input: true,
		},
		{
			name:     "another chat's events are ignored",
			events:   []assistant.Event{{Kind: assistant.EventTurnStart, Session: "other", MessageID: 9}, agentEv("other", assistant.AgentEvent{Kind: assistant.AgentText, Text: "x"})},
			want:     []string{"user hello [pending] "},
			busy:     1,
			input:    true,
			unchange: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Conversation{Group: "work", Gate: openGate}
			c.Sent(1, s, "hello")
			changed := true
			for _, ev := range tc.events {
				changed = c.Apply(ev)
			}
			if got := summary(c); !slices.Equal(got, tc.want) {
				t.Errorf("items:\ngot  %q\nwant %q", got, tc.want)
			}
			if got := c.Busy(); got != tc.busy {
				t.Errorf("busy: got %d, want %d", got, tc.busy)
			}
			if got := c.Asking() != nil; got != tc.asking {
				t.Errorf("asking: got %v, want %v", got, tc.asking)
			}
			if got := c.InputEnabled(); got != tc.input {
				t.Errorf("input enabled: got %v, want %v", got, tc.input)
			}
			if changed == tc.unchange && len(tc.events) > 0 {
				t.Errorf("last event changed: got %v, want %v", changed, !tc.unchange)
			}
		})
	}
}

func TestBannerFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		gate assistant.GateState
		want Banner
	}{
		{"open", openGate, Banner{}},
		{"docker down", downGate, Banner{Show: true, Title: "Docker is not running — the assistant is blocked",
			Reason: "cannot connect to the Docker daemon", Hint: "start Docker: `sudo systemctl start docker`", Action: ActionRetry, Typing: typingOffDocker}},
		{"down without a hint", assistant.GateState{Docker: assistant.DockerDown, Reason: "daemon gone"},
			Banner{Show: true, Title: "Docker is not running — the assistant is blocked", Reason: "daemon gone",
				Hint: "Start Docker; waiting messages run as soon as it is ready.", Action: ActionRetry, Typing: typingOffDocker}},
		{"misconfigured", assistant.GateState{Docker: assistant.DockerMisconfigured, Reason: "image missing", Hint: "make image"},
			Banner{Show: true, Title: "Docker needs attention — the assistant is blocked", Reason: "image missing", Hint: "make image", Action: ActionRetry, Typing: typingOffDocker}},
		{"sandbox image missing", assistant.GateState{Docker: assistant.DockerMisconfigured, Image: "berth-sandbox:latest",
			Reason: "sandbox image berth-sandbox:latest is missing", Hint: "run `make image` or click Build"},
			Banner{Show: true, Title: "Docker needs attention — the assistant is blocked", Reason: "sandbox image berth-sandbox:latest is missing",
				Hint: "run `make image` or click Build", Action: ActionBuild, Typing: typingOffDocker}},
		{"paused", assistant.GateState{Docker: assistant.DockerReady, Paused: "lunch", Reason: "the assistant is paused (lunch)", Hint: "resume it from the tray or with `berth resume`"},
			Banner{Show: true, Kind: BannerPaused, Title: "Paused by you", Reason: "the assistant is paused (lunch)", Hint: "resume it from the tray or with `berth resume`",
				Action: ActionResume, Typing: typingOffPaused}},
		{"checking", assistant.GateState{Docker: assistant.DockerChecking, Reason: "checking Docker…"},
			Banner{Show: true, Kind: BannerChecking, Title: "Checking Docker…", Typing: typingOffDocker}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := BannerFor(tc.gate); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCardStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		card ToolCard
		want string
	}{
		{"asking", ToolCard{Running: true, Asking: true}, "Waiting for your approval"},
		{"running", ToolCard{Running: true}, "Running in the sandbox…"},
		{"running once allowed", ToolCard{Running: true, Answer: "allow once"}, "Running in the sandbox… (you chose allow once)"},
		{"denied", ToolCard{Answer: "deny", ExitCode: -1}, "You denied this — not run"},
		{"stopped by the user", ToolCard{Cut: CutByUser, IsError: true, ExitCode: -1}, "Stopped by you"},
		{"stopped, but it had finished", ToolCard{Cut: CutByUser, ExitCode: 0, Duration: time.Second}, "exit 0 · 1s"},
		{"sandbox error", ToolCard{Err: "the sandbox stopped", ExitCode: -1}, "Could not run: the sandbox stopped"},
		{"ended", ToolCard{ExitCode: 2, Duration: 15300 * time.Millisecond}, "exit 2 · 15s"},
		{"fast", ToolCard{ExitCode: 0, Duration: 12345 * time.Microsecond}, "exit 0 · 12ms"},
		{"from history", ToolCard{Past: true, ExitCode: -1}, "Done"},
		{"failed, from history", ToolCard{Past: true, IsError: true, ExitCode: -1}, "Failed"},
		{"never ran", ToolCard{ExitCode: -1}, "Not run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := CardStatus(tc.card); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHistoryItems(t *testing.T) {
	t.Parallel()
	msgs := []assistant.Message{
		{ID: 1, Role: "user", Content: "list the files", Status: assistant.StatusDone},
		{ID: 2, Role: "assistant", Content: `{"parts":[{"Kind":"text","Text":"Sure."},{"Kind":"tool_use","ToolUseID":"c1","ToolName":"bash","Input":{"command":"ls -la"}}]}`},
		{ID: 3, Role: "tool", Content: `{"parts":[{"Kind":"tool_result","ToolUseID":"c1","Text":"a\nb"}]}`},
		{ID: 4, Role: "context", Content: `{"messages":[]}`},
		{ID: 5, Role: "user", Content: "and now?", Status: assistant.StatusInterrupted},
		{ID: 6, Role: "assistant", Content: `not json`},
	}
	got := summary(&Conversation{Items: HistoryItems(msgs)})
	want := []string{"user list the files [done] ", "assistant Sure.", "tool bash: ls -la: Done",
		"user and now? [interrupted] ", "notice A stored message could not be read.", "end Interrupted — the partial answer is kept. [retry]"}
	if !slices.Equal(got, want) {
		t.Errorf("items:\ngot  %q\nwant %q", got, want)
	}
	if items := HistoryItems(msgs); items[2].Card.Output != "a\nb" || items[2].Card.Input != `{"command":"ls -la"}` {
		t.Errorf("tool output %q, input %q; want %q and the call's input", items[2].Card.Output, items[2].Card.Input, "a\nb")
	}
}

// TestHistoryRetried: a turn sent again with Retry replaces, in the stored
// history too, the failed turn it retried.
func TestHistoryRetried(t *testing.T) {
	t.Parallel()
	msgs := []assistant.Message{
		{ID: 1, Role: "user", Content: "deploy", Status: assistant.StatusFailed},
		{ID: 2, Role: "user", Content: "deploy", Status: assistant.StatusDone},
		{ID: 3, Role: "assistant", Content: `{"parts":[{"Kind":"text","Text":"Deployed."}]}`},
		{ID: 4, Role: "user", Content: "again?", Status: assistant.StatusFailed},
	}
	got := summary(&Conversation{Items: HistoryItems(msgs)})
	want := []string{"user deploy [done] ", "assistant Deployed.", "user again? [failed] ", "end Failed. [retry]"}
	if !slices.Equal(got, want) {
		t.Errorf("items:\ngot  %q\nwant %q", got, want)
	}
}

// TestConversationStopAndRetry: after Stop, the end of the turn says the
// user stopped it, after the tool card it cut; Retry takes the whole turn
// out so that it is sent again in its place.
func TestConversationStopAndRetry(t *testing.T) {
	t.Parallel()
	const s = "chat-1"
	c := &Conversation{Group: "work", Gate: openGate}
	c.Sent(1, s, "build it")
	c.Apply(assistant.Event{Kind: assistant.EventTurnStart, Session: s, MessageID: 1})
	c.Apply(agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make"}))
	c.Stopping(1)
	c.Apply(agentEv(s, assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: -1, IsError: true,
		Output: "interrupted: the user stopped the turn while this call ran; it was killed"}))
	c.Apply(assistant.Event{Kind: assistant.EventTurnEnd, Session: s, MessageID: 1, Status: assistant.StatusInterrupted})
	want := []string{"user build it [interrupted] ", "tool bash: make: Stopped by you", "end Stopped by you — the partial answer is kept. [retry]"}
	if got := summary(c); !slices.Equal(got, want) {
		t.Fatalf("items:\ngot  %q\nwant %q", got, want)
	}
	if out := ShownOutput(*c.Items[1].Card); out != "" {
		t.Errorf("the card shows the words written for the model: %q", out)
	}
	text, ok := c.Retry(1)
	if !ok || text != "build it" || len(c.Items) != 0 {
		t.Errorf("retry: got %q, %v, %d items left; want the text and none", text, ok, len(c.Items))
	}
	if _, ok := c.Retry(1); ok {
		t.Error("a turn retried twice")
	}
}

func TestPreviewOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		more           bool
	}{
		{"short", "a\nb\n", "a\nb", false},
		{"exactly four", "1\n2\n3\n4", "1\n2\n3\n4", false},
		{"long", "1\n2\n3\n4\n5\n6", "1\n2\n3\n4", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, more := PreviewOf(tc.in)
			if got != tc.want || more != tc.more {
				t.Errorf("got %q, %v; want %q, %v", got, more, tc.want, tc.more)
			}
		})
	}
}

func TestApprovals(t *testing.T) {
	t.Parallel()
	t.Run("answer after ask", func(t *testing.T) {
		t.Parallel()
		var a Approvals
		got := make(chan assistant.Approval)
		go func() {
			ans, _ := a.Ask(context.Background(), assistant.ApprovalRequest{CallID: "c1"})
			got <- ans
		}()
		a.Answer("c1", assistant.AllowAlways)
		if ans := <-got; ans != assistant.AllowAlways {
			t.Errorf("got %v, want %v", ans, assistant.AllowAlways)
		}
	})
	t.Run("answer before ask", func(t *testing.T) {
		t.Parallel()
		var a Approvals
		a.Answer("c1", assistant.AllowOnce)
		a.Answer("c1", assistant.Deny) // ignored
		ans, err := a.Ask(context.Background(), assistant.ApprovalRequest{CallID: "c1"})
		if ans != assistant.AllowOnce || err != nil {
			t.Errorf("got %v, %v; want %v, nil", ans, err, assistant.AllowOnce)
		}
	})
	t.Run("stopped turn", func(t *testing.T) {
		t.Parallel()
		var a Approvals
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ans, err := a.Ask(ctx, assistant.ApprovalRequest{CallID: "c1"})
		if ans != assistant.Deny || !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, %v; want deny, context.Canceled", ans, err)
		}
	})
}
