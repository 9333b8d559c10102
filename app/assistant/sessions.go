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
	if _, err := s.ensureGroup(ctx, group); err != nil {
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
	Parts []llm.Part `json:"parts"`
}

// Message roles in the store.
const (
	roleUser      = "user"
	roleAssistant = "assistant"
	roleTool      = "tool" // tool results; sent to the model as a user message
	// roleContext is a checkpoint: the conversation as the model sees it
	// after the history was compacted. Later turns start from the newest one.
	roleContext = "context"
)

// storedContext is the content of a context checkpoint.
type storedContext struct {
	Messages []llm.Message `json:"messages"`
}

func encodeMessage(m llm.Message) (role, content string) {
	if m.Role == llm.RoleUser && len(m.Parts) == 1 && m.Parts[0].Kind == llm.PartText {
		return roleUser, m.Parts[0].Text
	}
	b, _ := json.Marshal(storedMessage{Parts: m.Parts})
	if m.Role == llm.RoleAssistant {
		return roleAssistant, string(b)
	}
	return roleTool, string(b)
}

func decodeMessage(m store.Message) (llm.Message, error) {
	switch m.Role {
	case roleUser:
		return llm.UserText(m.Content), nil
	case roleAssistant, roleTool:
		var sm storedMessage
		if err := json.Unmarshal([]byte(m.Content), &sm); err != nil {
			return llm.Message{}, fmt.Errorf("message %d: %w", m.ID, err)
		}
		role := llm.RoleAssistant
		if m.Role == roleTool {
			role = llm.RoleUser
		}
		return llm.Message{Role: role, Parts: sm.Parts}, nil
	}
	return llm.Message{}, fmt.Errorf("message %d: unknown role %q", m.ID, m.Role)
}

// History is a chat's messages in the model's form, up to and including the
// message upTo (0: all). User messages that never got an answer (pending,
// failed, canceled) are left out, except upTo itself: the model sees what
// was actually discussed.
func (s *Service) History(ctx context.Context, session string, upTo int64) ([]llm.Message, []store.Message, error) {
	stored, err := s.Store.Messages(ctx, session)
	if err != nil {
		return nil, nil, err
	}
	var out []llm.Message
	if upTo > 0 {
		for i, m := range stored {
			if m.ID > upTo {
				stored = stored[:i]
				break
			}
		}
	}
	for i, m := range stored {
		if m.Role == roleContext {
			var sc storedContext
			if err := json.Unmarshal([]byte(m.Content), &sc); err != nil {
				return nil, nil, fmt.Errorf("message %d: %w", m.ID, err)
			}
			out = append([]llm.Message{}, sc.Messages...)
			continue
		}
		if m.Role == roleUser && (m.Status == StatusPending || m.Status == StatusFailed || m.Status == StatusCanceled) && i != len(stored)-1 {
			continue
		}
		lm, err := decodeMessage(m)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, lm)
	}
	return out, stored, nil
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
