package assistant

import (
	"context"
	"fmt"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/store"
)

// reportUnreadable tells the face and the audit log about stored messages
// that could not be read back and were left out of the model's history.
func (s *Service) reportUnreadable(ctx context.Context, group, session string, errs []error, onEvent func(agent.Event)) error {
	if len(errs) == 0 {
		return nil
	}
	text := fmt.Sprintf("%d stored message(s) of this chat could not be read and were left out of what the model sees: %v", len(errs), errs[0])
	if onEvent != nil {
		onEvent(agent.Event{Kind: agent.EventNotice, Text: text})
	}
	var list []string
	for _, err := range errs {
		list = append(list, err.Error())
	}
	return s.record(ctx, store.Event{Group: group, Session: session, Kind: AuditMessageUnreadable, Actor: store.ActorSystem,
		Summary: text, Detail: mustJSON(map[string]any{"errors": list})})
}

// ErrInterrupted is returned by Answer for a turn that was cut short (Ctrl-C,
// Stop, Docker lost): what it produced is kept, and the message is left
// interrupted. It matches context.Canceled, so a face treats it as a cancel.
var ErrInterrupted = fmt.Errorf("turn interrupted; the partial answer is kept: %w", context.Canceled)

// interruptedErr returns the error Answer gives for a turn that ended with
// status: ErrInterrupted for an interrupted turn that has no error of its own.
func interruptedErr(status string, turnErr error) error {
	if status == StatusInterrupted && turnErr == nil {
		return ErrInterrupted
	}
	return turnErr
}

// StopChatSandbox stops the sandbox of one chat, if it has one: a one-shot
// `berth chat` calls it as it exits, so that its sandbox does not stay
// behind until its maximum age.
func (s *Service) StopChatSandbox(ctx context.Context, group, session string) error {
	if s.Engine == nil || session == "" {
		return nil
	}
	_, err := s.stopSession(ctx, group, session, "the one-shot chat ended")
	return err
}
