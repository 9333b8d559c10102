package ui

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
)

// fakeNetAnswers records the answers given; err, when set, refuses them.
type fakeNetAnswers struct {
	mu      sync.Mutex
	answers []string
	err     error
	pending []assistant.NetQuestion
}

func (f *fakeNetAnswers) AnswerNet(id string, ans assistant.NetAnswer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, id+" "+ans.String())
	return f.err
}

func (f *fakeNetAnswers) PendingNet() []assistant.NetQuestion { return f.pending }

func netAsk(kind, session, id, answer string) assistant.Event {
	q := assistant.NetQuestion{ID: id, Group: "work", Session: session, Host: "pypi.org", Port: 443, Method: "CONNECT",
		Asked: time.Unix(1_700_000_000, 0), Answer: answer}
	return assistant.Event{Kind: kind, Group: "work", Session: session, Net: &q}
}

func netCards(v *ChatView) []NetCard {
	var out []NetCard
	for _, it := range v.conv.Items {
		if it.Kind == ItemNet {
			out = append(out, it.Net)
		}
	}
	return out
}

// TestNetQuestionInTheChat: a question of the chat in view shows as a card
// with its three answers; Allow once answers through the runtime, and the
// settling event shows who answered. A question of another chat, or of no
// chat, is not in this chat and is handed to OnNetQuestion as not in view;
// a question answered elsewhere or not at all says so.
func TestNetQuestionInTheChat(t *testing.T) {
	f := newFake()
	v, w := openChat(t, f)
	net := &fakeNetAnswers{}
	v.Net = net
	type seen struct {
		id     string
		inView bool
	}
	var told []seen
	v.OnNetQuestion = func(q assistant.NetQuestion, inView bool) { told = append(told, seen{q.ID, inView}) }
	v.Open(assistant.Session{ID: "s1", Group: "work", Title: "Fix the build"})

	v.Handle(netAsk(assistant.EventNetAsk, "s1", "net-1", ""))
	v.Handle(netAsk(assistant.EventNetAsk, "s2", "net-2", ""))
	v.Handle(netAsk(assistant.EventNetAsk, "", "net-3", ""))
	cards := netCards(v)
	if len(cards) != 1 || !cards[0].Waiting || NetStatus(cards[0]) != "Waiting for your answer — the connection is held" {
		t.Fatalf("cards in view: %+v", cards)
	}
	if want := []seen{{"net-1", true}, {"net-2", false}, {"net-3", false}}; !slices.Equal(told, want) {
		t.Errorf("OnNetQuestion: got %v, want %v", told, want)
	}
	if got := NetQuestionText(cards[0].Q); got != "A sandbox of group work wants to reach pypi.org:443 (CONNECT)" {
		t.Errorf("question text %q", got)
	}
	button(t, w, NetAlwaysLabel("work")) // the three answers are there
	button(t, w, "Deny")
	// Tab reaches Allow once; Space presses it.
	b := button(t, w, "Allow once")
	for range 100 {
		if w.Canvas().Focused() == fyne.Focusable(b) {
			break
		}
		w.Canvas().FocusNext()
	}
	if w.Canvas().Focused() != fyne.Focusable(b) {
		t.Fatal("Tab does not reach Allow once")
	}
	w.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if !slices.Equal(net.answers, []string{"net-1 allow once"}) {
		t.Errorf("answers given: %q", net.answers)
	}
	if c := netCards(v)[0]; c.Mine != "allow once" || !strings.HasPrefix(NetStatus(c), "Answering") {
		t.Errorf("after the click: %+v %q", c, NetStatus(c))
	}
	v.Handle(netAsk(assistant.EventNetAnswer, "s1", "net-1", "allow once"))
	if c := netCards(v)[0]; c.Waiting || NetStatus(c) != "You chose: allow once" {
		t.Errorf("settled: %+v %q", c, NetStatus(c))
	}

	// Answered from a terminal, timed out, and refused by the runtime.
	v.Handle(netAsk(assistant.EventNetAsk, "s1", "net-4", ""))
	v.Handle(netAsk(assistant.EventNetAnswer, "s1", "net-4", "deny"))
	v.Handle(netAsk(assistant.EventNetAsk, "s1", "net-5", ""))
	v.Handle(netAsk(assistant.EventNetAnswer, "s1", "net-5", assistant.NoAnswer))
	net.err = errors.New("no network question net-6 is waiting (answered, or timed out)")
	v.Handle(netAsk(assistant.EventNetAsk, "s1", "net-6", ""))
	v.onNetAnswer("net-6", assistant.NetDeny)
	var got []string
	for _, c := range netCards(v) {
		got = append(got, NetStatus(c))
	}
	want := []string{"You chose: allow once", "Answered elsewhere: deny", "No answer in time — denied",
		"Could not answer: no network question net-6 is waiting (answered, or timed out)"}
	if !slices.Equal(got, want) {
		t.Errorf("statuses:\n got %q\nwant %q", got, want)
	}

	// A chat opened after its question was asked shows it, waiting.
	net.pending = []assistant.NetQuestion{*netAsk(assistant.EventNetAsk, "s2", "net-2", "").Net}
	v.OpenChat("work", "s2")
	if c := netCards(v); v.conv.Session != "s2" || len(c) != 1 || c[0].Q.ID != "net-2" || !c[0].Waiting {
		t.Errorf("opened later: session %q, cards %+v", v.conv.Session, c)
	}
	button(t, w, "Allow once")
}

// TestNetNote: a question whose chat is not in view, or has none, or while
// the window is hidden, is a desktop notification; one in view is not.
func TestNetNote(t *testing.T) {
	t.Parallel()
	q := assistant.NetQuestion{ID: "net-1", Group: "work", Host: "pypi.org", Port: 443}
	tests := []struct {
		name           string
		session        string
		inView, hidden bool
		want           bool
		where          string
	}{
		{"in view", "s1", true, false, false, ""},
		{"in view, hidden", "s1", true, true, true, "its chat or the tray menu"},
		{"another chat", "s2", false, false, true, "its chat or the tray menu"},
		{"no chat (a task, berth exec)", "", false, false, true, "Answer in the tray menu"},
	}
	for _, tc := range tests {
		q.Session = tc.session
		n, ok := NetNote(q, tc.inView, tc.hidden)
		if ok != tc.want || !strings.Contains(n.Body, tc.where) || ok && !strings.Contains(n.Body, "pypi.org:443") {
			t.Errorf("%s: got %v %+v", tc.name, ok, n)
		}
	}
}

// TestTrayNetQuestions: each waiting question is a tray line whose submenu
// answers it; none waiting, no line.
func TestTrayNetQuestions(t *testing.T) {
	t.Parallel()
	var answered []string
	act := TrayActions{OnAnswerNet: func(id string, ans assistant.NetAnswer) { answered = append(answered, id+" "+ans.String()) },
		OnOpenNetChat: func(group, session string) { answered = append(answered, "open "+group+"/"+session) }}
	st := TrayState{Docker: DockerReady, Net: []assistant.NetQuestion{
		{ID: "net-1", Group: "work", Session: "s1", Host: "pypi.org", Port: 443},
		{ID: "net-2", Group: "tasks", Host: "10.0.0.5", Port: 11434},
	}}
	m := TrayMenu(st, act)
	var lines []*fyne.MenuItem
	for _, it := range m.Items {
		if strings.HasPrefix(it.Label, "Network question") {
			lines = append(lines, it)
		}
	}
	if len(lines) != 2 || lines[0].Label != "Network question: pypi.org:443 (work) — answer…" || m.Items[1] != lines[0] {
		t.Fatalf("tray lines: %+v", lines)
	}
	sub := func(i int, label string) *fyne.MenuItem {
		for _, it := range lines[i].ChildMenu.Items {
			if it.Label == label {
				return it
			}
		}
		t.Fatalf("no %q under %q", label, lines[i].Label)
		return nil
	}
	sub(0, "Allow once").Action()
	sub(1, NetAlwaysLabel("tasks")).Action()
	sub(1, "Deny").Action()
	sub(0, "Open chat").Action()
	if want := []string{"net-1 allow once", "net-2 allow always", "net-2 deny", "open work/s1"}; !slices.Equal(answered, want) {
		t.Errorf("answered %q, want %q", answered, want)
	}
	for _, it := range lines[1].ChildMenu.Items {
		if it.Label == "Open chat" {
			t.Error("a question with no chat offers Open chat")
		}
	}
	for _, it := range TrayMenu(TrayState{Docker: DockerReady}, act).Items {
		if strings.HasPrefix(it.Label, "Network question") {
			t.Errorf("no question waits, yet %q", it.Label)
		}
	}
	many := make([]assistant.NetQuestion, maxTrayNet+3)
	for i := range many {
		many[i] = assistant.NetQuestion{ID: "n", Group: "g", Host: "h", Port: 443}
	}
	n, more := 0, ""
	for _, it := range TrayMenu(TrayState{Net: many}, act).Items {
		if strings.HasPrefix(it.Label, "Network question") {
			n++
		}
		if strings.HasSuffix(it.Label, "more network questions") {
			more = it.Label
		}
	}
	if n != maxTrayNet || more != "3 more network questions" {
		t.Errorf("%d lines, %q", n, more)
	}
}

// TestNoteButtons: a network question's notification offers Allow once and
// Deny (and Open chat when it has a chat), an approval's Open chat; each
// button's response names the question or the chat.
func TestNoteButtons(t *testing.T) {
	t.Parallel()
	keys := func(n Note) (ks []string) {
		for _, a := range n.Actions {
			ks = append(ks, a.Key+"="+a.Label)
		}
		return ks
	}
	q := assistant.NetQuestion{ID: "net-1", Group: "work", Session: "s2", Host: "pypi.org", Port: 443}
	n, _ := NetNote(q, false, false)
	if got := strings.Join(keys(n), " "); got != "allow-once=Allow once deny=Deny open-chat=Open chat" {
		t.Errorf("network note's buttons: %s", got)
	}
	if ans, answer, open := n.Response(NoteAllowOnce); !answer || open || ans != assistant.NetAllowOnce || n.NetID != "net-1" {
		t.Errorf("Allow once: %v %v %v (question %q)", ans, answer, open, n.NetID)
	}
	if ans, answer, _ := n.Response(NoteDeny); !answer || ans != assistant.NetDeny {
		t.Errorf("Deny: %v %v", ans, answer)
	}
	if _, answer, open := n.Response(NoteOpenChat); answer || !open || n.Group != "work" || n.Session != "s2" {
		t.Errorf("Open chat: %v %v (%s/%s)", answer, open, n.Group, n.Session)
	}
	q.Session = ""
	if n, _ := NetNote(q, false, false); len(keys(n)) != 2 {
		t.Errorf("a question without a chat offers %v", keys(n))
	}
	if _, answer, open := (Note{}).Response(NoteDeny); answer || open {
		t.Error("a note without a question answered one")
	}

	ev := assistant.Event{Kind: assistant.EventAgent, Group: "work", Session: "s1", Agent: &agent.Event{Kind: assistant.AgentApproval, Summary: "bash: ls"}}
	a, ok := NoteFor(ev, assistant.GateState{Open: true}, true)
	if !ok || strings.Join(keys(a), " ") != "open-chat=Open chat" || a.Session != "s1" || a.Group != "work" {
		t.Errorf("approval note: %v %+v", ok, a)
	}
	if _, _, open := a.Response(NoteOpenChat); !open {
		t.Error("the approval note's Open chat opens nothing")
	}
}
