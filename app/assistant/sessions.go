package assistant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/store"
)

// Message statuses.
const (
	StatusPending     = "pending"     // stored, not answered yet (e.g. Docker was down)
	StatusRunning     = "running"     // its turn is running (left so by a crash: see Runtime.Start)
	StatusCanceled    = "canceled"    // the user canceled it before it ran
	StatusDone        = "done"        // answered
	StatusInterrupted = "interrupted" // the turn was cut short (cancel, Docker lost)
	StatusFailed      = "failed"      // the model provider failed
)

// Session is a chat as the faces show it.
type Session = store.Session

// NewSession starts a chat in a group.
func (s *Service) NewSession(ctx context.Context, group, title string) (Session, error) {
	if _, err := s.Group(ctx, group); err != nil {
		return Session{}, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := s.now().UTC().Format("060102-150405") + "-" + hex.EncodeToString(b)
	ss, err := s.Store.CreateSession(ctx, store.Session{ID: id, Group: group, Title: title})
	if err != nil {
		return ss, err
	}
	return ss, s.record(ctx, store.Event{Group: group, Session: id, Kind: AuditSessionNew, Actor: store.ActorUser, Summary: "new chat " + id})
}

// Sessions lists a group's chats, most recent first.
func (s *Service) Sessions(ctx context.Context, group string) ([]Session, error) {
	if _, err := s.Group(ctx, group); err != nil {
		return nil, err
	}
	return s.Store.Sessions(ctx, group)
}

// Session reads one chat.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	ss, err := s.Store.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ss, fmt.Errorf("no chat %q; `berth session list -g GROUP` shows them", id)
	}
	return ss, err
}

// RenameSession gives a chat a new title.
func (s *Service) RenameSession(ctx context.Context, id, title string) error {
	ss, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	if strings.TrimSpace(title) == "" {
		return errors.New("a chat's title cannot be empty")
	}
	if err := s.Store.RenameSession(ctx, id, title); err != nil {
		return err
	}
	return s.record(ctx, store.Event{Group: ss.Group, Session: id, Kind: AuditSessionRename, Actor: store.ActorUser, Summary: "renamed to " + title})
}

// RemoveSession deletes a chat and its messages (their audit events stay)
// and stops its sandbox.
func (s *Service) RemoveSession(ctx context.Context, id string) error {
	ss, err := s.Session(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteSession(ctx, id); err != nil {
		return err
	}
	if s.Engine != nil {
		_, _ = s.stopSession(ctx, ss.Group, id, "its chat was deleted")
	}
	return s.record(ctx, store.Event{Group: ss.Group, Session: id, Kind: AuditSessionRemove, Actor: store.ActorUser, Summary: "deleted chat " + id})
}

// storedMessage is how a model message is kept in the messages table: user
// text as it was typed, everything else (assistant text with tool calls, tool
// results) as JSON parts, so that a chat resumes exactly.
type storedMessage struct {
	Parts []storedPart `json:"parts"`
}

// storedPart is an llm.Part as stored. Tool input that is not valid JSON (a
// reply cut by a length limit, a small model's mistake) cannot travel as a
// json.RawMessage, so it is kept verbatim in InputText instead.
type storedPart struct {
	llm.Part
	InputText string `json:",omitempty"`
}

// Message roles in the store (Message.Role).
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool" // tool results; sent to the model as a user message
	// roleContext is a checkpoint: the conversation as the model sees it
	// after the history was compacted. Later turns start from the newest one.
	roleContext = "context"
)

// storedContext is the content of a context checkpoint.
type storedContext struct {
	Messages []storedMessageRole `json:"messages"`
}

// storedMessageRole is one message of a checkpoint.
type storedMessageRole struct {
	Role  llm.Role
	Parts []storedPart
}

// toStored returns parts in their stored form.
func toStored(parts []llm.Part) []storedPart {
	out := make([]storedPart, len(parts))
	for i, p := range parts {
		out[i] = storedPart{Part: p}
		if len(p.Input) > 0 && !json.Valid(p.Input) {
			out[i].Part.Input, out[i].InputText = nil, string(p.Input)
		}
	}
	return out
}

// fromStored returns stored parts as the model's parts.
func fromStored(parts []storedPart) []llm.Part {
	out := make([]llm.Part, len(parts))
	for i, p := range parts {
		out[i] = p.Part
		if p.InputText != "" {
			out[i].Input = json.RawMessage(p.InputText)
		}
	}
	return out
}

// encodeMessage returns how m is stored. It never returns content that
// decodeMessage cannot read back.
func encodeMessage(m llm.Message) (role, content string, err error) {
	if m.Role == llm.RoleUser && len(m.Parts) == 1 && m.Parts[0].Kind == llm.PartText {
		return RoleUser, m.Parts[0].Text, nil
	}
	role = RoleTool
	if m.Role == llm.RoleAssistant {
		role = RoleAssistant
	}
	b, err := json.Marshal(storedMessage{Parts: toStored(m.Parts)})
	if err != nil {
		return role, "", fmt.Errorf("encode %s message: %w", role, err)
	}
	return role, string(b), nil
}

// encodeContext returns how a context checkpoint is stored.
func encodeContext(msgs []llm.Message) (string, error) {
	sc := storedContext{Messages: make([]storedMessageRole, len(msgs))}
	for i, m := range msgs {
		sc.Messages[i] = storedMessageRole{Role: m.Role, Parts: toStored(m.Parts)}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("encode context checkpoint: %w", err)
	}
	return string(b), nil
}

// decodeContext reads a context checkpoint.
func decodeContext(m store.Message) ([]llm.Message, error) {
	var sc storedContext
	if err := json.Unmarshal([]byte(m.Content), &sc); err != nil {
		return nil, fmt.Errorf("message %d (context checkpoint): %w", m.ID, err)
	}
	out := make([]llm.Message, len(sc.Messages))
	for i, sm := range sc.Messages {
		out[i] = llm.Message{Role: sm.Role, Parts: fromStored(sm.Parts)}
	}
	return out, nil
}

func decodeMessage(m store.Message) (llm.Message, error) {
	switch m.Role {
	case RoleUser:
		return llm.UserText(m.Content), nil
	case RoleAssistant, RoleTool:
		var sm storedMessage
		if err := json.Unmarshal([]byte(m.Content), &sm); err != nil {
			return llm.Message{}, fmt.Errorf("message %d: %w", m.ID, err)
		}
		role := llm.RoleAssistant
		if m.Role == RoleTool {
			role = llm.RoleUser
		}
		return llm.Message{Role: role, Parts: fromStored(sm.Parts)}, nil
	}
	return llm.Message{}, fmt.Errorf("message %d: unknown role %q", m.ID, m.Role)
}

// History is a chat's messages in the model's form, up to and including the
// message upTo (0: all). User messages that never got an answer (pending,
// failed, canceled) are left out, except upTo itself: the model sees what
// was actually discussed. Stored messages that cannot be read are skipped
// (see readHistory).
func (s *Service) History(ctx context.Context, session string, upTo int64) ([]llm.Message, []store.Message, error) {
	h, err := s.readHistory(ctx, session, upTo)
	return h.msgs, h.stored, err
}

// history is a chat read back for the model.
type history struct {
	msgs       []llm.Message
	stored     []store.Message
	unreadable []error // stored messages that could not be read, and were skipped
}

// readHistory reads a chat for the model. A stored message that cannot be
// read (written by an older Berth) is skipped and reported in unreadable,
// never a dead chat; tool calls and results it leaves without their partner
// are dropped so that the conversation stays valid for the providers.
func (s *Service) readHistory(ctx context.Context, session string, upTo int64) (history, error) {
	var h history
	stored, err := s.Store.Messages(ctx, session)
	if err != nil {
		return h, err
	}
	if upTo > 0 {
		for i, m := range stored {
			if m.ID > upTo {
				stored = stored[:i]
				break
			}
		}
	}
	h.stored = stored
	for i, m := range stored {
		if m.Role == roleContext {
			msgs, err := decodeContext(m)
			if err != nil {
				h.unreadable = append(h.unreadable, err)
				continue
			}
			h.msgs = msgs
			continue
		}
		if m.Role == RoleUser && (m.Status == StatusPending || m.Status == StatusFailed || m.Status == StatusCanceled) && i != len(stored)-1 {
			continue
		}
		lm, err := decodeMessage(m)
		if err != nil {
			h.unreadable = append(h.unreadable, err)
			continue
		}
		h.msgs = append(h.msgs, lm)
	}
	if len(h.unreadable) > 0 {
		h.msgs = pairToolCalls(h.msgs)
	}
	return h, nil
}

// pairToolCalls drops tool calls whose results are missing and results whose
// calls are missing, so that a history with a message skipped is still one
// the providers accept. Messages left empty are dropped.
func pairToolCalls(msgs []llm.Message) []llm.Message {
	calls, results := map[string]bool{}, map[string]bool{}
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch p.Kind {
			case llm.PartToolUse:
				calls[p.ToolUseID] = true
			case llm.PartToolResult:
				results[p.ToolUseID] = true
			}
		}
	}
	var out []llm.Message
	for _, m := range msgs {
		var parts []llm.Part
		for _, p := range m.Parts {
			if (p.Kind == llm.PartToolUse && !results[p.ToolUseID]) || (p.Kind == llm.PartToolResult && !calls[p.ToolUseID]) {
				continue
			}
			parts = append(parts, p)
		}
		if len(parts) > 0 {
			out = append(out, llm.Message{Role: m.Role, Parts: parts})
		}
	}
	return out
}

// Usage is the tokens a chat has used so far, from its audited turns.
func (s *Service) Usage(ctx context.Context, session string) (llm.Usage, error) {
	var u llm.Usage
	evs, err := s.Store.Events(ctx, store.Filter{Session: session, Kind: AuditTurnEnd})
	if err != nil {
		return u, err
	}
	for _, ev := range evs {
		var d struct {
			In  int64 `json:"input_tokens"`
			Out int64 `json:"output_tokens"`
		}
		if json.Unmarshal(ev.Detail, &d) == nil {
			u.InputTokens += d.In
			u.OutputTokens += d.Out
		}
	}
	return u, nil
}
