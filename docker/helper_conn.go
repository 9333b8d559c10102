package docker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-app/berth/docker/helper"
	"github.com/hashicorp/yamux"
	"github.com/moby/moby/client"
)

// ErrHelperLost is wrapped when the sandbox helper's channel ended (or the
// helper broke the protocol) while a call was in flight. The next call
// starts a fresh helper.
var ErrHelperLost = errors.New("the sandbox helper stopped answering")

// helperConn is one running helper: the attach stream of its exec, with a
// yamux session over the de-multiplexed stdout and the raw stdin.
type helperConn struct {
	execID  string
	arch    string
	egress  *streamAcceptor // the streams the helper opens
	started time.Time
	ready   time.Duration // exec start to hello answered
	att     client.HijackedResponse
	sess    *yamux.Session
	stderr  *capture // the helper's own stderr, bounded, for messages

	once sync.Once
	done chan struct{}
	err  error // why the channel ended; set before done closes
}

// newHelperConn starts the channel of a helper; acc says what to do with the
// streams it opens (its sess and fail are filled in here).
func newHelperConn(att client.HijackedResponse, execID, arch string, acc *streamAcceptor) (*helperConn, error) {
	h := &helperConn{execID: execID, arch: arch, started: time.Now(), att: att, stderr: newCapture(4096), done: make(chan struct{})}
	// A non-TTY exec's output is stdcopy-framed by the engine (stdout and
	// stderr interleaved); yamux reads the stdout stream alone. The
	// framing comes from the engine, not from the helper, so it can be
	// trusted; the bytes inside it cannot.
	dm := &demux{r: att.Reader, stderr: h.stderr}
	if err := awaitMagic(dm, att, 15*time.Second); err != nil {
		att.Close()
		msg := err.Error()
		if out := h.stderr.Output(); out.Total > 0 {
			msg += "; it said: " + strings.TrimSpace(string(out.Data))
		}
		return nil, errors.New(msg)
	}
	rd := &watchedReader{r: dm}
	sess, err := yamux.Client(duplex{rd, att.Conn, att.Close}, helper.Config())
	if err != nil {
		att.Close()
		return nil, err
	}
	h.sess = sess
	ctx, cancel := context.WithCancel(context.Background())
	acc.sess, acc.ctx, acc.fail = sess, ctx, h.fail
	h.egress = acc
	go func() {
		<-h.done
		cancel()
	}()
	go func() {
		<-sess.CloseChan()
		if err := rd.error(); err != nil {
			h.fail(fmt.Errorf("the helper's channel ended: %w", err))
		}
		// The stream was fine: yamux ended the session because it refused
		// what it read (or because Berth closed it, and then fail already ran).
		h.fail(fmt.Errorf("%w: the helper sent bytes that are not a valid yamux frame, or stopped answering its keepalives", helper.ErrProtocol))
	}()
	go acc.run()
	return h, nil
}

// fail ends the channel once, remembering the first reason.
func (h *helperConn) fail(err error) {
	h.once.Do(func() {
		h.err = err
		close(h.done)
		h.att.Close() // first: yamux's Close waits for its reader to end
		_ = h.sess.Close()
	})
}

func (h *helperConn) alive() bool {
	select {
	case <-h.done:
		return false
	default:
		return !h.sess.IsClosed()
	}
}

// reason says why the channel ended, with the helper's last words.
func (h *helperConn) reason() string {
	<-h.done
	msg := h.err.Error()
	if out := h.stderr.Output(); out.Total > 0 {
		msg += "; it said: " + string(out.Data)
	}
	return msg
}

// hello checks that the helper speaks this protocol and, for a sandbox
// with egress, makes it listen on EgressListen.
func (h *helperConn) hello(timeout time.Duration) error {
	st, err := h.sess.OpenStream()
	if err != nil {
		return err
	}
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(timeout))
	req := helper.Request{Kind: helper.KindHello, Version: helper.Version}
	if h.egress.egress {
		req.Listen = EgressListen
	}
	if err := helper.WriteJSON(st, helper.FrameRequest, req); err != nil {
		return err
	}
	typ, p, err := helper.ReadFrame(st, string(helper.FrameExit))
	if err != nil {
		if errors.Is(err, helper.ErrProtocol) {
			h.fail(err)
		}
		return fmt.Errorf("no answer to hello: %w", err)
	}
	var ex helper.Exit
	if err := helper.ReadJSON(p, &ex); err != nil || typ != helper.FrameExit {
		h.fail(err)
		return err
	}
	if ex.Version != helper.Version {
		h.fail(fmt.Errorf("helper speaks protocol %d, Berth %d", ex.Version, helper.Version))
		return h.err
	}
	if req.Listen != "" && ex.Listen != req.Listen {
		// The sandbox's only way out would be missing: a helper without
		// it is no use there (a process may hold the port, say).
		h.fail(fmt.Errorf("%w: %s", errNoEgressListener, cmp.Or(ex.Error, "it did not listen on "+req.Listen)))
		return h.err
	}
	return nil
}

// awaitMagic reads the helper's first line, closing the stream if it does
// not come in time.
func awaitMagic(r io.Reader, att client.HijackedResponse, timeout time.Duration) error {
	var late atomic.Bool
	t := time.AfterFunc(timeout, func() { late.Store(true); att.Close() })
	defer t.Stop()
	got := make([]byte, len(helper.Magic))
	if _, err := io.ReadFull(r, got); err != nil {
		if late.Load() {
			// The read failed because the wait was over, not the stream.
			return fmt.Errorf("no greeting from the helper within %s", timeout)
		}
		return fmt.Errorf("no greeting from the helper: %w", err)
	}
	if string(got) != helper.Magic {
		return fmt.Errorf("%w: greeting %q", helper.ErrProtocol, got)
	}
	return nil
}

// watchedReader remembers the error that ended its reads.
type watchedReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	return n, err
}

func (w *watchedReader) error() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

type duplex struct {
	io.Reader
	io.Writer
	close func()
}

func (d duplex) Close() error {
	d.close()
	return nil
}
