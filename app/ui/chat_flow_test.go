package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// clickChat clicks a chat in the chat list.
func clickChat(t *testing.T, v *ChatView, id string) {
	t.Helper()
	for i, r := range v.navRows {
		if r.Heading == "" && r.Session.ID == id {
			v.nav.Select(i)
			return
		}
	}
	t.Fatalf("chat %s is not in the list (%+v)", id, v.navRows)
}

// TestChatListSelection: the chat list always highlights the chat in view —
// none after Ctrl+N, the new chat once its first message is stored — and a
// click on a chat opens it even right after Ctrl+N.
func TestChatListSelection(t *testing.T) {
	f := newFake()
	f.SendFunc = func(req assistant.ChatRequest) (assistant.Message, error) {
		if req.Session == "" {
			f.sessions["work"] = append([]assistant.Session{{ID: "s2", Group: "work", Title: "New one"}}, f.sessions["work"]...)
			return assistant.Message{ID: 5, Session: "s2"}, nil
		}
		return assistant.Message{ID: 6, Session: req.Session}, nil
	}
	v, _ := openChat(t, f)
	clickChat(t, v, "s1")
	if v.conv.Session != "s1" || v.navSelected != "s1" {
		t.Fatalf("after a click on s1: showing %q, selected %q", v.conv.Session, v.navSelected)
	}
	v.input.TypedShortcut(newChatShortcut)
	if v.conv.Session != "" || v.navSelected != "" {
		t.Fatalf("after Ctrl+N: showing %q, selected %q; want a new chat and no selection", v.conv.Session, v.navSelected)
	}
	clickChat(t, v, "s1")
	if v.conv.Session != "s1" {
		t.Fatalf("a click on s1 after Ctrl+N shows %q", v.conv.Session)
	}
	v.NewChat("")
	test.Type(v.input, "start something")
	v.onSend()
	if v.conv.Session != "s2" || v.navSelected != "s2" {
		t.Errorf("after sending in a new chat: showing %q, selected %q; want s2 selected", v.conv.Session, v.navSelected)
	}
	v.nav.Select(0) // the date heading
	if v.conv.Session != "s2" || v.navSelected != "s2" {
		t.Errorf("after a click on a heading: showing %q, selected %q; want s2 still", v.conv.Session, v.navSelected)
	}
}

// TestChatOffTheUIThread: sending stores the message through work, not on
// the caller (Fyne's thread): the caller returns while the store still
// works, and the result is applied through do.
func TestChatOffTheUIThread(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	calls := make(chan struct{}, 1)
	f.SendFunc = func(req assistant.ChatRequest) (assistant.Message, error) {
		calls <- struct{}{}
		<-release // a slow disk
		return assistant.Message{ID: 3, Session: "s1"}, nil
	}
	v, _ := openChat(t, f)
	v.Open(assistant.Session{ID: "s1", Group: "work"})
	queued := make(chan func(), 4)
	v.work = func(fn func()) { go fn() }
	v.do = func(fn func()) { queued <- fn }
	v.input.SetText("slow one")
	v.onSend() // returns although Send blocks
	<-calls
	if !v.sendBtn.Disabled() || v.input.Text != "slow one" {
		t.Errorf("while storing: send enabled %v, text %q; want Send off and the text kept", !v.sendBtn.Disabled(), v.input.Text)
	}
	v.onSend() // a second Enter while storing sends nothing more
	close(release)
	select {
	case fn := <-queued:
		fn()
	case <-time.After(30 * time.Second):
		t.Fatal("the stored message never came back to the UI thread")
	}
	if v.input.Text != "" || v.conv.Busy() != 3 || v.sendBtn.Disabled() {
		t.Errorf("after storing: text %q, busy %d, send disabled %v", v.input.Text, v.conv.Busy(), v.sendBtn.Disabled())
	}
	select {
	case <-calls:
		t.Error("a second Enter while storing sent the message twice")
	default:
	}
}

// TestChatRetryReplacesTheTurn: Retry sends the failed message again in
// place of the failed turn — one "You" bubble, no Retry left on it.
func TestChatRetryReplacesTheTurn(t *testing.T) {
	f := newFake()
	f.SendFunc = func(req assistant.ChatRequest) (assistant.Message, error) {
		return assistant.Message{ID: 8, Session: req.Session}, nil
	}
	v, w := openChat(t, f)
	running(v, "c1")
	v.Handle(assistant.Event{Kind: assistant.EventTurnEnd, Session: "s1", MessageID: 7, Status: assistant.StatusFailed, Err: "overloaded"})
	test.Tap(button(t, w, "Retry"))
	want := []string{"user Run the tests [pending] "}
	if got := summary(v.conv); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("after Retry: got %q, want %q", got, want)
	}
	walk(w.Content(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Retry" && b.Visible() {
			t.Error("a Retry button is left after retrying")
		}
	})
}

// TestChatStreamRebuildsOneItem: streamed tokens update the answer in
// place; the items before it are not built again.
func TestChatStreamRebuildsOneItem(t *testing.T) {
	v, _ := openChat(t, newFake())
	running(v, "c1",
		assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: ls"},
		assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: 0, Output: "a\n"})
	before := v.list.Builds
	for range 50 {
		v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentText, Text: "token "}))
	}
	if got := v.list.Builds - before; got != 1 {
		t.Errorf("50 tokens built %d item objects, want 1 (the answer, then updated in place)", got)
	}
	if rt := v.list.rows[len(v.list.rows)-1].text; rt == nil || !strings.Contains(rt.String(), strings.Repeat("token ", 49)) {
		t.Error("the answer's widget does not hold the streamed text")
	}
}

// TestChatLongLinesStayInside: one very long command neither widens the
// window nor its card: the summary is ellipsised, the full input wraps.
func TestChatLongLinesStayInside(t *testing.T) {
	v, w := openChat(t, newFake())
	long := "bash: " + strings.Repeat("x", 3000)
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: long},
		assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1", Summary: long})
	v.onAsk("c1", `{"command":"`+strings.Repeat("x", 3000)+`"}`)
	v.onExpand(v.conv.Asking())
	if got := w.Content().MinSize().Width; got > 700 {
		t.Errorf("the window's minimum width is %v with a long command, want it to stay small", got)
	}
	card := v.cardObject(v.conv.Asking())
	if got := card.MinSize().Width; got > 600 {
		t.Errorf("the card's minimum width is %v, want the long line wrapped", got)
	}
}

// TestChatApprovalShowsWhatItApproves: a bash approval shows the whole
// command, write_file its content (cut, with Show all), edit_file a diff;
// the "always" button names the tool.
func TestChatApprovalShowsWhatItApproves(t *testing.T) {
	content := strings.Repeat("line\n", 40)
	tests := []struct {
		tool, input string
		want        []string // texts shown
		showAll     bool
	}{
		{"bash", `{"command":"rm -rf build && make -j8 all"}`, []string{"Command", "rm -rf build && make -j8 all", AlwaysLabel("bash")}, false},
		{"write_file", `{"path":"/workspace/group/notes.md","content":` + jsonString(content) + `}`,
			[]string{"Write /workspace/group/notes.md (200 bytes)", AlwaysLabel("write_file")}, true},
		{"edit_file", `{"path":"/workspace/group/a.go","old_string":"x := 1","new_string":"x := 2"}`,
			[]string{"Change /workspace/group/a.go", "- x := 1\n+ x := 2", AlwaysLabel("edit_file")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.tool, func(t *testing.T) {
			v, w := openChat(t, newFake())
			running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: tc.tool, CallID: "c1", Summary: tc.tool},
				assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: tc.tool, CallID: "c1"})
			// The agent asks right after the approval event, on its goroutine.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			queued := make(chan func(), 1)
			v.do = func(fn func()) { queued <- fn }
			go v.approvals.Ask(ctx, assistant.ApprovalRequest{Tool: tc.tool, CallID: "c1", Input: []byte(tc.input)})
			(<-queued)()
			texts := shownTexts(w)
			for _, want := range tc.want {
				if !strings.Contains(texts, want) {
					t.Errorf("the approval does not show %q; it shows:\n%s", want, texts)
				}
			}
			if tc.showAll {
				if strings.Count(texts, "line") >= 40 {
					t.Error("all 40 lines show before Show all")
				}
				test.Tap(button(t, w, "Show all"))
				if got := strings.Count(shownTexts(w), "line"); got < 40 {
					t.Errorf("after Show all: %d lines, want 40", got)
				}
			}
		})
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// shownTexts is every label's and button's text in the window, one a line.
func shownTexts(w fyne.Window) string {
	var b strings.Builder
	walk(w.Content(), func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			if x.Visible() {
				b.WriteString(x.Text + "\n")
			}
		case *widget.Button:
			if x.Visible() {
				b.WriteString(x.Text + "\n")
			}
		}
	})
	return b.String()
}

// TestChatNoKeyOffersSettings: a turn that failed for want of an API key
// says to paste one in Settings, with the button, not a terminal command.
func TestChatNoKeyOffersSettings(t *testing.T) {
	v, w := openChat(t, newFake())
	opened := 0
	v.OnOpenSettings = func() { opened++ }
	running(v, "c1")
	v.Handle(assistant.Event{Kind: assistant.EventTurnEnd, Session: "s1", MessageID: 7, Status: assistant.StatusFailed,
		Err: "anthropic: no API key — set it with `berth auth set anthropic` or ANTHROPIC_API_KEY"})
	if texts := shownTexts(w); strings.Contains(texts, "berth auth") || !strings.Contains(texts, "paste one in Settings") {
		t.Errorf("the failure says:\n%s", texts)
	}
	test.Tap(button(t, w, "Open Settings"))
	if opened != 1 {
		t.Errorf("Open Settings opened %d times", opened)
	}
}

// TestChatApprovalAskedBeforeItsCard: the approval broker may tell the view
// what a call wants before the event stream made its card; the card still
// shows what it approves (and so its Show button: the keyboard path to
// Allow once counts on it).
func TestChatApprovalAskedBeforeItsCard(t *testing.T) {
	v, _ := openChat(t, newFake())
	v.Open(assistant.Session{ID: "s1", Group: "work", Title: "Fix the build"})
	v.conv.Sent(7, "s1", "Run the tests")
	v.Handle(assistant.Event{Kind: assistant.EventTurnStart, Session: "s1", MessageID: 7})
	v.onAsk("c1", `{"command":"make test"}`) // no card for c1 yet
	v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make test"}))
	v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1", Summary: "bash: make test"}))
	card := v.conv.Asking()
	if card == nil || card.Input != `{"command":"make test"}` {
		t.Fatalf("the asking card: %+v, want the input asked before it existed", card)
	}
	if len(v.asked) != 0 {
		t.Errorf("inputs still kept after their card came: %v", v.asked)
	}
}

// TestChatTitleSaysAnApprovalWaits: the window's title says so while the
// chat in view waits for an approval, and goes back once it is answered.
func TestChatTitleSaysAnApprovalWaits(t *testing.T) {
	v, w := openChat(t, newFake())
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: ls"},
		assistant.AgentEvent{Kind: assistant.AgentApproval, Tool: "bash", CallID: "c1", Summary: "bash: ls"})
	if got := w.Title(); got != TitleAsking {
		t.Errorf("asking: title %q, want %q", got, TitleAsking)
	}
	v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentApprovalAnswer, Tool: "bash", CallID: "c1"}))
	v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", Output: "a\n"}))
	if got := w.Title(); got != TitleIdle {
		t.Errorf("answered: title %q, want %q", got, TitleIdle)
	}
}
