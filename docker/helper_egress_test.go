package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-app/berth/docker/helper"
	"github.com/hashicorp/yamux"
)

// fakeChannel connects a streamAcceptor (Berth's side) to a yamux session
// that plays the helper, over an in-memory pipe.
type fakeChannel struct {
	helper *yamux.Session
	acc    *streamAcceptor
	failed chan error
}

func newFakeChannel(t *testing.T, egress bool, h EgressHandler) *fakeChannel {
	t.Helper()
	a, b := net.Pipe()
	host, err := yamux.Client(a, helper.Config())
	if err != nil {
		t.Fatal(err)
	}
	hs, err := yamux.Server(b, helper.Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeChannel{helper: hs, failed: make(chan error, 1)}
	var once sync.Once
	f.acc = &streamAcceptor{sess: host, sandbox: "sb1", egress: egress, handler: func() EgressHandler { return h }, ctx: ctx,
		linger: 300 * time.Millisecond,
		fail: func(err error) {
			once.Do(func() { f.failed <- err; cancel(); host.Close() })
		}}
	go func() { <-host.CloseChan(); cancel() }()
	go f.acc.run()
	t.Cleanup(func() { cancel(); host.Close(); hs.Close() })
	return f
}

// open opens a stream as the helper does, with first as its first frame.
func (f *fakeChannel) open(t *testing.T, first []byte) *yamux.Stream {
	t.Helper()
	st, err := f.helper.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(first); err != nil {
		t.Fatal(err)
	}
	return st
}

func request(t *testing.T, kind string) []byte {
	t.Helper()
	var b strings.Builder
	if err := helper.WriteJSON(&b, helper.FrameRequest, helper.Request{Kind: kind}); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

// closedByHost reads st until the host's close; it returns what came.
func closedByHost(t *testing.T, st *yamux.Stream) string {
	t.Helper()
	_ = st.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(st)
	if err != nil {
		t.Fatalf("the host did not close the stream: %v (read %q)", err, b)
	}
	st.Close()
	return string(b)
}

func echo(_ context.Context, _ string, c net.Conn) { _, _ = io.Copy(c, c) }

func TestEgressStreamReachesTheHandler(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	f := newFakeChannel(t, true, func(ctx context.Context, id string, c net.Conn) {
		got <- id
		fmt.Fprint(c, "hello from the host")
	})
	st := f.open(t, request(t, helper.KindEgress))
	if body := closedByHost(t, st); body != "hello from the host" || <-got != "sb1" {
		t.Fatalf("got %q", body)
	}
}

func TestEgressStreamsRefused(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	counting := func(ctx context.Context, id string, c net.Conn) { calls.Add(1); echo(ctx, id, c) }
	cases := []struct {
		name    string
		egress  bool
		handler EgressHandler
		first   []byte
	}{
		{"garbage for a first frame", true, counting, []byte("GET / HTTP/1.1\r\n\r\n")},
		{"an oversized first frame", true, counting, []byte{helper.FrameRequest, 0xff, 0xff, 0xff, 0xff}},
		{"a first frame that is not JSON", true, counting, []byte{helper.FrameRequest, 0, 0, 0, 2, '{', '{'}},
		{"another kind (exec)", true, counting, request(t, helper.KindExec)},
		{"egress from a sandbox without it", false, counting, request(t, helper.KindEgress)},
		{"no handler set", true, nil, request(t, helper.KindEgress)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeChannel(t, c.egress, c.handler)
			st := f.open(t, c.first)
			body := closedByHost(t, st)
			// The channel is still up: the next good stream gets through.
			f.acc.egress, f.acc.handler = true, func() EgressHandler { return counting }
			ok := f.open(t, append(request(t, helper.KindEgress), "ping"...))
			_ = ok.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4)
			_, err := io.ReadFull(ok, buf)
			t.Logf("attack: %s → stream closed by the host (%d bytes back); the next stream echoed %q", c.name, len(body), buf)
			if body != "" || err != nil || string(buf) != "ping" || calls.Load() != 1 {
				t.Fatalf("got %q, next stream %q %v, handler calls %d", body, buf, err, calls.Load())
			}
			calls.Store(0)
		})
	}
}

func TestEgressStreamsAreBounded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var inHandler atomic.Int32
	f := newFakeChannel(t, true, func(ctx context.Context, id string, c net.Conn) {
		inHandler.Add(1)
		<-release
	})
	var held []*yamux.Stream
	for range helper.MaxEgress {
		held = append(held, f.open(t, request(t, helper.KindEgress)))
	}
	for deadline := time.Now().Add(10 * time.Second); inHandler.Load() < helper.MaxEgress; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d streams reached the handler", inHandler.Load(), helper.MaxEgress)
		}
		time.Sleep(time.Millisecond)
	}
	extra := f.open(t, request(t, helper.KindEgress))
	closedByHost(t, extra)
	t.Logf("attack: stream %d while %d are served → closed without reaching the handler (%d in it)", helper.MaxEgress+1, helper.MaxEgress, inHandler.Load())
	if inHandler.Load() != helper.MaxEgress {
		t.Errorf("%d streams in the handler, want %d", inHandler.Load(), helper.MaxEgress)
	}
	close(release)
	for _, st := range held {
		closedByHost(t, st)
	}
}

// TestAHelperThatBreaksTheStreamRulesLosesItsChannel: a stream kept open
// after Berth closed it, a flood of streams nobody closes.
func TestAHelperThatBreaksTheStreamRulesLosesItsChannel(t *testing.T) {
	t.Parallel()
	t.Run("a stream kept open after the host's close", func(t *testing.T) {
		f := newFakeChannel(t, true, func(ctx context.Context, id string, c net.Conn) {})
		st := f.open(t, request(t, helper.KindEgress))
		defer st.Close()
		err := waitFailed(t, f)
		t.Logf("attack: keep a stream open after the host closed it → %v", err)
	})
	t.Run("a flood of streams", func(t *testing.T) {
		f := newFakeChannel(t, true, func(ctx context.Context, id string, c net.Conn) { <-ctx.Done() })
		n := 0
		for ; n < 4*helper.MaxEgress; n++ {
			st, err := f.helper.OpenStream()
			if err != nil {
				break
			}
			_, _ = st.Write(request(t, helper.KindEgress))
		}
		err := waitFailed(t, f)
		t.Logf("attack: open %d streams and close none → %v", n, err)
	})
	t.Run("the handler's context ends with the channel", func(t *testing.T) {
		entered, ended := make(chan struct{}), make(chan struct{})
		f := newFakeChannel(t, true, func(ctx context.Context, id string, c net.Conn) { close(entered); <-ctx.Done(); close(ended) })
		f.open(t, request(t, helper.KindEgress))
		<-entered
		f.helper.Close()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatal("the handler's context did not end with the channel")
		}
	})
}

func waitFailed(t *testing.T, f *fakeChannel) error {
	t.Helper()
	select {
	case err := <-f.failed:
		if !errors.Is(err, helper.ErrProtocol) {
			t.Errorf("got %v, want a protocol violation", err)
		}
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the channel did not end")
	}
	return nil
}
