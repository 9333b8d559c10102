package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker"
)

// ItemKind is what one entry of a conversation is.
type ItemKind int

// The kinds of conversation items.
const (
	ItemUser      ItemKind = iota // a message the user typed
	ItemAssistant                 // the assistant's text (markdown)
	ItemTool                      // a tool call card
	ItemNotice                    // something Berth says (retries, compaction, failures)
)

// Item is one entry of a conversation, as the chat window shows it.
type Item struct {
	Kind      ItemKind
	MessageID int64  // ItemUser: the stored message
	Text      string // the user's or assistant's text, or the notice
	Status    string // ItemUser: assistant.Status* ("" for a sent message not queued yet)
	Note      string // ItemUser: what it waits for ("Waiting: Docker is not running")
	Streaming bool   // ItemAssistant: more text may come
	Card      *ToolCard
}

// ToolCard is one tool call inside a sandbox.
type ToolCard struct {
	CallID   string
	Tool     string
	Summary  string // e.g. "bash: make test"
	Running  bool
	Asking   bool   // waiting for the user's approval
	Answer   string // the user's answer, once given ("allow once", "deny"…)
	ExitCode int    // -1: nothing ran
	Duration time.Duration
	Output   string // a preview of what the model sees
	IsError  bool
	Err      string // the sandbox could not run the call
	Expanded bool   // the full output shows
	Past     bool   // read back from history: exit code and duration were not kept
}

// PreviewLines is how many output lines a collapsed card shows.
const PreviewLines = 4

// Conversation is the chat window's view model: one chat's items and the
// gate. Apply folds the runtime's events into it; it knows nothing of Fyne.
type Conversation struct {
	Group   string
	Session string // "" for a new chat not sent yet
	Items   []Item
	Gate    assistant.GateState
}

// Busy is the message whose turn runs or waits in this chat, 0 for none;
// Stop acts on it.
func (c *Conversation) Busy() int64 {
	for i := len(c.Items) - 1; i >= 0; i-- {
		it := c.Items[i]
		if it.Kind == ItemUser && (it.Status == assistant.StatusPending || it.Status == assistant.StatusRunning) {
			return it.MessageID
		}
	}
	return 0
}

// Asking is the tool call waiting for the user's approval, nil for none.
func (c *Conversation) Asking() *ToolCard {
	for i := range c.Items {
		if card := c.Items[i].Card; card != nil && card.Asking {
			return card
		}
	}
	return nil
}

// InputEnabled reports whether the user may type and send: only while the
// gate is open.
func (c *Conversation) InputEnabled() bool { return c.Gate.Open }

// Sent adds the user's message as sent and waiting.
func (c *Conversation) Sent(id int64, session, text string) {
	c.Session = session
	c.Items = append(c.Items, Item{Kind: ItemUser, MessageID: id, Text: text, Status: assistant.StatusPending})
}

// Apply folds one runtime event into the conversation and reports whether
// anything shown changed. Events of other chats change only the gate.
func (c *Conversation) Apply(ev assistant.Event) bool {
	if ev.Kind == assistant.EventGate {
		if ev.Gate == nil {
			return false
		}
		c.Gate = *ev.Gate
		return true
	}
	if ev.Session == "" || ev.Session != c.Session {
		return false
	}
	switch ev.Kind {
	case assistant.EventQueued:
		return c.note(ev.MessageID, assistant.StatusPending, fmt.Sprintf("Queued: %s ahead in this group", ahead(ev.Position)))
	case assistant.EventWaitGate:
		return c.note(ev.MessageID, assistant.StatusPending, "Waiting: "+ev.Text)
	case assistant.EventWaitSlot:
		return c.note(ev.MessageID, assistant.StatusPending, "Waiting "+trimWaiting(ev.Text))
	case assistant.EventTurnStart:
		return c.note(ev.MessageID, assistant.StatusRunning, "")
	case assistant.EventAgent:
		if ev.Agent == nil {
			return false
		}
		return c.agent(*ev.Agent)
	case assistant.EventTurnEnd:
		return c.end(ev)
	}
	return false
}

func ahead(pos int) string {
	if pos <= 2 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", pos-1)
}

func trimWaiting(s string) string {
	if len(s) > len("waiting ") && s[:len("waiting ")] == "waiting " {
		return s[len("waiting "):]
	}
	return s
}

// user finds the user message with id (the last user message for id 0).
func (c *Conversation) user(id int64) *Item {
	for i := len(c.Items) - 1; i >= 0; i-- {
		if it := &c.Items[i]; it.Kind == ItemUser && (id == 0 || it.MessageID == id) {
			return it
		}
	}
	return nil
}

func (c *Conversation) note(id int64, status, note string) bool {
	it := c.user(id)
	if it == nil {
		return false
	}
	it.Status, it.Note = status, note
	return true
}

func (c *Conversation) card(callID string) *ToolCard {
	for i := len(c.Items) - 1; i >= 0; i-- {
		if card := c.Items[i].Card; card != nil && card.CallID == callID {
			return card
		}
	}
	return nil
}

func (c *Conversation) agent(ev agent.Event) bool {
	switch ev.Kind {
	case agent.EventText:
		if n := len(c.Items); n > 0 && c.Items[n-1].Kind == ItemAssistant && c.Items[n-1].Streaming {
			c.Items[n-1].Text += ev.Text
			return true
		}
		c.stopStreaming()
		c.Items = append(c.Items, Item{Kind: ItemAssistant, Text: ev.Text, Streaming: true})
	case agent.EventToolStart:
		c.stopStreaming()
		c.Items = append(c.Items, Item{Kind: ItemTool, Card: &ToolCard{CallID: ev.CallID, Tool: ev.Tool, Summary: ev.Summary, Running: true, ExitCode: -1}})
	case agent.EventApproval:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		card.Asking = true
	case agent.EventApprovalAnswer:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		card.Asking, card.Answer = false, ev.Approval.String()
	case agent.EventToolEnd:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		card.Running, card.Asking = false, false
		card.ExitCode, card.Duration, card.Output, card.IsError = ev.ExitCode, ev.Duration, ev.Output, ev.IsError
	case agent.EventSandboxError:
		card := c.card(ev.CallID)
		if card == nil || ev.Err == nil {
			return false
		}
		card.Err = ev.Err.Error()
	case agent.EventRetry:
		msg := "The model provider failed"
		if ev.Err != nil {
			msg += " (" + ev.Err.Error() + ")"
		}
		c.Items = append(c.Items, Item{Kind: ItemNotice, Text: fmt.Sprintf("%s; retrying in %s (attempt %d).", msg, ev.Wait.Round(time.Second), ev.Attempt)})
	case agent.EventCompacted:
		c.Items = append(c.Items, Item{Kind: ItemNotice, Text: ev.Text})
	default:
		return false
	}
	return true
}

func (c *Conversation) stopStreaming() {
	for i := range c.Items {
		c.Items[i].Streaming = false
	}
}

func (c *Conversation) end(ev assistant.Event) bool {
	c.stopStreaming()
	for i := range c.Items {
		if card := c.Items[i].Card; card != nil && (card.Running || card.Asking) {
			card.Running, card.Asking = false, false
		}
	}
	it := c.user(ev.MessageID)
	if it == nil {
		return true
	}
	it.Status, it.Note = ev.Status, ""
	switch ev.Status {
	case assistant.StatusInterrupted:
		it.Note = "Interrupted — the partial answer is kept."
		if r, _ := c.Gate.Reason(); !c.Gate.Open && r != "" {
			it.Note = "Interrupted: " + r + "."
		}
	case assistant.StatusFailed:
		it.Note = "Failed: " + ev.Err
	case assistant.StatusCanceled:
		it.Note = "Canceled."
	}
	return true
}

// CanRetry reports whether a user message's turn may be sent again.
func (it Item) CanRetry() bool {
	return it.Kind == ItemUser && (it.Status == assistant.StatusInterrupted || it.Status == assistant.StatusFailed)
}

// Banner is what the chat window says about a closed gate.
type Banner struct {
	Show   bool
	Title  string // what is wrong, in a few words
	Reason string // the one-line reason
	Hint   string // what to do
	Action string // a button that may fix it: "Resume", "Build image", "Retry"; "" for none
}

// Banner actions.
const (
	ActionResume = "Resume"
	ActionBuild  = "Build image"
	ActionRetry  = "Retry"
)

// BannerFor says why the gate is closed and what to do; Show is false
// while it is open.
func BannerFor(g assistant.GateState) Banner {
	if g.Open {
		return Banner{}
	}
	reason, hint := g.Reason()
	b := Banner{Show: true, Reason: reason, Hint: hint}
	switch {
	case g.Paused != "":
		b.Title, b.Action = "Paused by you", ActionResume
		if hint == "" {
			b.Hint = "Resume it from the tray menu."
		}
	case g.Docker.State == docker.Down:
		b.Title, b.Action = "Docker is not running — the assistant is blocked", ActionRetry
		if hint == "" {
			b.Hint = "Start Docker; waiting messages run as soon as it is ready."
		}
	case g.Docker.State == docker.Misconfigured:
		b.Title, b.Action = "Docker needs attention — the assistant is blocked", ActionRetry
		if g.Docker.Image != "" && !g.Docker.ImagePresent && strings.Contains(g.Docker.Reason, "is missing") {
			b.Action = ActionBuild
		}
	default:
		b.Title = "Checking Docker…"
		if reason == "checking Docker…" {
			b.Reason = ""
		}
	}
	return b
}
