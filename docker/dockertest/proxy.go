package dockertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy sits in front of the engine's socket so that a test can cut the
// connection (as if the daemon died), restore it, or slow it down.
type Proxy struct {
	t       testing.TB
	path    string
	network string // of the target
	addr    string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	latency time.Duration
	paths   []string // of every request that went through, in order
	wg      sync.WaitGroup
	// links maps a client's connection to the engine's, and routes to the
	// paths each client connection asked for (for CutWhen's spare).
	links  map[net.Conn]net.Conn
	routes map[net.Conn][]string
	trip   *tripwire // armed by CutWhen
}

// tripwire is a cut that waits for a client to send what matches re.
type tripwire struct {
	re    *regexp.Regexp
	spare []string
	fired chan struct{}
}

// NewProxy listens on a fresh unix socket and forwards to target, a Docker
// host URL such as unix:///var/run/docker.sock or tcp://127.0.0.1:2375.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("proxy target %q: %v", target, err)
	}
	p := &Proxy{t: t, conns: map[net.Conn]struct{}{}, links: map[net.Conn]net.Conn{}, routes: map[net.Conn][]string{}}
	switch u.Scheme {
	case "unix":
		p.network, p.addr = "unix", u.Path
	case "tcp":
		p.network, p.addr = "tcp", u.Host
	default:
		t.Fatalf("proxy target %q: unsupported scheme", target)
	}
	// Unix socket paths are limited to ~104 bytes: keep it short.
	dir, err := os.MkdirTemp("", "bp")
	if err != nil {
		t.Fatal(err)
	}
	p.path = filepath.Join(dir, "docker.sock")
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
		os.RemoveAll(dir)
	})
	p.Restore()
	return p
}

// Host is the DOCKER_HOST URL of the proxy.
func (p *Proxy) Host() string { return "unix://" + p.path }

// Cut closes every open connection and refuses new ones, as a dead daemon would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutLocked(nil)
}

// CutExcept cuts as Cut does, but leaves open the connections that
// carried a request whose path contains one of spare (see CutWhen).
func (p *Proxy) CutExcept(spare ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutLocked(spare)
}

// CutWhen arms a cut for the moment a client sends bytes that match re (a
// request line, a header, a body: "/containers/create", a command's text):
// those bytes never reach the engine, and the proxy cuts as Cut does —
// except that the connections that carried a request whose path contains
// one of spare (e.g. "/events") stay open, as an idle stream does when the
// engine's host drops off the network. The channel is closed once it cut.
// Arming again replaces a cut that has not fired.
func (p *Proxy) CutWhen(re *regexp.Regexp, spare ...string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trip = &tripwire{re: re, spare: spare, fired: make(chan struct{})}
	return p.trip.fired
}

// cutLocked closes the listener and every connection but those spared
// (each client connection whose routes contain a spare part, and its link
// to the engine).
func (p *Proxy) cutLocked(spare []string) {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	kept := map[net.Conn]struct{}{}
	for c, routes := range p.routes {
		for _, r := range routes {
			for _, part := range spare {
				if strings.Contains(r, part) {
					kept[c] = struct{}{}
					if up := p.links[c]; up != nil {
						kept[up] = struct{}{}
					}
				}
			}
		}
	}
	for c := range p.conns {
		if _, ok := kept[c]; !ok {
			c.Close()
		}
	}
	p.conns = kept
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	os.Remove(p.path)
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
}

// SetLatency delays every new request connection by d before forwarding.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.ln != ln { // cut while accepting
			p.mu.Unlock()
			c.Close()
			return
		}
		p.conns[c] = struct{}{}
		lat := p.latency
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c, lat)
	}
}

func (p *Proxy) serve(c net.Conn, latency time.Duration) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	if latency > 0 {
		time.Sleep(latency)
	}
	up, err := net.Dial(p.network, p.addr)
	if err != nil {
		return
	}
	p.mu.Lock()
	if _, live := p.conns[c]; !live {
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.links[c] = up
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, up)
		delete(p.links, c)
		delete(p.routes, c)
		p.mu.Unlock()
		up.Close()
	}()
	// Each direction ends on its own: an exec's stdin ends with a half-close
	// while its output still flows back. Cut closes both at once. What the
	// client sends is looked at before it is forwarded (CutWhen).
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(io.MultiWriter(&requestLog{p: p, c: c}, up), c)
		closeWrite(up)
		done <- struct{}{}
	}()
	go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// String describes the proxy for test logs.
func (p *Proxy) String() string { return fmt.Sprintf("proxy %s → %s", p.path, p.addr) }

// Requested counts the requests that went through the proxy whose path
// contains part (e.g. "/events"): a signal that a client has sent them.
func (p *Proxy) Requested(part string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, path := range p.paths {
		if strings.Contains(path, part) {
			n++
		}
	}
	return n
}

var httpVersion = []byte(" HTTP/1.")

var requestLine = regexp.MustCompile(`(?:GET|HEAD|POST|PUT|DELETE) (/[^ \r\n]*) HTTP/1\.[01]\r\n`)

// errTripped ends the forwarding of bytes that fired a CutWhen.
var errTripped = errors.New("proxy: cut by CutWhen")

// requestLog finds request lines in what a client sends, across writes, and
// fires an armed CutWhen.
type requestLog struct {
	p     *Proxy
	c     net.Conn // the client's connection
	carry []byte   // the end of what came before, where a line may have begun
}

func (l *requestLog) Write(b []byte) (int, error) {
	buf := append(l.carry, b...)
	// Most of what passes is a stream's payload (a helper binary, a
	// command's input): the regexp, slow under -race, needs a request line.
	if bytes.Contains(buf, httpVersion) {
		for _, m := range requestLine.FindAllSubmatchIndex(buf, -1) {
			if m[1] > len(l.carry) { // not seen in an earlier write
				l.p.mu.Lock()
				l.p.paths = append(l.p.paths, string(buf[m[2]:m[3]]))
				l.p.routes[l.c] = append(l.p.routes[l.c], string(buf[m[2]:m[3]]))
				l.p.mu.Unlock()
			}
		}
	}
	l.p.mu.Lock()
	if w := l.p.trip; w != nil {
		for _, m := range w.re.FindAllIndex(buf, -1) {
			if m[1] > len(l.carry) { // not seen in an earlier write
				l.p.trip = nil
				l.p.cutLocked(w.spare)
				close(w.fired)
				l.p.mu.Unlock()
				return 0, errTripped
			}
		}
	}
	l.p.mu.Unlock()
	l.carry = append([]byte(nil), buf[max(0, len(buf)-2048):]...)
	return len(b), nil
}
