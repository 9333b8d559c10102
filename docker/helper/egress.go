package helper

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
)

// Network egress, the helper's side: it listens on a loopback address
// inside the sandbox (which has no other network) and carries each
// connection it accepts as one stream towards Berth, whose proxy decides,
// dials and pipes. The helper never dials anything itself.
//
// A stream is a KindEgress Request frame, then the connection's bytes
// both ways. A half-close by the sandbox's client is passed on (the
// stream's FIN); Berth's close of the stream ends the connection: what
// Berth sent is delivered, the client's write side is closed, and what
// the client still sends is dropped, so that the stream ends at once.

// egress is the helper's listener, started by the first hello that asks.
type egress struct {
	mu    sync.Mutex
	addr  string // where it listens, once it does
	conns atomic.Int32
}

// checkListen accepts only a loopback TCP address: the listener must stay
// inside the sandbox.
func checkListen(addr string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		return fmt.Errorf("listen address %q: want a loopback IP and port", addr)
	}
	return nil
}

// listen starts the listener on addr once; a second hello asking for the
// same address gets the running one.
func (e *egress) listen(sess *yamux.Session, addr string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.addr != "" {
		if e.addr != addr {
			return e.addr, fmt.Errorf("already listening on %s", e.addr)
		}
		return e.addr, nil
	}
	if err := checkListen(addr); err != nil {
		return "", err
	}
	// A helper that Berth replaced may take a moment to die and free
	// the port: try again for a few seconds.
	ln, err := net.Listen("tcp", addr)
	for i := 0; errors.Is(err, syscall.EADDRINUSE) && i < 30; i++ {
		time.Sleep(100 * time.Millisecond)
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return "", err
	}
	e.addr = addr
	go func() {
		<-sess.CloseChan()
		ln.Close()
	}()
	go e.accept(sess, ln)
	return addr, nil
}

func (e *egress) accept(sess *yamux.Session, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // out of file descriptors, say: wait a little
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if e.conns.Add(1) > MaxEgress {
			e.conns.Add(-1)
			c.Close()
			continue
		}
		go func() {
			defer e.conns.Add(-1)
			carry(sess, c.(*net.TCPConn))
		}()
	}
}

// carry moves one connection over a new stream until both are done.
func carry(sess *yamux.Session, c *net.TCPConn) {
	defer c.Close()
	st, err := sess.OpenStream()
	if err != nil {
		return
	}
	defer st.Close()
	if WriteJSON(st, FrameRequest, Request{Kind: KindEgress}) != nil {
		return
	}
	var hostClosed atomic.Bool
	up := make(chan struct{})
	go func() {
		defer close(up)
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 && !hostClosed.Load() {
				if _, werr := st.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				if !hostClosed.Load() {
					_ = st.Close() // the client's half-close, passed on
				}
				return
			}
		}
	}()
	if _, err := io.Copy(c, st); err != nil {
		// The client is gone: take what Berth still sends, so that its
		// side of the stream never blocks, until it closes.
		_, _ = io.Copy(io.Discard, st)
	}
	// Berth closed the stream (or the channel ended): deliver nothing more
	// from the client, tell it we are done, and give it a moment to read
	// the last bytes before the socket closes under it.
	hostClosed.Store(true)
	_ = c.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	<-up
}
