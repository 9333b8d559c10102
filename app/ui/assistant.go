// Package ui is Berth's desktop face: the tray menu and icon, the chat
// window, the mount picker, the audit viewer and the settings. It is the
// only importer of Fyne. The logic — which menu items the
// tray shows, how runtime events become a conversation — lives in pure
// functions and structs; the widgets only render what they compute.
package ui

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-app/berth/app/assistant"
)

// Assistant is the service as the desktop app needs it. Runtime and Service
// satisfy it through Connect; tests fake it.
type Assistant interface {
	// Gate is whether work may run now, and if not, why.
	Gate() assistant.GateState
	// Subscribe streams the runtime's events until cancel is called.
	Subscribe() (<-chan assistant.Event, func())
	// Groups lists the groups; Sessions a group's chats, newest first.
	Groups(ctx context.Context) ([]assistant.Group, error)
	Sessions(ctx context.Context, group string) ([]assistant.Session, error)
	// Messages are a chat's stored messages, oldest first.
	Messages(ctx context.Context, session string) ([]assistant.Message, error)
	// Send stores a message and queues its turn; it returns at once.
	Send(ctx context.Context, req assistant.ChatRequest) (assistant.Message, error)
	// Cancel stops a message's turn, or takes it off its queue.
	Cancel(ctx context.Context, messageID int64) error
	// Pause and Resume close and reopen the gate by the user's choice.
	Pause(ctx context.Context, reason string) error
	Resume(ctx context.Context) error
	// Rotate replaces the sandboxes of a group ("" for all).
	Rotate(ctx context.Context, group string) (int, error)
	// StopAll stops every sandbox; RunningSandboxes counts those running.
	StopAll(ctx context.Context) error
	RunningSandboxes(ctx context.Context) (int, error)
}

// ErrCannotStop means a turn could not be stopped (it had already ended).
var ErrCannotStop = errors.New("the turn could not be stopped")

// runtimeAssistant adapts the assistant's Runtime and Service to Assistant.
type runtimeAssistant struct {
	rt  *assistant.Runtime
	svc *assistant.Service
}

var _ Assistant = (*runtimeAssistant)(nil)

// Connect gives the desktop app the runtime and the service it wraps.
func Connect(rt *assistant.Runtime, svc *assistant.Service) Assistant {
	return &runtimeAssistant{rt: rt, svc: svc}
}

func (a *runtimeAssistant) Gate() assistant.GateState { return a.rt.Gate() }

func (a *runtimeAssistant) Subscribe() (<-chan assistant.Event, func()) { return a.rt.Subscribe() }

func (a *runtimeAssistant) Groups(ctx context.Context) ([]assistant.Group, error) {
	return a.svc.Groups(ctx)
}

func (a *runtimeAssistant) Sessions(ctx context.Context, group string) ([]assistant.Session, error) {
	return a.svc.Sessions(ctx, group)
}

func (a *runtimeAssistant) Messages(ctx context.Context, session string) ([]assistant.Message, error) {
	_, stored, err := a.svc.History(ctx, session, 0)
	return stored, err
}

func (a *runtimeAssistant) Send(ctx context.Context, req assistant.ChatRequest) (assistant.Message, error) {
	return a.rt.Send(ctx, req)
}

// Cancel stops a running turn (kept as interrupted) or takes a waiting
// message off its queue.
func (a *runtimeAssistant) Cancel(ctx context.Context, messageID int64) error {
	if err := a.rt.Cancel(ctx, messageID); err != nil {
		return fmt.Errorf("%w: %v", ErrCannotStop, err)
	}
	return nil
}

func (a *runtimeAssistant) Pause(ctx context.Context, reason string) error {
	return a.rt.Pause(ctx, reason)
}

func (a *runtimeAssistant) Resume(ctx context.Context) error { return a.rt.Resume(ctx) }

func (a *runtimeAssistant) Rotate(ctx context.Context, group string) (int, error) {
	return a.rt.Rotate(ctx, group)
}

func (a *runtimeAssistant) StopAll(ctx context.Context) error {
	_, err := a.rt.StopAll(ctx)
	return err
}

func (a *runtimeAssistant) RunningSandboxes(ctx context.Context) (int, error) {
	return a.svc.RunningSandboxes(ctx)
}
