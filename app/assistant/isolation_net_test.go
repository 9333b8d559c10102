package assistant

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// netAttacker is the allowlist-mode arena: a running Runtime (it serves the
// sandboxes' connections), a group in allowlist mode whose sandbox Berth's
// real code path creates, host listeners (loopback and each interface),
// one of them allowed by an explicit IP rule as the control that the way
// out works, a user who allows every name they are asked about once and
// denies every bare IP, and a DNS that answers the way an attacker's
// would.
type netAttacker struct {
	*arena
	r       *Runtime
	control string // ip:port of an HTTP server the group allows: proves the proxy path works
	bait    string // port of the bait listener on the host's loopback
	lan     string // ip:port of a bait listener on an interface with a special address, "" if none
	mu      sync.Mutex
	asked   []string
}

const attackerGroup = "netattacker"

// attackerDNS answers like a DNS the attacker controls; other names go to
// the host's resolver.
func (n *netAttacker) attackerDNS(ctx context.Context, host string) ([]netip.Addr, error) {
	lanIP := "192.168.1.10"
	if n.lan != "" {
		lanIP, _, _ = net.SplitHostPort(n.lan)
	}
	fake := map[string][]string{
		"lan.attacker.test":      {lanIP},
		"metadata.attacker.test": {"169.254.169.254"},
		"split.attacker.test":    {"1.1.1.1", "127.0.0.1"},
	}
	if ss, ok := fake[host]; ok {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

func newNetAttacker(t *testing.T) *netAttacker {
	t.Helper()
	c := dockertest.Client(t)
	dockertest.WithHelper(t, c)
	svc, _ := newService(t, c)
	n := &netAttacker{arena: &arena{svc: svc}}
	n.listen(t)                                                      // bait: they count what they accept
	_, n.bait, _ = net.SplitHostPort(n.listeners[0].Addr().String()) // 127.0.0.1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "control reached") }))
	t.Cleanup(srv.Close)
	n.control = strings.TrimPrefix(srv.URL, "http://")
	for _, l := range n.listeners[1:] {
		if ap := netip.MustParseAddrPort(l.Addr().String()); egress.Special(ap.Addr()) != "" {
			n.lan = l.Addr().String()
			break
		}
	}
	n.r = startRuntime(t, svc, c, RuntimeConfig{NetLimits: egress.Limits{AskTimeout: 20 * time.Second}, NetResolve: n.attackerDNS})
	events, unsub := n.r.Subscribe()
	t.Cleanup(unsub)
	go func() {
		for ev := range events {
			if ev.Kind != EventNetAsk {
				continue
			}
			ans := egress.AllowOnce
			if _, err := netip.ParseAddr(ev.Net.Host); err == nil {
				ans = egress.Deny
			}
			n.mu.Lock()
			n.asked = append(n.asked, ev.Net.Dest()+" → "+ans.String())
			n.mu.Unlock()
			_ = n.r.AnswerNet(ev.Net.ID, ans)
		}
	}()
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, attackerGroup, "", GroupSettings{Network: string(egress.ModeAllowlist)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetAllow(ctx, attackerGroup, "", []string{n.control, "localhost:" + n.bait, "split.attacker.test:" + n.bait}); err != nil {
		t.Fatal(err)
	}
	waitGateOpen(t, n.r)
	return n
}

// through sends one plain-HTTP proxy request for url from inside the
// sandbox to the helper's proxy port and returns what came back.
func through(url string) string {
	return fmt.Sprintf(`printf 'GET %s HTTP/1.0\r\n\r\n' | nc -w 30 %s %s 2>&1; echo "[nc exit $?]"`, url,
		strings.Split(docker.EgressListen, ":")[0], strings.Split(docker.EgressListen, ":")[1])
}

// TestIsolationAllowlist makes network escape attempts from a sandbox whose
// group is in allowlist mode: the way out exists (the control request to an
// allowed address passes), and the host's loopback, the LAN, the metadata
// address and DNS stay out of reach. Each attempt prints one line, as in
// TestIsolation.
func TestIsolationAllowlist(t *testing.T) {
	t.Parallel()
	n := newNetAttacker(t)
	// The control: without it every refusal below could be a broken path.
	_, out, err := n.sh(attackerGroup, through("http://"+n.control+"/control"), time.Minute)
	if err != nil || !strings.Contains(out, "control reached") {
		t.Fatalf("the control request to the allowed %s did not get through the proxy: %q %v", n.control, clip(out), err)
	}
	fmt.Printf("control: an allowed request to %s went through the proxy and back\n", n.control)
	before := n.accepted.Load()
	for _, at := range []attempt{
		{"allowlist: reach the host's loopback", n.reachLoopback},
		{"allowlist: reach the LAN", n.reachLAN},
		{"allowlist: reach the cloud metadata address", n.reachMetadata},
		{"allowlist: resolve names or reach a DNS server", n.useDNS},
	} {
		t.Run(at.name, func(t *testing.T) {
			v := &verdict{}
			at.try(t, n.arena, v)
			if got := n.accepted.Load(); got != before {
				v.escape("the host listeners accepted %d more connections", got-before)
				before = got
			}
			v.report(t, at.name)
		})
	}
	n.mu.Lock()
	t.Logf("the user was asked: %s", strings.Join(n.asked, "; "))
	n.mu.Unlock()
}

func (n *netAttacker) reachLoopback(t *testing.T, a *arena, v *verdict) {
	port := n.bait
	a.expect(v, attackerGroup, "nc 127.0.0.1 (the sandbox's own loopback)",
		fmt.Sprintf("echo hi | nc -w 2 127.0.0.1 %s 2>&1 && echo %s", port, escMark), "Connection refused")
	// A name the group allows, resolving to loopback on the host.
	a.expect(v, attackerGroup, "GET http://localhost (an allowed name)", through("http://localhost:"+port+"/"), "127.0.0.1 is a loopback address")
	// A name whose DNS gives a public and a loopback address.
	a.expect(v, attackerGroup, "GET a name resolving to public+loopback", through("http://split.attacker.test:"+port+"/"), "both public and private")
	// The host's loopback by IP, which no IP rule names: the user denies it.
	a.expect(v, attackerGroup, "GET http://127.0.0.1 (asked, denied)", through("http://127.0.0.1:"+port+"/"), "the user denied it")
	a.expect(v, attackerGroup, "CONNECT [::1]", fmt.Sprintf(`printf 'CONNECT [::1]:%s HTTP/1.1\r\nHost: x\r\n\r\n' | nc -w 30 127.0.0.1 3128 2>&1`, port), "the user denied it", "loopback address")
}

func (n *netAttacker) reachLAN(t *testing.T, a *arena, v *verdict) {
	if n.lan == "" {
		v.unproven("the host has no interface with a private address to attack")
		return
	}
	host, port, _ := net.SplitHostPort(n.lan)
	a.expect(v, attackerGroup, "nc "+n.lan+" directly", fmt.Sprintf("echo hi | nc -w 2 %s %s 2>&1 && echo %s", host, port, escMark), "Network is unreachable")
	a.expect(v, attackerGroup, "GET http://"+n.lan+" (asked, denied)", through("http://"+n.lan+"/"), "the user denied it")
	// The user allows the name; its address is the LAN's and no rule names it.
	a.expect(v, attackerGroup, "GET a name resolving to the LAN (allowed by the user)", through("http://lan.attacker.test:"+port+"/"), "a rule must name it")
}

func (n *netAttacker) reachMetadata(t *testing.T, a *arena, v *verdict) {
	a.expect(v, attackerGroup, "nc 169.254.169.254 directly", "echo hi | nc -w 2 169.254.169.254 80 2>&1 && echo "+escMark, "Network is unreachable")
	a.expect(v, attackerGroup, "GET http://169.254.169.254 (asked, denied)", through("http://169.254.169.254/latest/meta-data/"), "the user denied it")
	a.expect(v, attackerGroup, "GET a name resolving to the metadata address (allowed by the user)", through("http://metadata.attacker.test/latest/meta-data/"),
		"169.254.169.254 is a link-local (cloud metadata) address")
}

func (n *netAttacker) useDNS(t *testing.T, a *arena, v *verdict) {
	a.expect(v, attackerGroup, "nslookup", "nslookup example.com 2>&1 && echo "+escMark, "Network is unreachable", "Connection refused")
	a.expect(v, attackerGroup, "nc 1.1.1.1:53 directly", "echo hi | nc -w 2 1.1.1.1 53 2>&1 && echo "+escMark, "Network is unreachable")
	a.expect(v, attackerGroup, "CONNECT 1.1.1.1:53 (DNS over the proxy, asked, denied)",
		`printf 'CONNECT 1.1.1.1:53 HTTP/1.1\r\nHost: x\r\n\r\n' | nc -w 30 127.0.0.1 3128 2>&1`, "the user denied it")
	_, out, err := a.sh(attackerGroup, "ls /sys/class/net; echo routes=$(cat /proc/net/route | wc -l)", 0)
	f := strings.Fields(out)
	switch {
	case err != nil || len(f) == 0:
		v.unproven("interfaces: %q %v", out, err)
	case f[0] != "lo" || len(f) != 2 || !strings.Contains(out, "routes=1"):
		v.escape("allowlist mode has an interface or route besides lo: %q", clip(out))
	default:
		v.block("/sys/class/net has only lo, no routes: names are resolved on the host, by the proxy, once")
	}
}
