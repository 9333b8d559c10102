package ui

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

var update = flag.Bool("update", false, "rewrite the golden markup files in testdata/")

// assertGolden compares the window with testdata/NAME (rewriting it first
// with -update).
func assertGolden(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	if *update {
		path := filepath.Join("testdata", name)
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(test.RenderToMarkup(w.Canvas())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, name, w.Canvas())
}

// newFake is an assistant with one group, its one chat, and an open gate.
func newFake() *fakeAssistant {
	return &fakeAssistant{
		gate:     openGate,
		groups:   []assistant.Group{{Slug: "work", Name: "Work"}},
		sessions: map[string][]assistant.Session{"work": {{ID: "s1", Group: "work", Title: "Fix the build"}}},
	}
}

// openChat shows the view in a test window, 800×600.
func openChat(t *testing.T, f *fakeAssistant) (*ChatView, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	v := NewChatView(context.Background(), f)
	v.work = inline // the store calls' own goroutine is tested in TestChatOffTheUIThread
	w := NewChatWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(800, 600))
	return v, w
}

// inline runs work on the caller's goroutine, in order.
func inline(f func()) { f() }

// walk calls fn on o and everything it shows.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}

func button(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(w.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no visible button %q", text)
	}
	return found
}

// running puts a turn with a tool call in the open chat s1.
func running(v *ChatView, callID string, events ...assistant.AgentEvent) {
	v.Open(assistant.Session{ID: "s1", Group: "work", Title: "Fix the build"})
	v.conv.Sent(7, "s1", "Run the tests")
	v.Handle(assistant.Event{Kind: assistant.EventTurnStart, Session: "s1", MessageID: 7})
	for _, ev := range events {
		v.Handle(agentEv("s1", ev))
	}
}

func TestChatGolden(t *testing.T) {
	tests := []struct {
		name  string
		gate  assistant.GateState
		setup func(v *ChatView)
	}{
		{"chat_empty.xml", openGate, func(*ChatView) {}},
		{"chat_tool_card.xml", openGate, func(v *ChatView) {
			running(v, "c1",
				assistant.AgentEvent{Kind: assistant.AgentText, Text: "I'll run the **tests** first."},
				assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: go test ./..."},
				assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: 1, Duration: 2300 * time.Millisecond,
					Output: "--- FAIL: TestParse\n    parse_test.go:12: got 1, want 2\nFAIL\nFAIL\tgithub.com/x/y\t0.01s\nexit status 1\n"},
				assistant.AgentEvent{Kind: assistant.AgentText, Text: "One test fails:\n\n- `TestParse`"})
		}},
		{"chat_approval.xml", openGate, func(v *ChatView) {
			running(v, "c1",
				assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"},
				assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"})
		}},
		{"chat_gate_closed.xml", downGate, func(*ChatView) {}},
		{"chat_paused.xml", assistant.GateState{Docker: assistant.DockerReady, Paused: "lunch", Reason: "the assistant is paused (lunch)", Hint: "resume it from the tray or with `berth resume`"}, func(*ChatView) {}},
		{"chat_stopped.xml", openGate, func(v *ChatView) {
			running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make -j8 " + strings.Repeat("target ", 60)})
			v.conv.Stopping(7)
			v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: -1, IsError: true,
				Output: "interrupted: the user stopped the turn while this call ran; it was killed"}))
			v.Handle(assistant.Event{Kind: assistant.EventTurnEnd, Session: "s1", MessageID: 7, Status: assistant.StatusInterrupted})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.gate = tc.gate
			v, w := openChat(t, f)
			tc.setup(v)
			assertGolden(t, tc.name, w)
		})
	}
}

func TestChatEnterSends(t *testing.T) {
	f := newFake()
	var got []assistant.ChatRequest
	f.SendFunc = func(req assistant.ChatRequest) (assistant.Message, error) {
		got = append(got, req)
		return assistant.Message{ID: 1, Session: "new-chat"}, nil
	}
	v, _ := openChat(t, f)
	test.Type(v.input, "hello there")
	v.input.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(got) != 1 {
		t.Fatalf("Send called %d times, want 1", len(got))
	}
	if got[0].Text != "hello there" || got[0].Group != "work" || got[0].Session != "" || got[0].Approve == nil {
		t.Errorf("request: got %+v, want text %q in group work, a new chat, an approver", got[0], "hello there")
	}
	if v.input.Text != "" {
		t.Errorf("input after sending: got %q, want empty", v.input.Text)
	}
	if v.conv.Session != "new-chat" || v.conv.Busy() != 1 {
		t.Errorf("chat: got session %q busy %d, want new-chat, 1", v.conv.Session, v.conv.Busy())
	}
	if !v.stopBtn.Visible() {
		t.Error("Stop is hidden while the message waits")
	}
}

func TestChatShiftEnterAddsLine(t *testing.T) {
	f := newFake()
	sends := 0
	f.SendFunc = func(assistant.ChatRequest) (assistant.Message, error) { sends++; return assistant.Message{}, nil }
	v, _ := openChat(t, f)
	test.Type(v.input, "one")
	v.input.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	v.input.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	v.input.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
	test.Type(v.input, "two")
	if sends != 0 || v.input.Text != "one\ntwo" {
		t.Errorf("got %d sends, text %q; want 0, %q", sends, v.input.Text, "one\ntwo")
	}
}

func TestChatSendErrorKeepsText(t *testing.T) {
	f := newFake()
	f.SendFunc = func(assistant.ChatRequest) (assistant.Message, error) {
		return assistant.Message{}, errors.New("disk full")
	}
	v, _ := openChat(t, f)
	test.Type(v.input, "keep me")
	test.Tap(v.sendBtn)
	if v.input.Text != "keep me" || v.status.Text != "Not sent: disk full" {
		t.Errorf("got text %q, status %q; want the text kept and the error shown", v.input.Text, v.status.Text)
	}
}

func TestChatGateClosedDisablesInput(t *testing.T) {
	f := newFake()
	f.gate = downGate
	sends := 0
	f.SendFunc = func(assistant.ChatRequest) (assistant.Message, error) { sends++; return assistant.Message{}, nil }
	v, _ := openChat(t, f)
	if !v.input.Disabled() || !v.sendBtn.Disabled() {
		t.Fatal("input enabled while Docker is down")
	}
	v.input.SetText("hello")
	v.input.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	test.Tap(v.sendBtn)
	if sends != 0 {
		t.Errorf("Send called %d times with the gate closed, want 0", sends)
	}
	v.Handle(assistant.Event{Kind: assistant.EventGate, Gate: &openGate})
	if v.input.Disabled() || len(v.banner.Objects) != 0 {
		t.Error("input still off, or banner still shown, after the gate opened")
	}
}

func TestChatApprovalButtons(t *testing.T) {
	tests := []struct {
		button string
		want   assistant.Approval
	}{
		{"Allow once", assistant.AllowOnce},
		{AlwaysLabel("bash"), assistant.AllowAlways},
		{"Deny", assistant.Deny},
	}
	for _, tc := range tests {
		t.Run(tc.button, func(t *testing.T) {
			v, w := openChat(t, newFake())
			running(v, "c1",
				assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: rm -rf build"},
				assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1"})
			test.Tap(button(t, w, tc.button))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := v.approvals.Ask(ctx, assistant.ApprovalRequest{CallID: "c1"})
			if err != nil || got != tc.want {
				t.Errorf("answer: got %v, %v; want %v", got, err, tc.want)
			}
			if v.conv.Asking() != nil {
				t.Error("the card still asks after the answer")
			}
		})
	}
}

func TestChatStopCancels(t *testing.T) {
	f := newFake()
	var canceled []int64
	f.CancelFunc = func(id int64) error { canceled = append(canceled, id); return nil }
	v, w := openChat(t, f)
	running(v, "c1")
	test.Tap(button(t, w, "Stop"))
	if !slices.Equal(canceled, []int64{7}) {
		t.Errorf("canceled %v, want [7]", canceled)
	}
	v.Handle(assistant.Event{Kind: assistant.EventTurnEnd, Session: "s1", MessageID: 7, Status: assistant.StatusInterrupted})
	if v.stopBtn.Visible() {
		t.Error("Stop still shows after the turn ended")
	}
	f.CancelFunc = func(int64) error { return ErrCannotStop }
	f.SendFunc = func(req assistant.ChatRequest) (assistant.Message, error) {
		return assistant.Message{ID: 8, Session: req.Session}, nil
	}
	test.Tap(button(t, w, "Retry"))
	if v.conv.Busy() != 8 {
		t.Errorf("after Retry: busy %d, want 8", v.conv.Busy())
	}
	test.Tap(button(t, w, "Stop"))
	if v.status.Text == "" {
		t.Error("a refused stop is not explained")
	}
}

func TestChatNewChatShortcut(t *testing.T) {
	v, _ := openChat(t, newFake())
	v.Open(assistant.Session{ID: "s1", Group: "work"})
	v.conv.Sent(1, "s1", "hi")
	v.input.TypedShortcut(newChatShortcut)
	if v.conv.Session != "" || len(v.conv.Items) != 0 || v.conv.Group != "work" {
		t.Errorf("after Ctrl+N: got session %q with %d items in %q, want a new empty chat in work", v.conv.Session, len(v.conv.Items), v.conv.Group)
	}
}

func TestChatOpenHistory(t *testing.T) {
	f := newFake()
	f.messages = map[string][]assistant.Message{"s1": {
		{ID: 1, Role: "user", Content: "hi", Status: assistant.StatusDone},
		{ID: 2, Role: "assistant", Content: `{"parts":[{"Kind":"text","Text":"Hello!"}]}`},
	}}
	v, _ := openChat(t, f)
	clickChat(t, v, "s1")
	if got := summary(v.conv); !slices.Equal(got, []string{"user hi [done] ", "assistant Hello!"}) {
		t.Errorf("items: got %q", got)
	}
	if v.header.Text != "Fix the build · Work" {
		t.Errorf("header: got %q, want %q", v.header.Text, "Fix the build · Work")
	}
}

func TestChatWatch(t *testing.T) {
	f := newFake()
	f.events = make(chan assistant.Event)
	v, _ := openChat(t, f)
	queued := make(chan func(), 1)
	v.do = func(fn func()) { queued <- fn }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v.Watch(ctx)
	(<-queued)() // the gate as it is when watching starts
	f.events <- assistant.Event{Kind: assistant.EventGate, Gate: &downGate}
	(<-queued)() // on the test's goroutine, as Fyne's thread would
	if !v.input.Disabled() || len(v.banner.Objects) != 1 {
		t.Error("a closed gate from the stream did not disable input and show the banner")
	}
}

func TestChatBannerActionAndUsage(t *testing.T) {
	f := newFake()
	f.gate = downGate
	v, _ := openChat(t, f)
	var got []string
	v.OnBannerAction = func(a string) { got = append(got, a) }
	v.Usage = func(context.Context, string) (assistant.Usage, error) {
		return assistant.Usage{InputTokens: 1200, OutputTokens: 34}, nil
	}
	v.Handle(assistant.Event{Kind: assistant.EventGate, Gate: &downGate})
	var retry *widget.Button
	for _, o := range test.LaidOutObjects(v.banner) {
		if b, ok := o.(*widget.Button); ok && b.Text == ActionRetry {
			retry = b
		}
	}
	if retry == nil {
		t.Fatal("the banner of a down Docker has no Retry button")
	}
	test.Tap(retry)
	if len(got) != 1 || got[0] != ActionRetry {
		t.Errorf("banner action: got %v, want [Retry]", got)
	}
	v.Open(assistant.Session{ID: "s1", Group: "main", Title: "Budget"})
	if !strings.Contains(v.header.Text, "1234 tokens") {
		t.Errorf("header: got %q, want the chat's token usage", v.header.Text)
	}
}
