package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/berth-app/berth/docker/helper"
)

// errNotStarted says a call failed before the helper could have run it,
// so it may be tried again elsewhere.
var errNotStarted = errors.New("the call did not reach the helper")

// exec runs one command over the channel. Every frame it reads is
// untrusted: a malformed one ends the channel, and only an Exit frame on
// this call's own stream ends the call.
func (h *helperConn) exec(ctx context.Context, req ExecRequest, limit int, marker string) (ExecResult, error) {
	hreq := helper.Request{Kind: helper.KindExec, Argv: req.Argv, Env: req.Env, Dir: req.WorkDir, Stdin: req.Stdin != nil, Marker: marker}
	res, _, err := h.call(ctx, hreq, req, limit)
	return res, err
}

// call runs one stream of any kind: hreq opens it, req gives its stdin,
// timeout and output callback. It returns the Exit frame as sent.
func (h *helperConn) call(ctx context.Context, hreq helper.Request, req ExecRequest, limit int) (ExecResult, helper.Exit, error) {
	start := time.Now()
	st, err := h.sess.OpenStream()
	if err != nil {
		return ExecResult{}, helper.Exit{}, fmt.Errorf("%w: %v", errNotStarted, err)
	}
	defer st.Close()
	var wmu sync.Mutex
	send := func(typ byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return helper.WriteFrame(st, typ, p)
	}
	wmu.Lock()
	err = helper.WriteJSON(st, helper.FrameRequest, hreq)
	wmu.Unlock()
	if err != nil {
		return ExecResult{}, helper.Exit{}, fmt.Errorf("%w: %v", errNotStarted, err)
	}
	if req.Stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := req.Stdin.Read(buf)
				if n > 0 && send(helper.FrameStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					_ = send(helper.FrameStdinEOF, nil)
					return
				}
			}
		}()
	}

	outCap, errCap := newCapture(limit), newCapture(limit)
	type ended struct {
		exit helper.Exit
		err  error
	}
	finished := make(chan ended, 1)
	go func() {
		for {
			typ, p, err := helper.ReadFrame(st, string([]byte{helper.FrameStdout, helper.FrameStderr, helper.FrameExit}))
			if err != nil {
				if errors.Is(err, helper.ErrProtocol) {
					h.fail(err)
				}
				finished <- ended{err: err}
				return
			}
			switch typ {
			case helper.FrameStdout, helper.FrameStderr:
				s, c := Stdout, outCap
				if typ == helper.FrameStderr {
					s, c = Stderr, errCap
				}
				_, _ = c.Write(p)
				if req.OnOutput != nil {
					req.OnOutput(s, p)
				}
			case helper.FrameExit:
				var ex helper.Exit
				err := helper.ReadJSON(p, &ex)
				if err == nil && (ex.Code < 0 || ex.Code > 255 || ex.Signal < 0 || ex.Signal > 64) {
					err = fmt.Errorf("%w: exit code %d, signal %d", helper.ErrProtocol, ex.Code, ex.Signal)
				}
				if err != nil {
					h.fail(err)
				}
				finished <- ended{exit: ex, err: err}
				return
			}
		}
	}()

	stopSignals := make(chan struct{})
	defer close(stopSignals)
	forwardSignals(req.Signals, stopSignals, func(s Signal) { _ = send(helper.FrameSignal, []byte{byte(s)}) })
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	res := ExecResult{}
	var end ended
	select {
	case end = <-finished:
	case <-timeout:
		res.TimedOut = true
	case <-ctx.Done():
		res.Canceled = true
	}
	stopping := res.TimedOut || res.Canceled
	if stopping && req.Grace > 0 && send(helper.FrameSignal, []byte{byte(SIGTERM)}) == nil {
		t := time.NewTimer(req.Grace)
		select {
		case end = <-finished:
			stopping = false // it ended within its grace
		case <-h.done:
		case <-t.C:
		}
		t.Stop()
	}
	if stopping {
		_ = send(helper.FrameKill, nil)
		select {
		case end = <-finished:
		case <-h.done:
			end = ended{err: h.err}
		case <-time.After(5 * time.Second):
			h.fail(errors.New("the helper did not stop a command it was told to kill"))
			end = ended{err: h.err}
		}
	}
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = outCap.Output(), errCap.Output()
	if end.err != nil {
		// A call that ends without its Exit frame leaves the channel in an
		// unknown state: end it (a no-op when it already ended) and say why.
		if h.sess.IsClosed() {
			<-h.done // the session's end names the reason (see newHelperConn)
		}
		h.fail(fmt.Errorf("a call ended without a result: %v", end.err))
		return res, end.exit, fmt.Errorf("%w while the command ran: %s", ErrHelperLost, h.reason())
	}
	res.ExitCode = end.exit.Code
	return res, end.exit, nil
}
