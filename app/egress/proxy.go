package egress

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Answer is the user's word on a destination no rule covers.
type Answer int

// The answers.
const (
	Deny        Answer = iota
	AllowOnce          // this connection
	AllowAlways        // and from now on: a rule is added to the group
)

func (a Answer) String() string {
	switch a {
	case AllowOnce:
		return "allow once"
	case AllowAlways:
		return "allow always"
	}
	return "deny"
}

// DeniedByUser is the reason of a destination the user was asked about
// and denied.
const DeniedByUser = "the user denied it"

// Request is a destination a sandbox asked for.
type Request struct {
	Group, Session string
	Host           string
	Port           int
	Method         string // CONNECT, or the HTTP method of a plain-HTTP request
}

// Audit event kinds; KindPrefix selects them all (store.Filter.Kind).
const (
	KindPrefix   = "egress"
	KindAllowed  = "egress.allowed"
	KindDenied   = "egress.denied"
	KindAsked    = "egress.asked"
	KindAnswered = "egress.answered"
	KindClosed   = "egress.closed"
)

// Event is one decision or one finished connection, for the audit log.
type Event struct {
	Kind           string
	Group, Session string
	Host           string
	Port           int
	Addr           string // the address dialled (or refused)
	Rule           string // the rule that matched, "" when none did
	Reason         string // why it was denied, or how the user answered
	Up, Down       int64  // bytes sent by the sandbox, and to it (KindClosed)
	Duration       time.Duration
}

// Limits bound what one sandbox can make the proxy do.
type Limits struct {
	MaxHeader     int           // bytes of request line and headers (default 16 KiB)
	HeaderTimeout time.Duration // to send them (default 10 s): slow clients are cut
	MaxConns      int           // connections at once (default 32)
	Idle          time.Duration // a connection with no bytes either way ends (default 5 min)
	Total         time.Duration // any connection ends (default 1 h)
	AskTimeout    time.Duration // how long an unknown destination waits for the user (default 60 s)
	DialTimeout   time.Duration // resolve and connect (default 10 s)
}

func (l Limits) withDefaults() Limits {
	l.MaxHeader = cmp.Or(l.MaxHeader, 16<<10)
	l.HeaderTimeout = cmp.Or(l.HeaderTimeout, 10*time.Second)
	l.MaxConns = cmp.Or(l.MaxConns, 32)
	l.Idle = cmp.Or(l.Idle, 5*time.Minute)
	l.Total = cmp.Or(l.Total, time.Hour)
	l.AskTimeout = cmp.Or(l.AskTimeout, 60*time.Second)
	l.DialTimeout = cmp.Or(l.DialTimeout, 10*time.Second)
	return l
}

// Proxy serves the connections of one sandbox's in-sandbox proxy.
type Proxy struct {
	// Policy is the group's policy, read for every connection so that a
	// change applies to the next one.
	Policy  func() Policy
	Session string
	// Open reports whether the gate is open; a closed gate (or a paused
	// assistant) denies. nil: open.
	Open func() bool
	// Ask asks the user about a destination no rule covers; nil denies.
	Ask func(ctx context.Context, req Request) (Answer, error)
	// Allow stores an "allow always" answer as a rule of the group.
	Allow func(Rule) error
	// Record audits; nil records nothing.
	Record func(Event)
	// Resolve and Dial default to the host's resolver and dialer.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	Dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	Limits  Limits

	conns atomic.Int32
}

// refusal is an HTTP answer the proxy gives instead of a connection.
type refusal struct {
	code   int
	reason string
}

func (r *refusal) Error() string { return r.reason }

func refuse(code int, format string, a ...any) *refusal {
	return &refusal{code: code, reason: fmt.Sprintf(format, a...)}
}

// Serve handles one connection from the sandbox until it ends.
func (p *Proxy) Serve(ctx context.Context, client net.Conn) {
	defer client.Close()
	lim := p.Limits.withDefaults()
	if int(p.conns.Add(1)) > lim.MaxConns {
		p.conns.Add(-1)
		writeRefusal(client, refuse(http.StatusServiceUnavailable, "this sandbox has %d connections open, the most allowed", lim.MaxConns), p.group(), "")
		return
	}
	defer p.conns.Add(-1)

	_ = client.SetReadDeadline(time.Now().Add(lim.HeaderTimeout))
	lr := &io.LimitedReader{R: client, N: int64(lim.MaxHeader)}
	br := bufio.NewReader(lr)
	req, err := http.ReadRequest(br)
	if err != nil {
		var nerr net.Error
		switch {
		case lr.N <= 0:
			writeRefusal(client, refuse(http.StatusRequestHeaderFieldsTooLarge, "the request's headers are longer than %d bytes", lim.MaxHeader), p.group(), "")
		case errors.As(err, &nerr) && nerr.Timeout():
			writeRefusal(client, refuse(http.StatusRequestTimeout, "the request's headers did not arrive within %s", lim.HeaderTimeout), p.group(), "")
		case !errors.Is(err, io.EOF):
			writeRefusal(client, refuse(http.StatusBadRequest, "not an HTTP proxy request: %v", err), p.group(), "")
		}
		return
	}
	lr.N = 1 << 62 // the headers fit; a body may follow
	_ = client.SetReadDeadline(time.Time{})

	host, port, rerr := target(req)
	if rerr != nil {
		writeRefusal(client, rerr, p.group(), "")
		return
	}
	dest := Request{Group: p.group(), Session: p.Session, Host: host, Port: port, Method: req.Method}
	upstream, ev, rerr := p.connect(ctx, dest, lim)
	if rerr != nil {
		p.record(Event{Kind: KindDenied, Group: dest.Group, Session: dest.Session, Host: host, Port: port, Addr: ev.Addr, Rule: ev.Rule, Reason: rerr.reason})
		writeRefusal(client, rerr, dest.Group, hostPort(host, port))
		return
	}
	defer upstream.Close()
	p.record(ev)

	start := time.Now()
	var up, down int64
	if req.Method == http.MethodConnect {
		if _, err := io.WriteString(client, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
			return
		}
		up, down = pipe(ctx, client, br, upstream, lim)
	} else {
		up, down = forward(ctx, client, req, upstream, lim)
	}
	p.record(Event{Kind: KindClosed, Group: dest.Group, Session: dest.Session, Host: host, Port: port, Addr: ev.Addr, Rule: ev.Rule,
		Up: up, Down: down, Duration: time.Since(start)})
}

func (p *Proxy) group() string {
	if p.Policy == nil {
		return ""
	}
	return p.Policy().Group
}

func (p *Proxy) record(ev Event) {
	if p.Record != nil {
		p.Record(ev)
	}
}

// target is where a proxy request wants to go: CONNECT host:port, or an
// absolute http:// URI.
func target(req *http.Request) (string, int, *refusal) {
	if req.Method == http.MethodConnect {
		host, portText, err := net.SplitHostPort(req.Host)
		if err != nil {
			return "", 0, refuse(http.StatusBadRequest, "CONNECT needs host:port, not %q", req.Host)
		}
		port, err := parsePort(portText)
		if err != nil || host == "" {
			return "", 0, refuse(http.StatusBadRequest, "CONNECT %q: bad host or port", req.Host)
		}
		return strings.ToLower(host), port, nil
	}
	if !req.URL.IsAbs() {
		return "", 0, refuse(http.StatusBadRequest, "this is Berth's proxy: send an absolute http:// URL, or CONNECT for https")
	}
	if req.URL.Scheme != "http" {
		return "", 0, refuse(http.StatusBadRequest, "%s:// through the proxy: use CONNECT (https_proxy) instead", req.URL.Scheme)
	}
	port := 80
	if ps := req.URL.Port(); ps != "" {
		var err error
		if port, err = parsePort(ps); err != nil {
			return "", 0, refuse(http.StatusBadRequest, "bad port in %q", req.URL.Host)
		}
	}
	return strings.ToLower(req.URL.Hostname()), port, nil
}

// connect decides on dest, resolves it once, checks the addresses and dials
// the checked one.
func (p *Proxy) connect(ctx context.Context, dest Request, lim Limits) (net.Conn, Event, *refusal) {
	ev := Event{Kind: KindAllowed, Group: dest.Group, Session: dest.Session, Host: dest.Host, Port: dest.Port}
	if p.Open != nil && !p.Open() {
		return nil, ev, refuse(http.StatusForbidden, "the assistant is blocked or paused")
	}
	pol := Policy{Mode: ModeNone}
	if p.Policy != nil {
		pol = p.Policy()
	}
	if pol.Mode != ModeAllowlist {
		return nil, ev, refuse(http.StatusForbidden, "the group's network mode is %s", pol.Mode)
	}
	if r, denied := pol.Denied(dest.Host, dest.Port); denied {
		ev.Rule = "deny " + r.String()
		return nil, ev, refuse(http.StatusForbidden, "the group denies it (rule %s)", r)
	}
	rule, ok := pol.Match(dest.Host, dest.Port)
	if ok {
		ev.Rule = rule.String()
	} else {
		ans, why := p.ask(ctx, dest, lim)
		if ans == Deny {
			return nil, ev, refuse(http.StatusForbidden, "%s", why)
		}
		ev.Rule = "asked: " + ans.String()
		// What the user allowed counts as a rule for this connection (so an
		// IP they were asked about passes the address check) and, for
		// "always", from now on.
		r := Rule{Host: dest.Host, Port: dest.Port}
		if a, err := netip.ParseAddr(dest.Host); err == nil {
			r = Rule{Prefix: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), Port: dest.Port}
		}
		pol.Rules = append(slices.Clone(pol.Rules), r)
		if ans == AllowAlways && p.Allow != nil {
			if err := p.Allow(r); err != nil {
				ev.Reason = "the rule could not be saved: " + err.Error()
			}
		}
	}
	dctx, cancel := context.WithTimeout(ctx, lim.DialTimeout)
	defer cancel()
	addrs, err := p.resolve(dctx, dest.Host)
	if err != nil {
		return nil, ev, refuse(http.StatusBadGateway, "cannot resolve %s: %v", dest.Host, err)
	}
	if r, denied := pol.Denied(dest.Host, dest.Port, addrs...); denied {
		ev.Addr, ev.Rule = joinAddrs(addrs), "deny "+r.String()
		return nil, ev, refuse(http.StatusForbidden, "the group denies %s (rule %s)", joinAddrs(addrs), r)
	}
	if err := pol.CheckAddrs(addrs, dest.Port); err != nil {
		ev.Addr = joinAddrs(addrs)
		return nil, ev, refuse(http.StatusForbidden, "%v", err)
	}
	var lastErr error
	for _, a := range addrs {
		addr := netip.AddrPortFrom(a, uint16(dest.Port)).String()
		c, err := p.dial(dctx, "tcp", addr)
		if err == nil {
			ev.Addr = addr
			return c, ev, nil
		}
		lastErr = err
	}
	return nil, ev, refuse(http.StatusBadGateway, "cannot connect to %s: %v", hostPort(dest.Host, dest.Port), lastErr)
}

// ask holds the connection while the user answers, for at most AskTimeout.
func (p *Proxy) ask(ctx context.Context, dest Request, lim Limits) (Answer, string) {
	if p.Ask == nil {
		return Deny, "no rule allows it and nobody can be asked"
	}
	p.record(Event{Kind: KindAsked, Group: dest.Group, Session: dest.Session, Host: dest.Host, Port: dest.Port})
	actx, cancel := context.WithTimeout(ctx, lim.AskTimeout)
	defer cancel()
	ans, err := p.Ask(actx, dest)
	why := DeniedByUser
	switch {
	case err != nil && errors.Is(actx.Err(), context.DeadlineExceeded):
		ans, why = Deny, fmt.Sprintf("no answer within %s", lim.AskTimeout)
	case err != nil:
		ans, why = Deny, "not asked: "+err.Error()
	}
	answer := ans.String()
	if ans == Deny {
		answer = why
	}
	p.record(Event{Kind: KindAnswered, Group: dest.Group, Session: dest.Session, Host: dest.Host, Port: dest.Port, Reason: answer})
	return ans, why
}

func (p *Proxy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if p.Resolve != nil {
		return p.Resolve(ctx, host)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.Dial != nil {
		return p.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// writeRefusal answers with the status and a body that says what was
// blocked, for which group, and how to allow it — so that the tool output
// the model sees tells it to ask the user rather than retry.
func writeRefusal(w io.Writer, r *refusal, group, dest string) {
	body := "Berth's network policy: " + r.reason + ".\n"
	if r.code == http.StatusForbidden && dest != "" {
		body = fmt.Sprintf("Berth blocked %s for group %s: %s.\nAsk the user to allow it: berth net allow -g %s %s\n", dest, group, r.reason, group, dest)
	}
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nX-Berth-Blocked: %s\r\nConnection: close\r\n\r\n%s",
		r.code, http.StatusText(r.code), len(body), dest, body)
}
