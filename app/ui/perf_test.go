package ui

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestPerfChatStream prints the time spent on Fyne's thread per streamed
// token: a 2,000-token answer streamed into a chat that holds 200 earlier
// messages (100 questions, 100 markdown answers), in a window of 960×640
// under Fyne's test driver. Run by `make bench`.
func TestPerfChatStream(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	f := newFake()
	var msgs []assistant.Message
	for i := range 100 {
		msgs = append(msgs,
			assistant.Message{ID: int64(2*i + 1), Role: "user", Content: fmt.Sprintf("Question %d: what does the build do?", i), Status: assistant.StatusDone},
			assistant.Message{ID: int64(2*i + 2), Role: "assistant", Content: fmt.Sprintf(`{"parts":[{"Kind":"text","Text":"Answer %d: it runs **go vet**, then the tests:\n\n- unit\n- integration\n\nand prints a summary of the results in a table."}]}`, i)})
	}
	f.messages = map[string][]assistant.Message{"s1": msgs}
	a := test.NewTempApp(t)
	v := NewChatView(context.Background(), f)
	v.work = inline
	w := NewChatWindow(a, v)
	defer w.Close()
	w.Resize(fyne.NewSize(960, 640))
	v.Open(assistant.Session{ID: "s1", Group: "work", Title: "Fix the build"})
	v.conv.Sent(999, "s1", "Explain the whole build")
	v.Handle(assistant.Event{Kind: assistant.EventTurnStart, Session: "s1", MessageID: 999})
	const tokens = 2000
	per := make([]time.Duration, 0, tokens)
	start := time.Now()
	for i := range tokens {
		tok := "word "
		if i%40 == 39 {
			tok = "word.\n\n"
		}
		ev := agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentText, Text: tok})
		t0 := time.Now()
		v.Handle(ev)
		per = append(per, time.Since(t0))
	}
	total := time.Since(start)
	// A frame: Fyne's thread lays out and paints the window at most once per
	// screen refresh however many tokens arrived; the software painter
	// stands in for GL.
	var frames []time.Duration
	for range 20 {
		v.Handle(agentEv("s1", assistant.AgentEvent{Kind: assistant.AgentText, Text: "word "}))
		t0 := time.Now()
		w.Canvas().Capture()
		frames = append(frames, time.Since(t0))
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	if got := v.conv.Items[len(v.conv.Items)-1].Text; !strings.HasPrefix(got, "word word") {
		t.Fatalf("the streamed answer is not the last item: %q", got)
	}
	sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
	fmt.Printf("\nThe chat window streaming a %d-token answer after 200 messages (Fyne test driver, 960×640)\n", tokens)
	fmt.Printf("%-44s %10s %10s %10s\n", "", "p50", "p95", "mean")
	fmt.Printf("%-44s %10s %10s %10s\n", "UI-thread time per token (event, render)",
		per[tokens/2].Round(time.Microsecond), per[tokens*95/100].Round(time.Microsecond), (total / tokens).Round(time.Microsecond))
	fmt.Printf("%-44s %10s %10s\n", "one frame after a token (software paint)", frames[10].Round(time.Microsecond), frames[19].Round(time.Microsecond))
}
