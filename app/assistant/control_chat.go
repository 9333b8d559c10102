package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/egress"
)

// `berth chat` beside a running Berth hands its message to it over the
// control socket and streams the answer back. After the request the Berth
// writes one JSON line per ChatFrame: progress, approval questions (the
// client answers each with one ApprovalAnswer line), and the outcome last.
// The client closing the connection stops the turn (Ctrl-C), which is kept
// as interrupted.

// ChatCommand is a message for a running Berth to answer.
type ChatCommand struct {
	Group    string `json:"group"`
	Session  string `json:"session,omitempty"` // "" continues the group's latest chat, unless New
	New      bool   `json:"new,omitempty"`
	Text     string `json:"text"`
	Provider string `json:"provider,omitempty"`
	Model    string `json:"model,omitempty"`
	Yes      bool   `json:"yes,omitempty"` // allow every tool call without asking (not network destinations)
	// AskNet answers the turn's network questions (allowlist mode); over
	// the socket NetQuestions says the client has one.
	AskNet       NetAsker `json:"-"`
	NetQuestions bool     `json:"net_questions,omitempty"`
}

// ChatFrame is one line the Berth writes back.
type ChatFrame struct {
	Event    *wireEvent             `json:"event,omitempty"`
	Approval *agent.ApprovalRequest `json:"approval,omitempty"`
	Net      *NetQuestion           `json:"net,omitempty"`      // a network question (answered with ApprovalAnswer.Net)
	NetDone  string                 `json:"net_done,omitempty"` // the question with this id is settled: stop asking
	Outcome  *ChatOutcome           `json:"outcome,omitempty"`
}

// ApprovalAnswer is the client's answer to an approval question.
type ApprovalAnswer struct {
	CallID   string         `json:"call_id"`
	Approval agent.Approval `json:"approval"`
	Net      *egress.Answer `json:"net,omitempty"` // the answer to a network question (CallID is its id)
}

// ChatOutcome is how the turn ended, as the wire carries it.
type ChatOutcome struct {
	Session   string       `json:"session"`
	MessageID int64        `json:"message_id"`
	Text      string       `json:"text"`
	Status    string       `json:"status"`
	Error     string       `json:"error,omitempty"`
	ErrorKind string       `json:"error_kind,omitempty"` // gate | gate_interrupted | provider | canceled | other
	Gate      *GateState   `json:"gate,omitempty"`
	Turn      agent.Result `json:"turn"`
}

// wireEvent is an agent.Event whose error travels as text.
type wireEvent struct {
	agent.Event
	Err string `json:"Err,omitempty"`
}

// LatestSession is the id of the group's most recent chat, "" for none.
func (s *Service) LatestSession(ctx context.Context, group string) string {
	if ss, err := s.Sessions(ctx, group); err == nil && len(ss) > 0 {
		return ss[0].ID
	}
	return ""
}

// ChatRequest makes the request a command asks for, resolving the chat.
func (c ChatCommand) request(ctx context.Context, s *Service) ChatRequest {
	session := c.Session
	if session == "" && !c.New {
		session = s.LatestSession(ctx, c.Group)
	}
	return ChatRequest{Group: c.Group, Session: session, Text: c.Text, Provider: c.Provider, Model: c.Model}
}

// ChatCommand answers a command in this runtime (the one-shot CLI's path).
func (r *Runtime) ChatCommand(ctx context.Context, c ChatCommand, approve agent.Approver, onEvent func(agent.Event)) (ChatResult, error) {
	req := c.request(ctx, r.svc)
	req.Approve, req.OnEvent, req.AskNet = approve, onEvent, c.AskNet
	if c.Yes {
		req.Approve = allowAll
	}
	return r.Chat(ctx, req)
}

func allowAll(context.Context, agent.ApprovalRequest) (agent.Approval, error) {
	return agent.AllowOnce, nil
}

// serveChat runs a chat for a client of the control socket.
func (r *Runtime) serveChat(ctx context.Context, c net.Conn, dec *json.Decoder, cmd ChatCommand) {
	_ = c.SetDeadline(time.Time{}) // a turn takes as long as it takes
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wmu sync.Mutex
	enc := json.NewEncoder(c)
	write := func(f ChatFrame) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = enc.Encode(f)
	}
	// One reader: approval answers, and the client going away.
	var amu sync.Mutex
	answers := map[string]chan agent.Approval{}
	netAnswers := map[string]chan egress.Answer{}
	if cmd.NetQuestions {
		cmd.AskNet = socketNetAsker(write, &amu, netAnswers)
	}
	go func() {
		for {
			var a ApprovalAnswer
			if err := dec.Decode(&a); err != nil {
				cancel(ErrStoppedByUser) // the client hung up (Ctrl-C) or broke the protocol
				return
			}
			amu.Lock()
			if ch, ok := netAnswers[a.CallID]; ok && a.Net != nil {
				ch <- *a.Net
				delete(netAnswers, a.CallID)
			} else if ch, ok := answers[a.CallID]; ok {
				ch <- a.Approval
				delete(answers, a.CallID)
			}
			amu.Unlock()
		}
	}()
	approve := func(ctx context.Context, req agent.ApprovalRequest) (agent.Approval, error) {
		ch := make(chan agent.Approval, 1)
		amu.Lock()
		answers[req.CallID] = ch
		amu.Unlock()
		write(ChatFrame{Approval: &req})
		select {
		case a := <-ch:
			return a, nil
		case <-ctx.Done():
			return agent.Deny, context.Cause(ctx)
		}
	}
	onEvent := func(ev agent.Event) {
		w := &wireEvent{Event: ev}
		if ev.Err != nil {
			w.Err = ev.Err.Error()
		}
		write(ChatFrame{Event: w})
	}
	res, err := r.ChatCommand(ctx, cmd, approve, onEvent)
	write(ChatFrame{Outcome: outcome(res, err)})
}

func outcome(res ChatResult, err error) *ChatOutcome {
	o := &ChatOutcome{Session: res.Session, MessageID: res.MessageID, Text: res.Text, Status: res.Status, Turn: res.Turn}
	if err == nil {
		return o
	}
	o.Error, o.ErrorKind = err.Error(), "other"
	var gc *GateClosedError
	var pe *ProviderError
	switch {
	case errors.As(err, &gc):
		o.ErrorKind, o.Gate = "gate", &gc.Gate
	case errors.Is(err, ErrGateClosed):
		o.ErrorKind = "gate_interrupted"
	case errors.As(err, &pe):
		o.ErrorKind, o.Error = "provider", pe.Err.Error()
	case errors.Is(err, context.Canceled):
		o.ErrorKind = "canceled"
	}
	return o
}

// ControlChat hands a message to the Berth running on path and streams its
// answer: onEvent hears the turn's progress and approve answers its
// questions. Errors are those of an in-process Chat (*GateClosedError,
// *ProviderError, context.Canceled), or ErrNotRunning.
func ControlChat(ctx context.Context, path string, cmd ChatCommand, approve agent.Approver, onEvent func(agent.Event)) (ChatResult, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return ChatResult{}, fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // the Berth stops the turn
	defer stop()
	enc := json.NewEncoder(c)
	cmd.NetQuestions = cmd.AskNet != nil
	if err := enc.Encode(ControlRequest{Cmd: "chat", Chat: &cmd}); err != nil {
		return ChatResult{}, err
	}
	nets := newClientNet(ctx, enc, cmd.AskNet) // its send is shared with the network answers, which come from goroutines
	defer nets.stop()
	dec := json.NewDecoder(c)
	for {
		var f ChatFrame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return ChatResult{}, ctx.Err()
			}
			return ChatResult{}, fmt.Errorf("the running Berth stopped answering: %w", err)
		}
		switch {
		case f.Event != nil:
			ev := f.Event.Event
			if f.Event.Err != "" {
				ev.Err = errors.New(f.Event.Err)
			}
			if onEvent != nil {
				onEvent(ev)
			}
		case f.Net != nil:
			nets.ask(*f.Net)
		case f.NetDone != "":
			nets.done(f.NetDone)
		case f.Approval != nil:
			a := agent.Deny
			if approve != nil {
				if a, err = approve(ctx, *f.Approval); err != nil {
					a = agent.Deny
				}
			}
			if err := nets.send(ApprovalAnswer{CallID: f.Approval.CallID, Approval: a}); err != nil {
				return ChatResult{}, err
			}
		case f.Outcome != nil:
			return f.Outcome.result()
		}
	}
}

func (o *ChatOutcome) result() (ChatResult, error) {
	res := ChatResult{Session: o.Session, MessageID: o.MessageID, Text: o.Text, Status: o.Status, Turn: o.Turn}
	switch o.ErrorKind {
	case "":
		return res, nil
	case "gate":
		res.Err = &GateClosedError{Gate: *o.Gate}
	case "gate_interrupted":
		res.Err = fmt.Errorf("%w%s", ErrGateClosed, strings.TrimPrefix(o.Error, ErrGateClosed.Error()))
	case "provider":
		res.Err = &ProviderError{Err: errors.New(o.Error)}
	case "canceled":
		res.Err = fmt.Errorf("%s: %w", o.Error, context.Canceled)
	default:
		res.Err = errors.New(o.Error)
	}
	return res, res.Err
}
