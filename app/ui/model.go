package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// ItemKind is what one entry of a conversation is.
type ItemKind int

// The kinds of conversation items.
const (
	ItemUser      ItemKind = iota // a message the user typed
	ItemAssistant                 // the assistant's text (markdown)
	ItemTool                      // a tool call card
	ItemNotice                    // something Berth says (retries, compaction)
	ItemTurnEnd                   // how a turn ended when it did not finish: after its last item, with Retry
	ItemNet                       // a network question of the chat's sandbox (network_card.go)
)

// Item is one entry of a conversation, as the chat window shows it.
type Item struct {
	Kind      ItemKind
	MessageID int64  // ItemUser, ItemTurnEnd: the stored message
	Text      string // the user's or assistant's text, or the notice
	Status    string // ItemUser, ItemTurnEnd: assistant.Status* ("" for a sent message not queued yet)
	Note      string // ItemUser: what it waits for ("Waiting: Docker is not running")
	Retry     string // ItemTurnEnd: the text Retry sends again
	Streaming bool   // ItemAssistant: more text may come
	Progress  string // ItemNotice: the call whose arguments are still being written ("" for other notices)
	Card      *ToolCard
	Net       NetCard // ItemNet: a value, so that a change shows as a changed item
}

// ToolCard is one tool call inside a sandbox.
type ToolCard struct {
	CallID   string
	Tool     string
	Summary  string // e.g. "bash: make test"
	Input    string // the call's input as JSON, when known (history, an approval)
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
	Cut      string // why the call was cut short, in the user's words ("you stopped it", "Docker went down: …")
	Live     string // while it runs: the tail of its output so far (at most LiveBytes)
	LiveCut  bool   // Live lost its start to the bound
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
	// stopping holds the messages whose turn the user asked to stop, so that
	// their end says so (and a turn cut by Docker does not).
	stopping map[int64]bool
}

// Stopping notes that the user asked to stop a message's turn and marks its
// running call as cut by the user.
func (c *Conversation) Stopping(id int64) {
	if c.stopping == nil {
		c.stopping = map[int64]bool{}
	}
	c.stopping[id] = true
	c.cutRunning(CutByUser)
}

// Why a call was cut short, as its card says.
const (
	CutByUser = "you stopped it"
)

// cutRunning marks the calls that run or wait now as cut short, for why.
func (c *Conversation) cutRunning(why string) {
	for i := range c.Items {
		if card := c.Items[i].Card; card != nil && (card.Running || card.Asking) && card.Cut == "" {
			card.Cut = why
		}
	}
}

// Retry takes the ended turn of message id out of the conversation and
// returns the text to send again; false if there is no such turn.
func (c *Conversation) Retry(id int64) (string, bool) {
	start, end := -1, -1
	for i, it := range c.Items {
		if it.Kind == ItemUser && it.MessageID == id {
			start = i
		}
		if it.Kind == ItemTurnEnd && it.MessageID == id && start >= 0 {
			end = i
		}
	}
	if start < 0 || end < 0 {
		return "", false
	}
	text := c.Items[end].Retry
	c.Items = append(c.Items[:start], c.Items[end+1:]...)
	return text, true
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
		if !c.Gate.Open && c.Gate.Paused == "" {
			if r := c.Gate.Reason; r != "" {
				c.cutRunning("Docker went down: " + r)
			} else {
				c.cutRunning("Docker went down")
			}
		}
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
	case assistant.EventNetAsk, assistant.EventNetAnswer:
		return c.applyNet(ev)
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

func (c *Conversation) agent(ev assistant.AgentEvent) bool {
	switch ev.Kind {
	case assistant.AgentText:
		if n := len(c.Items); n > 0 && c.Items[n-1].Kind == ItemAssistant && c.Items[n-1].Streaming {
			c.Items[n-1].Text += ev.Text
			return true
		}
		c.stopStreaming()
		c.Items = append(c.Items, Item{Kind: ItemAssistant, Text: ev.Text, Streaming: true})
	case assistant.AgentToolStart:
		c.stopStreaming()
		c.dropProgress(ev.CallID)
		c.Items = append(c.Items, Item{Kind: ItemTool, Card: &ToolCard{CallID: ev.CallID, Tool: ev.Tool, Summary: ev.Summary, Running: true, ExitCode: -1}})
	case assistant.AgentApproval:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		card.Asking = true
	case assistant.AgentApprovalAnswer:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		card.Asking, card.Answer = false, ev.Approval.String()
	case assistant.AgentToolEnd:
		card := c.card(ev.CallID)
		if card == nil {
			return false
		}
		if !ev.IsError {
			card.Cut = "" // it finished before the stop reached it
		}
		card.Running, card.Asking = false, false
		card.ExitCode, card.Duration, card.Output, card.IsError = ev.ExitCode, ev.Duration, ev.Output, ev.IsError
		card.Live, card.LiveCut = "", false // the result replaces what streamed
	case assistant.AgentToolOutput:
		card := c.card(ev.CallID)
		if card == nil || !card.Running || ev.Text == "" {
			return false
		}
		card.addLive(ev.Text)
	case assistant.AgentSandboxError:
		card := c.card(ev.CallID)
		if card == nil || ev.Err == nil {
			return false
		}
		card.Err = ev.Err.Error()
	case assistant.AgentRetry:
		msg := "The model provider failed"
		if ev.Err != nil {
			msg += " (" + ev.Err.Error() + ")"
		}
		c.Items = append(c.Items, Item{Kind: ItemNotice, Text: fmt.Sprintf("%s; retrying in %s (attempt %d).", msg, ev.Wait.Round(time.Second), ev.Attempt)})
	case assistant.AgentCompacted, assistant.AgentNotice:
		c.Items = append(c.Items, Item{Kind: ItemNotice, Text: ev.Text})
	case assistant.AgentToolProgress:
		// A local model may spend minutes writing one call's arguments,
		// which are not shown: say that it is working, in one line.
		text := fmt.Sprintf("Writing a tool call (%s)… %s", ev.Tool, sizeText(int64(ev.Bytes)))
		if n := len(c.Items); n > 0 && c.Items[n-1].Progress == ev.CallID {
			c.Items[n-1].Text = text
			return true
		}
		c.stopStreaming()
		c.Items = append(c.Items, Item{Kind: ItemNotice, Text: text, Progress: ev.CallID})
	default:
		return false
	}
	return true
}

// dropProgress removes the "writing a tool call" line once the call starts.
func (c *Conversation) dropProgress(callID string) {
	if n := len(c.Items); n > 0 && c.Items[n-1].Progress == callID {
		c.Items = c.Items[:n-1]
	}
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
	text := it.Text
	note := ""
	switch ev.Status {
	case assistant.StatusInterrupted:
		note = "Interrupted — the partial answer is kept."
		switch r := c.Gate.Reason; {
		case c.stopping[ev.MessageID]:
			note = "Stopped by you — the partial answer is kept."
		case !c.Gate.Open && c.Gate.Paused == "" && r != "":
			note = "Interrupted: Docker went down (" + r + "). The partial answer is kept."
		}
	case assistant.StatusFailed:
		note = failedNote(ev.Err)
	case assistant.StatusCanceled:
		note = "Canceled."
	}
	delete(c.stopping, ev.MessageID)
	if note != "" {
		c.Items = append(c.Items, Item{Kind: ItemTurnEnd, MessageID: ev.MessageID, Status: ev.Status, Text: note, Retry: text})
	}
	return true
}

// failedNote says why a turn failed; a key problem points to Settings,
// where the desktop app fixes it, not to a terminal command.
func failedNote(reason string) string {
	switch {
	case strings.Contains(reason, assistant.ErrNoKey.Error()):
		return "Failed: no API key for the model provider — paste one in Settings."
	case strings.Contains(reason, assistant.ErrAuth.Error()):
		return "Failed: the API key was refused — paste a new one in Settings."
	}
	return "Failed: " + PlainHint(reason)
}

// CanRetry reports whether an ended turn may be sent again.
func (it Item) CanRetry() bool {
	return it.Kind == ItemTurnEnd && it.Retry != "" && (it.Status == assistant.StatusInterrupted || it.Status == assistant.StatusFailed)
}
