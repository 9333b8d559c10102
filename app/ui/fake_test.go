package ui

import (
	"context"

	"github.com/berth-app/berth/app/assistant"
)

// fakeAssistant is an Assistant with one func field per method; nil
// fields return zero values.
type fakeAssistant struct {
	gate         assistant.GateState
	groups       []assistant.Group
	sessions     map[string][]assistant.Session
	messages     map[string][]assistant.Message
	events       chan assistant.Event
	SendFunc     func(req assistant.ChatRequest) (assistant.Message, error)
	CancelFunc   func(id int64) error
	PauseFunc    func(reason string) error
	ResumeFunc   func() error
	RotateFunc   func(group string) (int, error)
	StopAllFunc  func() error
	RunningCount int
}

var _ Assistant = (*fakeAssistant)(nil)

func (f *fakeAssistant) Gate() assistant.GateState { return f.gate }

func (f *fakeAssistant) Subscribe() (<-chan assistant.Event, func()) {
	if f.events == nil {
		f.events = make(chan assistant.Event)
	}
	return f.events, func() {}
}

func (f *fakeAssistant) Groups(context.Context) ([]assistant.Group, error) { return f.groups, nil }

func (f *fakeAssistant) Sessions(_ context.Context, g string) ([]assistant.Session, error) {
	return f.sessions[g], nil
}

func (f *fakeAssistant) Messages(_ context.Context, s string) ([]assistant.Message, error) {
	return f.messages[s], nil
}

func (f *fakeAssistant) Send(_ context.Context, req assistant.ChatRequest) (assistant.Message, error) {
	if f.SendFunc == nil {
		return assistant.Message{}, nil
	}
	return f.SendFunc(req)
}

func (f *fakeAssistant) Cancel(_ context.Context, id int64) error {
	if f.CancelFunc == nil {
		return nil
	}
	return f.CancelFunc(id)
}

func (f *fakeAssistant) Pause(_ context.Context, reason string) error {
	if f.PauseFunc == nil {
		return nil
	}
	return f.PauseFunc(reason)
}

func (f *fakeAssistant) Resume(context.Context) error {
	if f.ResumeFunc == nil {
		return nil
	}
	return f.ResumeFunc()
}

func (f *fakeAssistant) Rotate(_ context.Context, g string) (int, error) {
	if f.RotateFunc == nil {
		return 0, nil
	}
	return f.RotateFunc(g)
}

func (f *fakeAssistant) StopAll(context.Context) error {
	if f.StopAllFunc == nil {
		return nil
	}
	return f.StopAllFunc()
}

func (f *fakeAssistant) RunningSandboxes(context.Context) (int, error) { return f.RunningCount, nil }
