package assistant

import (
	"context"
	"fmt"
	"net"
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

// netState is the runtime's network bookkeeping.
type netState struct {
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

func newNetState() *netState {
	n := &netState{owners: map[string]sandboxOwner{}, proxies: map[string]*sandboxProxy{}, asks: map[string]*netAsk{}}
	n.gate, n.cutGate = context.WithCancel(context.Background())
	return n
}

// gateContext is the context of connections opened now.
func (n *netState) gateContext() context.Context {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.gate
}

// cut ends every connection open now; later ones get a fresh context.
func (n *netState) cut() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cutGate()
	n.gate, n.cutGate = context.WithCancel(context.Background())
}

// startEgress makes this runtime the handler of the engine's sandbox
// connections; stopEgress refuses them again.
func (r *Runtime) startEgress() {
	if es, ok := r.svc.Engine.(egressServer); ok {
		es.ServeEgress(r.ServeEgress)
	}
}

func (r *Runtime) stopEgress() {
	if es, ok := r.svc.Engine.(egressServer); ok {
		es.ServeEgress(nil)
	}
	r.net.cut()
}

// ServeEgress serves one connection a process in a sandbox opened to the
// helper's proxy (a docker.EgressHandler). It owns conn.
func (r *Runtime) ServeEgress(ctx context.Context, sandboxID string, conn net.Conn) {
	defer conn.Close()
	// Taken before the proxy checks the gate: a gate that closes after the
	// check cuts this connection.
	gctx := r.net.gateContext()
	owner, err := r.sandboxOwner(ctx, sandboxID)
	if err != nil {
		_ = r.svc.record(context.WithoutCancel(ctx), store.Event{Kind: egress.KindDenied,
			Summary: "refused a connection from an unknown sandbox: " + err.Error(), Detail: mustJSON(map[string]any{"sandbox": sandboxID, "reason": err.Error()})})
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(gctx, cancel)()
	p := r.proxyFor(sandboxID, owner)
	defer r.releaseProxy(sandboxID)
	p.Serve(cctx, conn)
}

// sandboxOwner finds which group and session a sandbox of this
// installation belongs to.
func (r *Runtime) sandboxOwner(ctx context.Context, id string) (sandboxOwner, error) {
	r.net.mu.Lock()
	o, ok := r.net.owners[id]
	r.net.mu.Unlock()
	if ok {
		return o, nil
	}
	list, err := r.svc.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: r.svc.Paths.InstallID()})
	if err != nil {
		return o, fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range list {
		if sb.ID == id {
			o = sandboxOwner{group: sb.Group, session: sb.Session}
			r.net.mu.Lock()
			r.net.owners[id] = o
			r.net.mu.Unlock()
			return o, nil
		}
	}
	return o, fmt.Errorf("sandbox %.12s is not one of this Berth's", id)
}

// proxyFor is the sandbox's proxy, made on its first open connection.
func (r *Runtime) proxyFor(id string, o sandboxOwner) *egress.Proxy {
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	sp, ok := r.net.proxies[id]
	if !ok {
		sp = &sandboxProxy{p: r.newProxy(o)}
		r.net.proxies[id] = sp
	}
	sp.n++
	return sp.p
}

func (r *Runtime) releaseProxy(id string) {
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	if sp := r.net.proxies[id]; sp != nil {
		if sp.n--; sp.n <= 0 {
			delete(r.net.proxies, id)
		}
	}
}

// newProxy is a proxy for one sandbox of a group's session.
func (r *Runtime) newProxy(o sandboxOwner) *egress.Proxy {
	return &egress.Proxy{
		Policy:  func() egress.Policy { return r.svc.netPolicy(r.root, o.group) },
		Session: o.session,
		Open:    func() bool { return r.Gate().Open },
		Ask:     r.askNet,
		Allow: func(rule egress.Rule) error {
			_, err := r.svc.NetAllow(r.root, o.group, "", []string{rule.String()})
			return err
		},
		Record:  r.recordNet,
		Resolve: r.cfg.NetResolve,
		Limits:  r.cfg.NetLimits,
	}
}

// recordNet writes one proxy event to the audit log.
func (r *Runtime) recordNet(ev egress.Event) {
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
	_ = r.svc.record(context.WithoutCancel(r.root), store.Event{Group: ev.Group, Session: ev.Session, Kind: ev.Kind, Actor: actor, Summary: summary,
		Detail: mustJSON(map[string]any{"host": ev.Host, "port": ev.Port, "addr": ev.Addr, "rule": ev.Rule, "reason": ev.Reason,
			"bytes_up": ev.Up, "bytes_down": ev.Down, "duration_ms": ev.Duration.Milliseconds()})})
}

func hostPortKey(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
