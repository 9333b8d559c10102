package egress_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestSandboxFiftyConcurrentConnections: 50 wgets at once; the server holds
// every answer until all 50 requests are in, so they are really concurrent.
func TestSandboxFiftyConcurrentConnections(t *testing.T) {
	t.Parallel()
	const conns = 50
	var inFlight, most atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	_, addr := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n := inFlight.Add(1); n > most.Load() {
			most.Store(n)
		}
		if most.Load() >= conns {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(60 * time.Second): // a failure, shown below
		}
		inFlight.Add(-1)
		helloHandler(w, r)
	})
	n := newSandboxNet(t, true, []string{addr}, func(p *egress.Proxy) { p.Limits.MaxConns = 64 })
	_, out, errs := n.sh(n.c, fmt.Sprintf(`i=0; while [ $i -lt %d ]; do wget -q -O /tmp/o$i http://%s/$i & i=$((i+1)); done; wait
i=0; while [ $i -lt %d ]; do [ "$(cat /tmp/o$i)" = "hello /$i" ] && echo ok; i=$((i+1)); done`, conns, addr, conns))
	ok := strings.Count(out, "ok")
	t.Logf("%d concurrent wgets in one sandbox: %d answered right, %d in flight at once at the server", conns, ok, most.Load())
	if ok != conns || most.Load() != conns {
		t.Fatalf("%d right, %d at once; stderr %q", ok, most.Load(), errs)
	}
}

// bigSize is the size of the benchmark's download (`yes berth | head -c N`
// on both sides).
const bigSize = 200 << 20

// Tests move intactSize: more than the memory of the sandbox they move it
// through (intactMemory), so that nothing can hold it whole, and two fifths of
// the benchmark's figure, because under the race detector each byte costs.
const intactSize, intactMemory = 80 << 20, 64 << 20

func bigSum(size int) string {
	h := sha256.New()
	line := []byte("berth\n")
	buf := make([]byte, 0, 1<<20)
	for len(buf)+len(line) <= cap(buf) {
		buf = append(buf, line...)
	}
	left := size
	for left > 0 {
		// The pattern repeats every 6 bytes; 1 MiB chunks are cut at a
		// multiple of 6 so that the stream stays the same.
		k := min(left, len(buf))
		h.Write(buf[:k])
		left -= k
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestSandboxLargeTransfersArriveIntact: 80 MiB down (wget through
// plain-HTTP proxying) and 80 MiB up (nc through a CONNECT tunnel), each
// checked with sha256 inside against the host's, through a sandbox of 64 MiB.
func TestSandboxLargeTransfersArriveIntact(t *testing.T) {
	t.Parallel()
	const size = intactSize
	want := bigSum(size)
	_, addr := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		line := []byte(strings.Repeat("berth\n", (1<<20)/6))
		for left := size; left > 0; left -= len(line) {
			if _, err := w.Write(line[:min(left, len(line))]); err != nil {
				return
			}
		}
	})
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	upSum := make(chan string, 1)
	go func() {
		c, err := sink.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		h := sha256.New()
		n, _ := io.CopyN(h, c, size)
		sum := hex.EncodeToString(h.Sum(nil))
		upSum <- fmt.Sprintf("%d %s", n, sum)
		fmt.Fprintf(c, "got %d %s\n", n, sum)
	}()
	n := newSandboxNetMem(t, intactMemory, true, []string{addr, sink.Addr().String()}, nil)
	start := time.Now()
	_, out, errs := n.sh(n.c, "wget -q -O - http://"+addr+"/big | sha256sum")
	down := strings.Fields(out)
	t.Logf("%d MiB down through the proxy in %s: sha256 inside %s, host %s", size>>20, time.Since(start).Round(time.Millisecond), first(down), want)
	if first(down) != want {
		t.Fatalf("down: got %q %q, want %s", out, errs, want)
	}
	start = time.Now()
	_, out, errs = n.sh(n.c, fmt.Sprintf(`{ printf 'CONNECT %s HTTP/1.1\r\n\r\n'; yes berth | head -c %d; } | nc 127.0.0.1 3128 | tail -1; yes berth | head -c %d | sha256sum`,
		sink.Addr(), size, size))
	var host string
	select {
	case host = <-upSum:
	case <-time.After(time.Minute):
	}
	t.Logf("%d MiB up through a CONNECT tunnel in %s: the host received %q, inside %q", size>>20, time.Since(start).Round(time.Millisecond), host, strings.TrimSpace(out))
	if host != fmt.Sprintf("%d %s", size, want) || !strings.Contains(out, "got "+host) {
		t.Fatalf("up: host %q, sandbox %q %q", host, out, errs)
	}
}

func first(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// TestSandboxHelperKilledMidConnection: the helper, whose channel carries
// an open tunnel, is killed from inside. The sandbox's client sees its
// connection end, the host's upstream sees it end, the proxy finishes it;
// the next call gets a fresh helper and the network back.
func TestSandboxHelperKilledMidConnection(t *testing.T) {
	t.Parallel()
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	accepted, ended := make(chan struct{}), make(chan error, 1)
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintln(c, "banner")
		close(accepted)
		_, err = io.Copy(io.Discard, c)
		ended <- err
	}()
	_, addr := hostServer(t, helloHandler)
	n := newSandboxNet(t, true, []string{up.Addr().String(), addr}, nil)
	// Through docker exec: the call itself must not depend on the helper.
	done := make(chan string, 1)
	go func() {
		res, err := n.side.Exec(context.Background(), n.sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", fmt.Sprintf(
			`mkfifo /tmp/f; { printf 'CONNECT %s HTTP/1.1\r\n\r\n'; sleep 600; } > /tmp/f & nc 127.0.0.1 3128 < /tmp/f; echo nc-exit=$?; kill $!`, up.Addr())},
			Timeout: 5 * time.Minute})
		done <- fmt.Sprintf("%q %v", res.Stdout.String(), err)
	}()
	select {
	case <-accepted:
	case <-time.After(time.Minute):
		t.Fatal("the tunnel never reached the host's server")
	}
	_, pid, _ := n.sh(n.side, `for d in /proc/[0-9]*; do [ "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" = "`+docker.HelperPath+` " ] && echo ${d#/proc/}; done`)
	n.sh(n.side, "kill -9 "+strings.TrimSpace(pid))
	var inside string
	var upErr error
	select {
	case inside = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the sandbox's client did not see its connection end")
	}
	select {
	case upErr = <-ended:
	case <-time.After(time.Minute):
		t.Fatal("the host's upstream did not see the connection end")
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(n.kinds(), egress.KindClosed); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not finish the connection: %q", n.kinds())
		}
	}
	code, out, _ := n.sh(n.c, "wget -q -O - http://"+addr+"/again")
	path, why := n.c.ExecPath(context.Background(), n.sb.ID)
	t.Logf("attack: kill -9 the helper (pid %s) under an open tunnel → inside %s; upstream read ended (%v); proxy events %q; next call: %s, wget %d %q",
		strings.TrimSpace(pid), inside, upErr, n.kinds(), path, code, out)
	if !strings.Contains(inside, "nc-exit=") || code != 0 || out != "hello /again" || path != docker.PathHelper || !strings.Contains(why, "egress") {
		t.Fatalf("inside %s; after: %d %q %s (%s)", inside, code, out, path, why)
	}
}

// TestSandboxEgressWithoutTheHelperHasNoNetwork: where the helper cannot
// run, a sandbox with egress is created all the same, with no network, and
// says why.
func TestSandboxEgressWithoutTheHelperHasNoNetwork(t *testing.T) {
	t.Parallel()
	n := newSandboxNet(t, true, nil, nil, dockertest.WithoutHelper)
	path, why := n.c.ExecPath(context.Background(), n.sb.ID)
	_, out, _ := n.sh(n.c, "nc 127.0.0.1 3128 </dev/null 2>&1; echo rc=$?")
	t.Logf("attack: connect to %s in a sandbox with egress but no helper → %q; calls via %s (%s)", docker.EgressListen, strings.TrimSpace(out), path, why)
	if path != docker.PathDockerExec || !strings.Contains(why, "egress needs the helper") || !strings.Contains(out, "Connection refused") {
		t.Fatalf("got %s (%s), %q", path, why, out)
	}
}

// TestSandboxSquatterOnTheProxyPort: a process in the sandbox kills the
// helper and takes its port. The fresh helper cannot listen, so Berth does
// not use it and the sandbox has no way out (the squatter only ever hears
// from processes of its own sandbox); ExecPath says why.
func TestSandboxSquatterOnTheProxyPort(t *testing.T) {
	t.Parallel()
	_, addr := hostServer(t, helloHandler)
	n := newSandboxNet(t, true, []string{addr}, nil)
	squat := make(chan string, 1)
	go func() {
		res, _ := n.side.Exec(context.Background(), n.sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c",
			`for d in /proc/[0-9]*; do [ "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" = "` + docker.HelperPath + ` " ] && kill -9 ${d#/proc/}; done
until nc -l -p 3128 -e echo squatter 2>/dev/null; do :; done; echo served`}, Timeout: 3 * time.Minute})
		squat <- res.Stdout.String()
	}()
	// Poll (through docker exec) until the squatter holds the port.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, out, _ := n.sh(n.side, "netstat -ltn 2>/dev/null | grep -c ':3128 '"); strings.TrimSpace(out) != "0" {
			if _, pid, _ := n.sh(n.side, `for d in /proc/[0-9]*; do [ "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" = "`+docker.HelperPath+` " ] && echo x; done`); pid == "" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the squatter never held the port")
		}
	}
	res, err := n.c.Exec(context.Background(), n.sb.ID, docker.ExecRequest{Argv: []string{"sh", "-c", "wget -q -O - http://" + addr + "/x 2>&1; echo rc=$?"}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	path, why := n.c.ExecPath(context.Background(), n.sb.ID)
	out := res.Stdout.String()
	t.Logf("attack: kill the helper and listen on %s → next call via %s (%s); wget got %q", docker.EgressListen, path, why, strings.TrimSpace(out))
	if path != docker.PathDockerExec || !strings.Contains(why, "address already in use") || !strings.Contains(why, "no network") || strings.Contains(out, "hello /x") {
		t.Fatalf("got %s (%s), %q", path, why, out)
	}
}

// TestSandboxEgressAfterARestart: a Berth process that did not make the
// sandbox (the one that did has gone, as after a restart) reads its label
// and starts its helper at the first call, so the first call has network.
func TestSandboxEgressAfterARestart(t *testing.T) {
	t.Parallel()
	_, addr := hostServer(t, helloHandler)
	n := newSandboxNet(t, true, []string{addr}, nil)
	n.c.UseHelperBinaries(nil) // the creator's helper ends, as its process would
	next := dockertest.Client(t)
	next.ServeEgress(func(ctx context.Context, _ string, conn net.Conn) { n.proxy.Serve(ctx, conn) })
	code, out, errs := n.sh(next, "wget -q -O - http://"+addr+"/first")
	path, why := next.ExecPath(context.Background(), n.sb.ID)
	t.Logf("first call from a Berth that did not create the sandbox: wget %d %q; calls via %s (%s)", code, out, path, why)
	if code != 0 || out != "hello /first" || path != docker.PathHelper {
		t.Fatalf("got %d %q %q; %s (%s)", code, out, errs, path, why)
	}
}
