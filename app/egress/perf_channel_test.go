package egress_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestPerfEgress prints what the way out costs: busybox wget through the
// sandbox's proxy (helper, channel, app/egress.Proxy, a host loopback
// server) against the same wget run on the host straight to that server,
// and, for set-up, against a server on the sandbox's own loopback. Run by
// `make bench`; never asserted.
func TestPerfEgress(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	bb, err := exec.LookPath("busybox")
	dockertest.Require(t, err == nil, "the host has no busybox to run the direct wget (apt-get install busybox-static)")
	line := []byte(strings.Repeat("berth\n", (1<<20)/6))
	_, addr := hostServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			fmt.Fprint(w, "hi")
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(bigSize))
		for left := bigSize; left > 0; left -= len(line) {
			if _, err := w.Write(line[:min(left, len(line))]); err != nil {
				return
			}
		}
	})
	n := newSandboxNet(t, true, []string{addr}, nil)
	// inside runs setup, then times script with busybox's time, so that
	// neither the exec's own cost nor the setup is counted.
	inside := func(setup, script string) time.Duration {
		res, err := n.c.Exec(context.Background(), n.sb.ID, docker.ExecRequest{
			Argv: []string{"sh", "-c", setup + `time sh -c "$1"`, "sh", script}, Timeout: 10 * time.Minute})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%s: %v exit %d %q", script, err, res.ExitCode, res.Stderr)
		}
		return busyboxTime(t, res.Stderr.String())
	}
	onHost := func(script string) time.Duration {
		cmd := exec.Command(bb, "time", bb, "sh", "-c", script)
		cmd.Env = []string{"PATH=/nonexistent", "BB=" + bb} // no proxy variables
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v %s", script, err, stderr.String())
		}
		return busyboxTime(t, stderr.String())
	}
	best := func(k int, fn func() time.Duration) time.Duration {
		var b time.Duration
		for range k {
			if d := fn(); b == 0 || d < b {
				b = d
			}
		}
		return b
	}
	const conns = 100
	loop := func(wget, url string) string {
		return fmt.Sprintf(`i=0; while [ $i -lt %d ]; do %s -q -O /dev/null %s || exit 1; i=$((i+1)); done`, conns, wget, url)
	}
	// The sandbox's own server lives for one call (nothing survives a
	// call): start it, wait for it, and time the loop alone.
	const localServer = `mkdir -p /tmp/www && echo hi > /tmp/www/index.html && { httpd -f -p 127.0.0.1:8080 -h /tmp/www & } &&
until wget -Y off -q -O /dev/null http://127.0.0.1:8080/ 2>/dev/null; do :; done && `
	var proxied, direct, local []time.Duration
	for range 3 { // alternated
		proxied = append(proxied, inside("", loop("wget", "http://"+addr+"/")))
		direct = append(direct, onHost(loop(`"$BB" wget`, "http://"+addr+"/")))
		// busybox wget ignores NO_PROXY: -Y off
		local = append(local, inside(localServer, loop("wget -Y off", "http://127.0.0.1:8080/")))
	}
	per := func(ds []time.Duration) time.Duration {
		b := ds[0]
		for _, d := range ds {
			b = min(b, d)
		}
		return b / conns
	}
	p, d, l := per(proxied), per(direct), per(local)
	fmt.Printf("\nConnection set-up: %d sequential `wget` of a 2-byte page (each a new process and a new connection), best of 3 runs, alternated\n", conns)
	fmt.Printf("%-62s %10s %8s\n", "path", "per conn", "ratio")
	fmt.Printf("%-62s %10s %7.1fx\n", "host: busybox wget straight to the loopback server", d.Round(10*time.Microsecond), 1.0)
	fmt.Printf("%-62s %10s %7.1fx\n", "sandbox: wget to a server on the sandbox's own loopback", l.Round(10*time.Microsecond), float64(l)/float64(d))
	fmt.Printf("%-62s %10s %7.1fx\n", "sandbox: wget through the proxy (helper, channel, Proxy)", p.Round(10*time.Microsecond), float64(p)/float64(d))

	big := "http://" + addr + "/big"
	tp := best(3, func() time.Duration { return inside("", "wget -q -O /dev/null "+big) })
	td := best(3, func() time.Duration { return onHost(`"$BB" wget -q -O /dev/null ` + big) })
	mbps := func(d time.Duration) float64 { return float64(bigSize) / (1 << 20) / d.Seconds() }
	fmt.Printf("\n200 MiB download with busybox wget, best of 3\n")
	fmt.Printf("%-62s %10s %8s\n", "path", "MB/s", "ratio")
	fmt.Printf("%-62s %10.0f %7.2fx\n", "host: straight to the loopback server", mbps(td), 1.0)
	fmt.Printf("%-62s %10.0f %7.2fx\n\n", "sandbox: through the proxy", mbps(tp), mbps(tp)/mbps(td))
}

// busyboxTime reads busybox time's "real\t0m 1.23s" line.
func busyboxTime(t *testing.T, stderr string) time.Duration {
	t.Helper()
	i := strings.LastIndex(stderr, "real")
	var m int
	var sec float64
	if i < 0 {
		t.Fatalf("no timing in %q", stderr)
	}
	if _, err := fmt.Sscanf(stderr[i:], "real %dm %fs", &m, &sec); err != nil {
		t.Fatalf("timing %q: %v", stderr[i:], err)
	}
	return time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second))
}
