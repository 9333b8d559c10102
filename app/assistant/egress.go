package assistant

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// The runtime's side of a sandbox's network (allowlist mode): the engine
// hands it each connection a sandbox opened to its helper's proxy; the
// runtime finds the sandbox's group and session and lets an egress.Proxy
// decide with the group's rules as they are now, the gate, and the user
// (asked through the faces, see egress_ask.go). Every decision and every
// connection's end goes into the audit log. A closing gate cuts the
// connections that are open.

// egressServer is the part of docker.Client that hands over the
// sandboxes' connections; optional, so that fakes need not implement it.
type egressServer interface {
	ServeEgress(h docker.EgressHandler)
}

var _ egressServer = (*docker.Client)(nil)

// netServer serves the sandboxes' connections for a runtime (which asks
// the faces) or for one command without a runtime (`berth exec`: rules
// only, nobody is asked).
type netServer struct {
	svc     *Service
	ctx     context.Context // policy reads and audit records
	open    func() bool     // the gate
	ask     func(ctx context.Context, req egress.Request) (egress.Answer, error)
	limits  egress.Limits
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)

	mu      sync.Mutex
	owners  map[string]sandboxOwner // sandbox id → its group and session
	proxies map[string]*sandboxProxy
	asks    map[string]*netAsk // pending questions by id
	seq     int
	// gate ends when the gate closes: connections opened under it are cut.
	gate    context.Context
	cutGate context.CancelFunc
}

type sandboxOwner struct{ group, session string }

// sandboxProxy is one sandbox's proxy (its connection limit counts there)
// and how many of its connections are open.
type sandboxProxy struct {
	p *egress.Proxy
	n int
}

func newNetServer(svc *Service) *netServer {
	n := &netServer{svc: svc, ctx: context.Background(), owners: map[string]sandboxOwner{}, proxies: map[string]*sandboxProxy{}, asks: map[string]*netAsk{}}
	n.gate, n.cutGate = context.WithCancel(context.Background())
	return n
}

// gateContext is the context of connections opened now.
func (n *netServer) gateContext() context.Context {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gate
}

// cut ends every connection open now; later ones get a fresh context.
func (n *netServer) cut() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cutGate()
	n.gate, n.cutGate = context.WithCancel(context.Background())
}

// start makes n the handler of the engine's sandbox connections; stop
// refuses them again and cuts those that are open.
func (n *netServer) start() {
	if es, ok := n.svc.Engine.(egressServer); ok {
		es.ServeEgress(n.serve)
	}
}

func (n *netServer) stop() {
	if es, ok := n.svc.Engine.(egressServer); ok {
		es.ServeEgress(nil)
	}
	n.cut()
}

// ServeEgress makes the sandboxes' connections follow their groups' rules
// while a command runs without a runtime (`berth exec`): a destination no
// rule covers is refused (nobody is there to ask), and a closed gate
// refuses all. Call stop when the command ends.
func (s *Service) ServeEgress(ctx context.Context) (stop func()) {
	n := newNetServer(s)
	n.ctx = context.WithoutCancel(ctx)
	n.open = func() bool { st, err := s.gate().Check(n.ctx); return err == nil && st.Open }
	n.start()
	return n.stop
}

// ServeEgress serves one connection a process in a sandbox opened to the
// helper's proxy (a docker.EgressHandler). It owns conn.
func (r *Runtime) ServeEgress(ctx context.Context, sandboxID string, conn net.Conn) {
	r.net.serve(ctx, sandboxID, conn)
}

func (n *netServer) serve(ctx context.Context, sandboxID string, conn net.Conn) {
	defer conn.Close()
	// Taken before the proxy checks the gate: a gate that closes after the
	// check cuts this connection.
	gctx := n.gateContext()
	owner, err := n.sandboxOwner(ctx, sandboxID)
	if err != nil {
		_ = n.svc.record(context.WithoutCancel(ctx), store.Event{Kind: egress.KindDenied,
			Summary: "refused a connection from an unknown sandbox: " + err.Error(), Detail: mustJSON(map[string]any{"sandbox": sandboxID, "reason": err.Error()})})
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(gctx, cancel)()
	p := n.proxyFor(sandboxID, owner)
	defer n.releaseProxy(sandboxID)
	p.Serve(cctx, conn)
}

// sandboxOwner finds which group and session a sandbox of this
// installation belongs to.
func (n *netServer) sandboxOwner(ctx context.Context, id string) (sandboxOwner, error) {
	n.mu.Lock()
	o, ok := n.owners[id]
	n.mu.Unlock()
	if ok {
		return o, nil
	}
	list, err := n.svc.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: n.svc.Paths.InstallID()})
	if err != nil {
		return o, fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range list {
		if sb.ID == id {
			o = sandboxOwner{group: sb.Group, session: sb.Session}
			n.mu.Lock()
			n.owners[id] = o
			n.mu.Unlock()
			return o, nil
		}
	}
	return o, fmt.Errorf("sandbox %.12s is not one of this Berth's", id)
}

// proxyFor is the sandbox's proxy, made on its first open connection.
func (n *netServer) proxyFor(id string, o sandboxOwner) *egress.Proxy {
	n.mu.Lock()
	defer n.mu.Unlock()
	sp, ok := n.proxies[id]
	if !ok {
		sp = &sandboxProxy{p: n.newProxy(o)}
		n.proxies[id] = sp
	}
	sp.n++
	return sp.p
}

func (n *netServer) releaseProxy(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if sp := n.proxies[id]; sp != nil {
		if sp.n--; sp.n <= 0 {
			delete(n.proxies, id)
		}
	}
}

// newProxy is a proxy for one sandbox of a group's session.
func (n *netServer) newProxy(o sandboxOwner) *egress.Proxy {
	return &egress.Proxy{
		Policy:  func() egress.Policy { return n.svc.netPolicy(n.ctx, o.group) },
		Session: o.session,
		Open:    n.open,
		Ask:     n.ask,
		Allow: func(rule egress.Rule) error {
			_, err := n.svc.NetAllow(n.ctx, o.group, "", []string{rule.String()})
			return err
		},
		Record:  n.record,
		Resolve: n.resolve,
		Limits:  n.limits,
	}
}

// recordNet writes one proxy event to the audit log.
func (n *netServer) record(ev egress.Event) {
	dest := hostPortKey(ev.Host, ev.Port)
	var summary string
	actor := store.ActorSystem
	switch ev.Kind {
	case egress.KindAllowed:
		summary = fmt.Sprintf("allowed %s → %s (%s)", dest, ev.Addr, ev.Rule)
	case egress.KindDenied:
		summary = fmt.Sprintf("denied %s: %s", dest, ev.Reason)
	case egress.KindAsked:
		summary = "asked the user about " + dest
	case egress.KindAnswered:
		summary = fmt.Sprintf("answer for %s: %s", dest, ev.Reason)
		switch ev.Reason {
		case egress.AllowOnce.String(), egress.AllowAlways.String(), egress.DeniedByUser:
			actor = store.ActorUser
		}
	case egress.KindClosed:
		summary = fmt.Sprintf("closed %s after %s: %d B up, %d B down", dest, ev.Duration.Round(1e6), ev.Up, ev.Down)
	default:
		summary = ev.Kind + " " + dest
	}
	_ = n.svc.record(context.WithoutCancel(n.ctx), store.Event{Group: ev.Group, Session: ev.Session, Kind: ev.Kind, Actor: actor, Summary: summary,
		Detail: mustJSON(map[string]any{"host": ev.Host, "port": ev.Port, "addr": ev.Addr, "rule": ev.Rule, "reason": ev.Reason,
			"bytes_up": ev.Up, "bytes_down": ev.Down, "duration_ms": ev.Duration.Milliseconds()})})
}

func hostPortKey(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
