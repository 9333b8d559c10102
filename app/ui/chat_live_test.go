package ui

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

func output(callID, text string) assistant.AgentEvent {
	return assistant.AgentEvent{Kind: assistant.AgentToolOutput, Tool: "bash", CallID: callID, Text: text}
}

// shownLabels is the text of every visible monospace label in the window.
func shownLabels(w fyne.Window) string {
	var b strings.Builder
	walk(w.Content(), func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.TextStyle.Monospace {
			b.WriteString(l.Text + "\n")
		}
	})
	return b.String()
}

// TestChatOutputStreamsIntoCard: a running command's output shows in its
// card as it comes — the last lines, updated in place (one label, no new
// card per piece) — and the call's end replaces it with the result.
func TestChatOutputStreamsIntoCard(t *testing.T) {
	v, w := openChat(t, newFake())
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: make test"})
	v.Handle(agentEv("s1", output("c1", "compiling…\n")))
	if got := shownLabels(w); !strings.Contains(got, "compiling…") {
		t.Fatalf("the card does not show the first output; it shows %q", got)
	}
	before := v.list.Builds
	for i := range 200 {
		v.Handle(agentEv("s1", output("c1", fmt.Sprintf("ok  pkg/%03d\n", i))))
	}
	// One rebuild at most: when the output outgrows the collapsed card and
	// it offers Show.
	if got := v.list.Builds - before; got > 1 {
		t.Errorf("200 pieces of output built %d item objects, want at most 1 (updated in place)", got)
	}
	got := shownLabels(w)
	if !strings.Contains(got, "ok  pkg/199") || strings.Contains(got, "ok  pkg/100") {
		t.Errorf("a collapsed running card shows %q, want the last %d lines", got, liveLines)
	}
	v.onExpand(v.conv.card("c1"))
	if got := shownLabels(w); !strings.Contains(got, "ok  pkg/000") || !strings.Contains(got, "ok  pkg/199") {
		t.Errorf("expanded, the running card shows %q, want all of its output", got)
	}

	v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: 0, Output: "PASS (the result)\n"}))
	card := v.conv.card("c1")
	if card.Live != "" || card.Running {
		t.Errorf("after the end: Live %q, Running %v; want the streamed output gone", card.Live, card.Running)
	}
	got = shownLabels(w)
	if !strings.Contains(got, "PASS (the result)") || strings.Contains(got, "ok  pkg/199") {
		t.Errorf("after the end the card shows %q, want the result in place of the streamed output", got)
	}
	if _, ok := v.live["c1"]; ok {
		t.Error("the ended call's live label is still kept")
	}
}

// TestChatOutputOfAnotherCall: output for a call that is not running (or
// of another chat) changes nothing shown.
func TestChatOutputOfAnotherCall(t *testing.T) {
	v, _ := openChat(t, newFake())
	running(v, "c1",
		assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: ls"},
		assistant.AgentEvent{Kind: assistant.AgentToolEnd, Tool: "bash", CallID: "c1", ExitCode: 0, Output: "a\n"})
	for _, ev := range []assistant.AgentEvent{output("c1", "late\n"), output("nope", "x\n")} {
		if v.conv.agent(ev) {
			t.Errorf("%+v changed the conversation", ev)
		}
	}
	if got := v.conv.card("c1").Live; got != "" {
		t.Errorf("an ended call took output: %q", got)
	}
}

// TestLiveKeepsTheTail: the card keeps the last LiveBytes of output, cut at
// a line start when one is near and never inside a character.
func TestLiveKeepsTheTail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		piece string
	}{
		{"lines", "0123456789abcdef0123456789abcdef\n"},
		{"one long line of wide characters", "héllo wörld ✓ "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c ToolCard
			for range 3 * LiveBytes / len(tc.piece) {
				c.addLive(tc.piece)
			}
			c.addLive("THE END")
			if len(c.Live) > LiveBytes || len(c.Live) < LiveBytes-256 {
				t.Errorf("kept %d bytes, want about %d", len(c.Live), LiveBytes)
			}
			if !utf8.ValidString(c.Live) {
				t.Error("the kept tail starts inside a character")
			}
			if !strings.HasSuffix(c.Live, "THE END") || !c.LiveCut {
				t.Errorf("kept …%q (cut %v), want the newest output and the cut noted", c.Live[len(c.Live)-20:], c.LiveCut)
			}
			if strings.Contains(tc.piece, "\n") && !strings.HasPrefix(c.Live, tc.piece[:10]) {
				t.Errorf("the tail starts at %q, want a line start", c.Live[:10])
			}
			if got := LiveShown(c); !strings.HasPrefix(got, "…") {
				t.Errorf("shown %q…, want the cut marked", got[:10])
			}
		})
	}
}

func TestChatRunningCardGolden(t *testing.T) {
	v, w := openChat(t, newFake())
	running(v, "c1", assistant.AgentEvent{Kind: assistant.AgentToolStart, Tool: "bash", CallID: "c1", Summary: "bash: go test ./..."})
	for i := range 12 {
		v.Handle(agentEv("s1", output("c1", fmt.Sprintf("ok  \tgithub.com/x/y/pkg%02d\t0.%02ds\n", i, i))))
	}
	assertGolden(t, "chat_tool_running.xml", w)
}
