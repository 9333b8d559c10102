package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// The control socket lets `berth pause`, `resume`, `sandbox rotate` and
// `stop --all` reach a running Berth instead of fighting it for the
// database: one JSON request per connection, one JSON reply. It lives in the
// data folder and only its owner may connect (mode 0600 in a 0700 folder).

// ControlRequest is one command for a running Berth.
type ControlRequest struct {
	Cmd    string       `json:"cmd"` // status | pause | resume | rotate | stop-all | reap | settings | task | show | chat | net-pending | net-answer
	Group  string       `json:"group,omitempty"`
	Reason string       `json:"reason,omitempty"`
	Chat   *ChatCommand `json:"chat,omitempty"` // chat: the message (see ControlChat)
	Task   *TaskOp      `json:"task,omitempty"` // cmd "task"
	Net    *NetAnswerOp `json:"net,omitempty"`  // cmd "net-answer"
}

// ControlReply is the answer.
type ControlReply struct {
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
	Gate  GateState `json:"gate"`
	Count int       `json:"count,omitempty"` // rotate: sandboxes replaced
	Pid   int       `json:"pid"`
	Task  *TaskInfo `json:"task,omitempty"` // cmd "task": the task after the change
	Run   int64     `json:"run,omitempty"`  // cmd "task", op "run": the run's id
	// Net is the network questions waiting (cmd "net-pending").
	Net []NetQuestion `json:"net,omitempty"`
}

// ErrNotRunning means no Berth answers on the control socket.
var ErrNotRunning = errors.New("no running Berth answers")

// ServeControl answers control requests on path until ctx ends.
func (r *Runtime) ServeControl(ctx context.Context, path string) error {
	_ = os.Remove(path) // a socket left by a crash; the lock says we are the only Berth
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
		os.Remove(path)
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serveConn(ctx, c)
		}
	}()
	return nil
}

func (r *Runtime) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	var req ControlRequest
	dec := json.NewDecoder(c)
	if err := dec.Decode(&req); err != nil {
		return
	}
	if req.Cmd == "chat" && req.Chat != nil {
		r.serveChat(ctx, c, dec, *req.Chat)
		return
	}
	rep := ControlReply{OK: true, Pid: os.Getpid()}
	var err error
	switch req.Cmd {
	case "status":
	case "pause":
		err = r.Pause(ctx, req.Reason)
	case "resume":
		err = r.Resume(ctx)
	case "rotate":
		rep.Count, err = r.Rotate(ctx, req.Group)
	case "stop-all":
		rep.Count, err = r.StopAll(ctx)
	case "reap":
		var reaped []docker.Sandbox
		reaped, err = r.Reap(ctx)
		rep.Count = len(reaped)
	case "settings":
		err = r.ReloadSettings(ctx)
	case "task":
		rep.Task, rep.Run, err = r.controlTask(ctx, req.Task)
	case "net-pending":
		rep.Net = r.PendingNet()
	case "net-answer":
		if req.Net == nil {
			err = errors.New("net-answer: no answer given")
		} else {
			err = r.AnswerNet(req.Net.ID, req.Net.Answer)
		}
	case "show":
		if r.OnShow == nil {
			err = errors.New("this Berth has no window (berth serve)")
		} else {
			r.OnShow()
		}
	default:
		err = fmt.Errorf("unknown command %q", req.Cmd)
	}
	if err != nil {
		rep.OK, rep.Error = false, err.Error()
	}
	rep.Gate = r.Gate()
	_ = json.NewEncoder(c).Encode(rep)
}

// Control sends one request to the Berth running on path.
func Control(path string, req ControlRequest) (ControlReply, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return ControlReply{}, fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return ControlReply{}, err
	}
	var rep ControlReply
	if err := json.NewDecoder(c).Decode(&rep); err != nil {
		return rep, fmt.Errorf("control reply: %w", err)
	}
	if !rep.OK {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}

// SetPaused pauses (reason non-empty) or resumes the assistant when no
// Berth is running: the flag is seen by the next command or app.
func (s *Service) SetPaused(ctx context.Context, reason string) error {
	if err := s.setPaused(reason); err != nil {
		return err
	}
	if reason == "" {
		return s.record(ctx, store.Event{Kind: AuditResumed, Actor: store.ActorUser, Summary: "resumed by the user"})
	}
	return s.record(ctx, store.Event{Kind: AuditPaused, Actor: store.ActorUser, Summary: reason})
}

// Rotate stops a group's sandboxes ("" for all) when no Berth is running;
// the next turn starts fresh ones.
func (s *Service) Rotate(ctx context.Context, group string) (int, error) {
	stopped, err := s.stopWhere(ctx, docker.Filter{Group: group}, "rotated")
	return len(stopped), err
}

// Instance is an opened installation with its runtime going: what `berth
// serve` and the desktop app run. Close stops the runtime and releases the
// installation.
type Instance struct {
	Runtime   *Runtime
	Scheduler *Scheduler
	Service   *Service
	Store     *store.Store // the audit log, for the audit viewer
	ConfigDir string       // where settings live
	Socket    string
	// BuildImage builds the default sandbox image, reporting each line of
	// progress, then re-checks Docker so the gate opens when it is done.
	BuildImage func(image string, progress func(line string)) error
	Close      func() error
}

// ErrShownExisting means another Berth was already running and was asked to
// show its window instead.
var ErrShownExisting = errors.New("berth is already running; its window was brought forward")
