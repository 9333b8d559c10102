package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// NetAnswerer answers the runtime's network questions and lists those
// still waiting. *assistant.Runtime satisfies it.
type NetAnswerer interface {
	AnswerNet(id string, ans assistant.NetAnswer) error
	PendingNet() []assistant.NetQuestion
}

var _ NetAnswerer = (*assistant.Runtime)(nil)

// NetFaces are the chat window's hooks for the network policy; the desktop
// app sets them.
type NetFaces struct {
	// Net, when set, answers network questions; without it a question's
	// card has no buttons.
	Net NetAnswerer
	// Network, when set, serves the group menu's Network window.
	Network NetService
	// OnNetQuestion, when set, is told each network question as it arrives
	// (on Fyne's thread) and whether its chat is the one in view: the
	// desktop app notifies the user of the others.
	OnNetQuestion func(q assistant.NetQuestion, inView bool)

	netWins map[string]fyne.Window // the open Network windows, by group
}

// NetCard is a network question as its chat shows it.
type NetCard struct {
	Q       assistant.NetQuestion // Q.Answer is set once it is settled
	Waiting bool                  // the connection is held for an answer
	Mine    string                // the answer given from this card, "" for none
	Err     string                // why that answer could not be given
}

// applyNet adds a question of this chat's sandbox as a card, or settles
// the card of an answered one.
func (c *Conversation) applyNet(ev assistant.Event) bool {
	if ev.Net == nil {
		return false
	}
	q := *ev.Net
	for i := range c.Items {
		it := &c.Items[i]
		if it.Kind != ItemNet || it.Net.Q.ID != q.ID {
			continue
		}
		if ev.Kind != assistant.EventNetAnswer {
			return false
		}
		it.Net.Q.Answer, it.Net.Waiting = q.Answer, false
		return true
	}
	if ev.Kind != assistant.EventNetAsk {
		return false
	}
	c.Items = append(c.Items, Item{Kind: ItemNet, Net: NetCard{Q: q, Waiting: true}})
	return true
}

// NetQuestionText says who waits for which destination.
func NetQuestionText(q assistant.NetQuestion) string {
	s := fmt.Sprintf("A sandbox of group %s wants to reach %s", q.Group, q.Dest())
	if q.Method != "" {
		s += " (" + q.Method + ")"
	}
	return s
}

// NetStatus is the one line of a network question: waiting, or how it was
// settled and by whom.
func NetStatus(c NetCard) string {
	switch {
	case c.Err != "":
		return "Could not answer: " + c.Err
	case c.Waiting && c.Mine != "":
		return "Answering: " + c.Mine + "…"
	case c.Waiting:
		return "Waiting for your answer — the connection is held"
	case c.Q.Answer == assistant.NoAnswer:
		return "No answer in time — denied"
	case c.Mine == c.Q.Answer:
		return "You chose: " + c.Q.Answer
	}
	return "Answered elsewhere: " + c.Q.Answer
}

// NetAlwaysLabel is the "always" answer of a network question: it names
// the group the rule is added to.
func NetAlwaysLabel(group string) string { return "Always for group " + group }

// netCardObject shows a network question with its three answers while it
// waits.
func (v *ChatView) netCardObject(c NetCard) fyne.CanvasObject {
	icon := theme.QuestionIcon()
	switch {
	case c.Waiting:
	case c.Q.Answer == assistant.NetDeny.String() || c.Q.Answer == assistant.NoAnswer:
		icon = theme.CancelIcon()
	default:
		icon = theme.ConfirmIcon()
	}
	what := widget.NewLabelWithStyle(NetQuestionText(c.Q), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	what.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(container.NewBorder(nil, nil, widget.NewIcon(icon), nil, what), widget.NewLabel(NetStatus(c)))
	if c.Waiting && c.Mine == "" && v.Net != nil {
		id := c.Q.ID
		allow := widget.NewButton("Allow once", func() { v.onNetAnswer(id, assistant.NetAllowOnce) })
		allow.Importance = widget.HighImportance
		always := widget.NewButton(NetAlwaysLabel(c.Q.Group), func() { v.onNetAnswer(id, assistant.NetAllowAlways) })
		deny := widget.NewButton("Deny", func() { v.onNetAnswer(id, assistant.NetDeny) })
		deny.Importance = widget.DangerImportance
		body.Add(container.NewHBox(allow, always, deny))
	}
	return widget.NewCard("", "", body)
}

// onNetAnswer answers a question from its card, off Fyne's thread.
func (v *ChatView) onNetAnswer(id string, ans assistant.NetAnswer) {
	v.setNetCard(id, func(c *NetCard) { c.Mine, c.Err = ans.String(), "" })
	v.work(func() {
		err := v.Net.AnswerNet(id, ans)
		if err == nil {
			return
		}
		v.do(func() { v.setNetCard(id, func(c *NetCard) { c.Mine, c.Err = "", err.Error() }) })
	})
}

// setNetCard changes the card of question id, wherever it is.
func (v *ChatView) setNetCard(id string, change func(*NetCard)) {
	for _, conv := range append([]*Conversation{v.conv}, mapValues(v.chats)...) {
		for i := range conv.Items {
			if it := &conv.Items[i]; it.Kind == ItemNet && it.Net.Q.ID == id {
				change(&it.Net)
				if conv == v.conv {
					v.render()
				}
				return
			}
		}
	}
}

func mapValues(m map[string]*Conversation) []*Conversation {
	out := make([]*Conversation, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

// pendingNet adds to a chat just opened the cards of its questions still
// waiting (asked before it was seen), read off Fyne's thread.
func (v *ChatView) pendingNet(c *Conversation) {
	if v.Net == nil {
		return
	}
	v.work(func() {
		qs := v.Net.PendingNet()
		v.do(func() {
			changed := false
			for _, q := range qs {
				if q.Session == c.Session {
					changed = c.applyNet(assistant.Event{Kind: assistant.EventNetAsk, Session: q.Session, Net: &q}) || changed
				}
			}
			if changed && v.conv == c {
				v.render()
			}
		})
	})
}

// OpenChat shows the chat of a session in a group (the tray's Open chat of
// a network question).
func (v *ChatView) OpenChat(group, session string) {
	ss, ok := v.session(session)
	if !ok {
		ss = assistant.Session{ID: session, Group: group}
	}
	v.Open(ss)
}

// noticeNet tells OnNetQuestion of a question as it arrives.
func (v *ChatView) noticeNet(ev assistant.Event) {
	if ev.Kind != assistant.EventNetAsk || ev.Net == nil || v.OnNetQuestion == nil {
		return
	}
	v.OnNetQuestion(*ev.Net, ev.Session != "" && ev.Session == v.conv.Session)
}

// NetNote is the desktop notification of a network question: for one
// whose chat is not in view (or has no chat: a task, `berth exec`), or
// while the window is hidden.
func NetNote(q assistant.NetQuestion, inView, hidden bool) (Note, bool) {
	if inView && !hidden {
		return Note{}, false
	}
	where := "the tray menu"
	if q.Session != "" {
		where = "its chat or the tray menu"
	}
	actions := append([]NoteAction{{NoteAllowOnce, "Allow once"}, {NoteDeny, "Deny"}}, openChatNote(q.Session)...)
	return Note{Title: "Berth: a sandbox waits for the network", Body: NetQuestionText(q) + ". Answer in " + where + "; no answer soon denies it.",
		Actions: actions, Group: q.Group, Session: q.Session, NetID: q.ID}, true
}
