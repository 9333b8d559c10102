package egress

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// harness runs a Proxy on a loopback listener, as the sandbox helper's
// channel would hand it connections, and records its audit events.
type harness struct {
	t      *testing.T
	p      *Proxy
	url    *url.URL
	mu     sync.Mutex
	events []Event
	dials  atomic.Int32
	dialed []string
}

// newHarness starts a proxy with rules; configure, when given, changes it
// before its first connection (the race detector cannot see that a socket
// orders a later read after this write).
func newHarness(t *testing.T, rules []string, configure ...func(*Proxy)) *harness {
	t.Helper()
	h := &harness{t: t}
	pol := Policy{Group: "work", Mode: ModeAllowlist}
	for _, s := range rules {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		pol.Rules = append(pol.Rules, r)
	}
	var polMu sync.Mutex
	h.p = &Proxy{
		Policy:  func() Policy { polMu.Lock(); defer polMu.Unlock(); return pol },
		Session: "s1",
		Record:  func(ev Event) { h.mu.Lock(); h.events = append(h.events, ev); h.mu.Unlock() },
		Allow:   func(r Rule) error { polMu.Lock(); pol.Rules = append(pol.Rules, r); polMu.Unlock(); return nil },
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			h.dials.Add(1)
			h.mu.Lock()
			h.dialed = append(h.dialed, addr)
			h.mu.Unlock()
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	for _, f := range configure {
		f(h.p)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go h.p.Serve(ctx, c)
		}
	}()
	h.url = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	return h
}

func (h *harness) client(tlsConf *tls.Config) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(h.url), TLSClientConfig: tlsConf, DisableKeepAlives: true}}
}

func (h *harness) kinds() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ks []string
	for _, e := range h.events {
		ks = append(ks, e.Kind)
	}
	return strings.Join(ks, " ")
}

// waitClosed waits until the proxy recorded a connection's end: the client
// has its answer before the proxy's side of the pipe has finished.
func (h *harness) waitClosed() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.kinds(), KindClosed) {
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s event within 10 s; events: %q", KindClosed, h.kinds())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) closed() Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e.Kind == KindClosed {
			return e
		}
	}
	return Event{}
}

func serverPort(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	ap := netip.MustParseAddrPort(strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://"))
	return ap.Addr().String(), int(ap.Port())
}

func hello() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	}))
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAllowedByAnExplicitIPRule(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	h := newHarness(t, []string{fmt.Sprintf("%s:%d", ip, port)})
	code, body := get(t, h.client(nil), srv.URL+"/page")
	t.Logf("GET %s through the proxy, rule %s:%d: %d %q", srv.URL, ip, port, code, body)
	if code != 200 || body != "hello /page" {
		t.Fatalf("got %d %q", code, body)
	}
	h.waitClosed()
	if got := h.kinds(); got != "egress.allowed egress.closed" {
		t.Errorf("events: %q", got)
	}
	if c := h.closed(); c.Up == 0 || c.Down == 0 || c.Rule != fmt.Sprintf("%s:%d", ip, port) {
		t.Errorf("closed event: %+v", c)
	}
}

func TestHTTPSThroughCONNECT(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret-free") }))
	defer srv.Close()
	ip, port := serverPort(t, srv)
	h := newHarness(t, []string{fmt.Sprintf("%s:%d", ip, port)})
	code, body := get(t, h.client(srv.Client().Transport.(*http.Transport).TLSClientConfig), srv.URL)
	t.Logf("HTTPS via CONNECT, no interception: %d %q", code, body)
	if code != 200 || body != "secret-free" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestRefusals(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	cases := []struct {
		name    string
		rules   []string
		resolve map[string][]string
		target  string // URL fetched through the proxy
		want    string // in the 403 body
	}{
		{"no rule, nobody to ask", nil, nil, srv.URL, "no rule allows it and nobody can be asked"},
		{"the host's loopback by name", []string{fmt.Sprintf("web.test:%d", port)}, map[string][]string{"web.test": {"127.0.0.1"}},
			fmt.Sprintf("http://web.test:%d/", port), "127.0.0.1 is a loopback address; a rule must name it"},
		{"the cloud metadata address", []string{"metadata.test"}, map[string][]string{"metadata.test": {"169.254.169.254"}},
			"http://metadata.test/latest/meta-data/", "link-local (cloud metadata)"},
		{"the metadata address as an IP, with a rule for its name only", []string{"metadata.test"}, nil,
			"http://169.254.169.254/latest/", "no rule allows it"},
		{"a name with a public and a private address", []string{"split.test"}, map[string][]string{"split.test": {"93.184.216.34", "10.0.0.7"}},
			"http://split.test/", "both public and private"},
		{"a LAN address", []string{"lan.test"}, map[string][]string{"lan.test": {"192.168.1.10"}}, "http://lan.test/", "private address"},
		{"an allowed IP on another port", []string{fmt.Sprintf("%s:%d", ip, port+1)}, nil, srv.URL, "no rule allows it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resolved atomic.Int32
			h := newHarness(t, c.rules, func(p *Proxy) {
				p.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
					resolved.Add(1)
					var out []netip.Addr
					for _, s := range c.resolve[host] {
						out = append(out, netip.MustParseAddr(s))
					}
					if out == nil {
						return nil, errors.New("no such host")
					}
					return out, nil
				}
			})
			code, body := get(t, h.client(nil), c.target)
			t.Logf("blocked: %s → %d %s", c.name, code, strings.TrimSpace(body))
			if code != http.StatusForbidden || !strings.Contains(body, c.want) || !strings.Contains(body, "berth net allow -g work") {
				t.Fatalf("got %d %q, want 403 with %q and how to allow it", code, body, c.want)
			}
			if h.dials.Load() != 0 {
				t.Errorf("the proxy dialled a refused destination")
			}
			if resolved.Load() > 1 {
				t.Errorf("resolved %d times, want at most once", resolved.Load())
			}
			if got := h.kinds(); got != "egress.denied" {
				t.Errorf("events: %q", got)
			}
		})
	}
}

// TestTheCheckedAddressIsDialled: a name is resolved once and the proxy
// dials the IP it checked, never the name again (no DNS rebinding).
func TestTheCheckedAddressIsDialled(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	var lookups atomic.Int32
	h := newHarness(t, []string{fmt.Sprintf("web.test:%d", port), fmt.Sprintf("%s:%d", ip, port)}, func(p *Proxy) {
		p.Resolve = func(context.Context, string) ([]netip.Addr, error) {
			if lookups.Add(1) > 1 {
				return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil // a rebinding answer
			}
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		}
	})
	code, body := get(t, h.client(nil), fmt.Sprintf("http://web.test:%d/x", port))
	if code != 200 || body != "hello /x" {
		t.Fatalf("got %d %q", code, body)
	}
	if lookups.Load() != 1 || len(h.dialed) != 1 || h.dialed[0] != fmt.Sprintf("%s:%d", ip, port) {
		t.Errorf("lookups %d, dialled %v; want one lookup and the checked IP", lookups.Load(), h.dialed)
	}
}

func TestAskOnFirstContact(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	cases := []struct {
		name      string
		answer    func(ctx context.Context) (Answer, error)
		wantCode  int
		wantAsked int // asks over two connections
		want      string
	}{
		{"allow once asks again next time", func(context.Context) (Answer, error) { return AllowOnce, nil }, 200, 2, "hello"},
		{"always adds a rule: asked once", func(context.Context) (Answer, error) { return AllowAlways, nil }, 200, 1, "hello"},
		{"deny", func(context.Context) (Answer, error) { return Deny, nil }, 403, 2, "the user denied it"},
		{"no answer in time", func(ctx context.Context) (Answer, error) { <-ctx.Done(); return Deny, ctx.Err() }, 403, 2, "no answer within 200ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var asked atomic.Int32
			// The IP is named (ports 80 and 443 only), so the server's port is unknown.
			h := newHarness(t, []string{ip}, func(p *Proxy) {
				p.Limits.AskTimeout = 200 * time.Millisecond
				p.Ask = func(ctx context.Context, req Request) (Answer, error) {
					asked.Add(1)
					if req.Host != ip || req.Port != port || req.Group != "work" {
						t.Errorf("asked about %+v", req)
					}
					return c.answer(ctx)
				}
			})
			var code int
			var body string
			for range 2 {
				code, body = get(t, h.client(nil), srv.URL)
			}
			t.Logf("%s: %d %q, asked %d time(s)", c.name, code, strings.TrimSpace(body), asked.Load())
			if code != c.wantCode || !strings.Contains(body, c.want) || int(asked.Load()) != c.wantAsked {
				t.Fatalf("got %d %q asked %d; want %d %q asked %d", code, body, asked.Load(), c.wantCode, c.want, c.wantAsked)
			}
			if !strings.Contains(h.kinds(), "egress.asked egress.answered") {
				t.Errorf("events: %q", h.kinds())
			}
		})
	}
}

func TestGateClosedAndModeNoneDeny(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	rules := []string{fmt.Sprintf("%s:%d", ip, port)}
	h := newHarness(t, rules, func(p *Proxy) { p.Open = func() bool { return false } })
	if code, body := get(t, h.client(nil), srv.URL); code != 403 || !strings.Contains(body, "blocked or paused") {
		t.Errorf("closed gate: %d %q", code, body)
	}
	h = newHarness(t, rules, func(p *Proxy) { p.Policy = func() Policy { return Policy{Group: "work", Mode: ModeNone} } })
	if code, body := get(t, h.client(nil), srv.URL); code != 403 || !strings.Contains(body, "network mode is none") {
		t.Errorf("mode none: %d %q", code, body)
	}
}

func TestFiftyConcurrentConnections(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	h := newHarness(t, []string{fmt.Sprintf("%s:%d", ip, port)}, func(p *Proxy) { p.Limits.MaxConns = 64 })
	var wg sync.WaitGroup
	var ok atomic.Int32
	c := h.client(nil)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := get(t, c, fmt.Sprintf("%s/%d", srv.URL, i)); code == 200 && body == fmt.Sprintf("hello /%d", i) {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("50 concurrent connections: %d answered right", ok.Load())
	if ok.Load() != 50 {
		t.Fatalf("%d of 50", ok.Load())
	}
}

// TestALargeTransferArrivesIntact: 64 MiB through a CONNECT tunnel (the
// sandbox's version, and the 200 MiB benchmark, are in egress_test).
func TestALargeTransferArrivesIntact(t *testing.T) {
	const size = 64 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := sha256.New()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		for i := 0; i < size/len(buf); i++ {
			for j := range buf {
				buf[j] = byte(i*31 + j)
			}
			sent.Write(buf)
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	h := newHarness(t, []string{ln.Addr().String()})
	conn, err := net.Dial("tcp", h.url.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ln.Addr(), ln.Addr())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	got := sha256.New()
	n, err := io.Copy(got, br)
	if err != nil || n != size {
		t.Fatalf("received %d bytes (%v), want %d", n, err, size)
	}
	if fmt.Sprintf("%x", got.Sum(nil)) != fmt.Sprintf("%x", sent.Sum(nil)) {
		t.Fatal("the checksum differs")
	}
	t.Logf("%d MiB through CONNECT: checksum matches", size>>20)
}

func TestMalformedAndOversizedRequests(t *testing.T) {
	h := newHarness(t, []string{"127.0.0.1"}, func(p *Proxy) { p.Limits.HeaderTimeout = 300 * time.Millisecond })
	send := func(h *harness, raw string) string {
		c, err := net.Dial("tcp", h.url.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, raw)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line)
	}
	cases := []struct{ name, raw, want string }{
		{"garbage", "\x16\x03\x01 hello\r\n\r\n", "400"},
		{"origin-form request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
		{"https:// through plain proxying", "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", "400"},
		{"CONNECT without a port", "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", "400"},
		{"oversized headers", "GET http://x/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n", "431"},
		{"headers that never end", "GET http://x/ HTTP/1.1\r\nX-Slow: 1\r\n", "408"},
	}
	for _, c := range cases {
		got := send(h, c.raw)
		t.Logf("%s → %s", c.name, got)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %s", c.name, got, c.want)
		}
	}
	// One connection is allowed: a second one while it is held gets 503.
	h = newHarness(t, []string{"127.0.0.1"}, func(p *Proxy) { p.Limits.MaxConns = 1 })
	held, err := net.Dial("tcp", h.url.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	io.WriteString(held, "GET http://127.0.0.1") // an unfinished request holds the slot
	deadline := time.Now().Add(5 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got = send(h, "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); strings.Contains(got, "503") {
			break
		}
	}
	if !strings.Contains(got, "503") {
		t.Errorf("second connection while one is held: %q, want 503", got)
	}
}

// TestDenyRuleRefusesWithoutAsking: a destination the group denies is
// refused at once, even though an allow rule names it and someone could be
// asked.
func TestDenyRuleRefusesWithoutAsking(t *testing.T) {
	srv := hello()
	defer srv.Close()
	ip, port := serverPort(t, srv)
	var asked atomic.Int32
	deny, err := ParseRule(ip)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, []string{fmt.Sprintf("%s:%d", ip, port)}, func(p *Proxy) {
		p.Ask = func(context.Context, Request) (Answer, error) { asked.Add(1); return AllowOnce, nil }
		allow := p.Policy
		p.Policy = func() Policy { pol := allow(); pol.Deny = []Rule{deny}; return pol }
	})
	code, body := get(t, h.client(nil), srv.URL)
	t.Logf("denied %s: %d %q", srv.URL, code, strings.TrimSpace(body))
	if code != 403 || !strings.Contains(body, "denies") || asked.Load() != 0 || h.dials.Load() != 0 {
		t.Fatalf("got %d %q, asked %d, dialled %d; want 403 saying it is denied, nobody asked, nothing dialled", code, body, asked.Load(), h.dials.Load())
	}
}
