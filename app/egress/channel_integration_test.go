// busybox's TLS client (the test image's) sends no signature_algorithms
// extension, and Go's TLS server then refuses its SHA-1 fallback unless
// told otherwise; the TLS test is about the tunnel, not the cipher.
//go:debug tlssha1=1

package egress_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// sandboxNet is a real sandbox with egress whose connections a real
// egress.Proxy serves on the host, and a second client on the same engine
// that uses docker exec only (the way in that the helper cannot see).
type sandboxNet struct {
	t     *testing.T
	c     *docker.Client
	side  *docker.Client
	sb    docker.Sandbox
	proxy *egress.Proxy
	mu    sync.Mutex
	evs   []egress.Event
}

func installation(t *testing.T) string {
	return "t" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
}

// newSandboxNet starts a sandbox (with egress if egressOn) whose group
// allows rules; configure changes the proxy before any connection, and
// client changes the client before the sandbox is made.
func newSandboxNet(t *testing.T, egressOn bool, rules []string, configure func(*egress.Proxy), client ...func(*docker.Client) *docker.Client) *sandboxNet {
	return newSandboxNetMem(t, 128<<20, egressOn, rules, configure, client...)
}

// newSandboxNetMem is newSandboxNet with a sandbox of memory bytes.
func newSandboxNetMem(t *testing.T, memory int64, egressOn bool, rules []string, configure func(*egress.Proxy), client ...func(*docker.Client) *docker.Client) *sandboxNet {
	t.Helper()
	n := &sandboxNet{t: t, c: dockertest.Client(t)}
	for _, f := range client {
		f(n.c)
	}
	pol := egress.Policy{Group: "work", Mode: egress.ModeAllowlist}
	for _, s := range rules {
		r, err := egress.ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		pol.Rules = append(pol.Rules, r)
	}
	n.proxy = &egress.Proxy{Policy: func() egress.Policy { return pol }, Session: "s1",
		Record: func(ev egress.Event) { n.mu.Lock(); n.evs = append(n.evs, ev); n.mu.Unlock() }}
	if configure != nil {
		configure(n.proxy)
	}
	var id string
	var idMu sync.Mutex
	n.c.ServeEgress(func(ctx context.Context, sandboxID string, conn net.Conn) {
		idMu.Lock()
		ok := sandboxID == id
		idMu.Unlock()
		if !ok {
			conn.Close()
			return
		}
		n.proxy.Serve(ctx, conn)
	})
	spec := docker.Spec{Image: dockertest.TestImage, InstallationID: installation(t), Group: "work", Session: "s1", Egress: egressOn,
		Mounts: []docker.Mount{{Host: tempDir(t), Container: docker.GroupDir}},
		Memory: memory, Pids: 256, TmpSize: 16 << 20, MaxAge: 10 * time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	idMu.Lock()
	sb, err := n.c.CreateSandbox(ctx, spec)
	id = sb.ID
	idMu.Unlock()
	if err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	n.sb = sb
	t.Cleanup(func() { _ = n.c.RemoveSandbox(context.Background(), sb.ID) })
	side, err := docker.NewAt(n.c.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { side.Close() })
	n.side = dockertest.WithoutHelper(side)
	return n
}

func tempDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil { // the sandbox runs as nobody under root
		t.Fatal(err)
	}
	return dir
}

// sh runs a shell command in the sandbox through c (the helper).
func (n *sandboxNet) sh(c *docker.Client, script string) (int, string, string) {
	n.t.Helper()
	res, err := c.Exec(context.Background(), n.sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", script}, Timeout: 2 * time.Minute})
	if err != nil {
		n.t.Fatalf("exec %q: %v", script, err)
	}
	return res.ExitCode, res.Stdout.String(), res.Stderr.String()
}

// raw sends req to the helper's proxy port with busybox nc and returns
// what came back; hold keeps nc's sending side open that many seconds.
func (n *sandboxNet) raw(req string, hold ...int) string {
	n.t.Helper()
	res, err := n.c.Exec(context.Background(), n.sb.ID, docker.ExecRequest{
		Argv: []string{"sh", "-c", `{ printf '%s' "$1"; sleep "$2"; } | nc 127.0.0.1 3128 2>&1`, "sh", req, strconv.Itoa(append(hold, 0)[0])}, Timeout: time.Minute})
	if err != nil {
		n.t.Fatal(err)
	}
	return res.Stdout.String()
}

func (n *sandboxNet) kinds() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ks []string
	for _, e := range n.evs {
		ks = append(ks, e.Kind)
	}
	return strings.Join(ks, " ")
}

func hostServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "http://")
}

func helloHandler(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s", r.URL.Path) }

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return strings.TrimSpace(l) }

// TestSandboxHTTPThroughTheProxy: busybox wget in a real sandbox reaches a
// loopback server on the host through the helper and app/egress.Proxy,
// allowed by an explicit IP rule, and is refused for another port.
func TestSandboxHTTPThroughTheProxy(t *testing.T) {
	t.Parallel()
	_, addr := hostServer(t, helloHandler)
	_, other := hostServer(t, helloHandler)
	n := newSandboxNet(t, true, []string{addr}, nil)
	path, why := n.c.ExecPath(context.Background(), n.sb.ID)
	if path != docker.PathHelper || !strings.Contains(why, docker.EgressListen) {
		t.Fatalf("exec path %s (%s), want the helper listening on %s", path, why, docker.EgressListen)
	}
	_, env, _ := n.sh(n.c, "env | grep -i _proxy= | sort")
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		if !strings.Contains(env, k+"="+docker.EgressProxyURL+"\n") {
			t.Errorf("%s not set to %s: %q", k, docker.EgressProxyURL, env)
		}
	}
	if !strings.Contains(env, "NO_PROXY=localhost,127.0.0.1") || !strings.Contains(env, "no_proxy=localhost,127.0.0.1") {
		t.Errorf("NO_PROXY: %q", env)
	}
	code, out, errs := n.sh(n.c, "wget -q -O - http://"+addr+"/page")
	t.Logf("wget http://%s/page in the sandbox, rule %s → exit %d %q", addr, addr, code, out)
	if code != 0 || out != "hello /page" {
		t.Fatalf("got %d %q %q", code, out, errs)
	}
	code, _, errs = n.sh(n.c, "wget -q -O - http://"+other+"/page")
	body := n.raw("GET http://" + other + "/page HTTP/1.1\r\nHost: " + other + "\r\n\r\n")
	t.Logf("attack: wget http://%s (no rule) → exit %d %q; the body says %q", other, code, strings.TrimSpace(errs), body[strings.Index(body, "Berth blocked"):])
	if code == 0 || !strings.Contains(errs, "403") || !strings.Contains(body, "Berth blocked "+other+" for group work") {
		t.Fatalf("got %d %q, body %q", code, errs, body)
	}
}

// TestSandboxNamesResolvingToTheHostAreRefused: a rule for a name does not
// let it reach the host's loopback or the metadata address.
func TestSandboxNamesResolvingToTheHostAreRefused(t *testing.T) {
	t.Parallel()
	var dials sync.Map
	_, addr := hostServer(t, func(w http.ResponseWriter, r *http.Request) { dials.Store(r.URL.Path, true); helloHandler(w, r) })
	_, port, _ := net.SplitHostPort(addr)
	n := newSandboxNet(t, true, []string{"web.test:" + port, "metadata.test"}, func(p *egress.Proxy) {
		p.Resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
			return map[string][]netip.Addr{"web.test": {netip.MustParseAddr("127.0.0.1")},
				"metadata.test": {netip.MustParseAddr("169.254.169.254")}}[host], nil
		}
	})
	for _, c := range []struct{ url, want string }{
		{"http://web.test:" + port + "/x", "127.0.0.1 is a loopback address"},
		{"http://metadata.test/latest/meta-data/", "link-local (cloud metadata)"},
	} {
		code, _, errs := n.sh(n.c, "wget -q -O - "+c.url)
		body := n.raw("GET " + c.url + " HTTP/1.1\r\nHost: x\r\n\r\n")
		t.Logf("attack: wget %s (a name with a rule, resolving to the host) → exit %d %q: %q", c.url, code, strings.TrimSpace(errs), firstLine(body[strings.Index(body, "Berth blocked"):]))
		if code == 0 || !strings.Contains(body, "403 Forbidden") || !strings.Contains(body, c.want) {
			t.Errorf("got %d, body %q; want 403 with %q", code, body, c.want)
		}
	}
	if _, ok := dials.Load("/x"); ok {
		t.Error("the host's server was reached")
	}
}

// TestSandboxCONNECT: a tunnel to a TLS server (self-signed, allowed by IP
// rule) works end to end with busybox's own TLS client and no
// interception; a CONNECT to a port no rule names is refused.
func TestSandboxCONNECT(t *testing.T) {
	t.Parallel()
	var sawTLS sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawTLS.Store(r.URL.Path, r.TLS != nil)
		fmt.Fprintf(w, "tls hello %s", r.URL.Path)
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	_, port, _ := net.SplitHostPort(addr)
	n := newSandboxNet(t, true, []string{addr}, nil)
	// nc -e hands the proxy connection to a shell as fds 0 and 1: it sends
	// the CONNECT, reads the answer, then ssl_client speaks TLS over it.
	inner := `exec 3<&0; printf 'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$1" "$1"; read -r st; read -r bl; echo "$st" > /tmp/connect.out
printf 'GET /tunnel HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' | ssl_client -s 3 -n 127.0.0.1 > /tmp/tls.out`
	res, err := n.c.Exec(context.Background(), n.sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c",
		`nc 127.0.0.1 3128 -e sh -c "$1" sh "$2"; cat /tmp/connect.out /tmp/tls.out`, "sh", inner, addr}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Stdout.String()
	tls, _ := sawTLS.Load("/tunnel")
	t.Logf("CONNECT %s, then TLS inside the tunnel → %q … %q (server saw TLS: %v)", addr, firstLine(out), out[strings.LastIndex(out, "\n")+1:], tls)
	if !strings.HasPrefix(out, "HTTP/1.1 200 Connection Established") || !strings.Contains(out, "HTTP/1.0 200 OK") ||
		!strings.HasSuffix(out, "tls hello /tunnel") || tls != true {
		t.Fatalf("got %q %q", out, res.Stderr)
	}
	p, _ := strconv.Atoi(port)
	wrong := fmt.Sprintf("127.0.0.1:%d", p+1)
	body := n.raw("CONNECT " + wrong + " HTTP/1.1\r\nHost: " + wrong + "\r\n\r\n")
	t.Logf("attack: CONNECT %s (the allowed IP, another port) → %q", wrong, firstLine(body[strings.Index(body, "Berth blocked"):]))
	if !strings.HasPrefix(body, "HTTP/1.1 403 Forbidden") || !strings.Contains(body, "Berth blocked "+wrong) {
		t.Fatalf("got %q", body)
	}
}

// TestSandboxMalformedProxyRequests: garbage, oversized and slow requests
// from inside get a clear answer, and the channel stays up.
func TestSandboxMalformedProxyRequests(t *testing.T) {
	t.Parallel()
	_, addr := hostServer(t, helloHandler)
	n := newSandboxNet(t, true, []string{addr}, func(p *egress.Proxy) { p.Limits.HeaderTimeout = time.Second })
	for _, c := range []struct {
		name, req, want string
		hold            int
	}{
		{"binary garbage", "\x16\x03\x01\x02\xa5\x01\x02\x02\xa1\x03\x03\r\n\r\n", "400 Bad Request", 0},
		{"an origin-form request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request", 0},
		{"https:// without CONNECT", "GET https://" + addr + "/ HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request", 0},
		{"CONNECT without a port", "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", "400 Bad Request", 0},
		{"20 KB of headers", "GET http://" + addr + "/ HTTP/1.1\r\nX-Big: " + strings.Repeat("a", 20<<10) + "\r\n\r\n", "431 Request Header Fields Too Large", 0},
		{"headers that never end", "GET http://" + addr + "/ HTTP/1.1\r\nX-Slow: 1\r\n", "408 Request Timeout", 3},
	} {
		got := firstLine(n.raw(c.req, c.hold))
		t.Logf("attack: %s from inside → %q", c.name, got)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %s", c.name, got, c.want)
		}
	}
	if code, out, _ := n.sh(n.c, "wget -q -O - http://"+addr+"/after"); code != 0 || out != "hello /after" {
		t.Errorf("after the attacks: %d %q", code, out)
	}
}

// TestSandboxWithoutEgressHasNoListener: a sandbox made without Egress has
// nothing on the proxy port and no proxy environment.
func TestSandboxWithoutEgressHasNoListener(t *testing.T) {
	t.Parallel()
	n := newSandboxNet(t, false, nil, nil)
	if path, why := n.c.AwaitHelper(context.Background(), n.sb.ID); path != docker.PathHelper || strings.Contains(why, "egress") {
		t.Fatalf("exec path %s (%s)", path, why)
	}
	_, out, _ := n.sh(n.c, "nc 127.0.0.1 3128 </dev/null 2>&1; echo rc=$?; env | grep -ci proxy")
	t.Logf("attack: connect to %s in a sandbox without egress → %q", docker.EgressListen, strings.ReplaceAll(strings.TrimSpace(out), "\n", "; "))
	if !strings.Contains(out, "Connection refused") || !strings.HasSuffix(out, "\n0\n") {
		t.Fatalf("got %q", out)
	}
}
