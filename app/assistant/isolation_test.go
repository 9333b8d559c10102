package assistant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/app/mounts"
	"github.com/berth-app/berth/app/safefs"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// escMark is what a probe script prints when the forbidden thing worked.
const escMark = "ESCAPE!"

// scratch is a folder the sandbox user can always write: its home, a
// tmpfs made with its uid (/tmp takes the image's mode, see fillTmp).
const scratch = docker.SandboxHome

// notHere is a find(1) prefix that walks everything but /proc and /sys,
// crossing into every mount (the workspace binds, /tmp, /dev).
const notHere = `find / \( -path /proc -o -path /sys \) -prune -o`

// verdict collects what one escape attempt found.
type verdict struct {
	blocked, escaped, unsure []string
}

// block notes one way the attempt was refused, as it should be.
func (v *verdict) block(format string, a ...any) {
	v.blocked = append(v.blocked, fmt.Sprintf(format, a...))
}

// escape notes evidence that the attempt got through.
func (v *verdict) escape(format string, a ...any) {
	v.escaped = append(v.escaped, fmt.Sprintf(format, a...))
}

// unproven notes a probe that could not run as intended: no evidence either way.
func (v *verdict) unproven(format string, a ...any) {
	v.unsure = append(v.unsure, fmt.Sprintf(format, a...))
}

// report prints the attempt's summary line and fails the test on an escape
// or when nothing proved the attempt was blocked.
func (v *verdict) report(t *testing.T, name string) {
	t.Helper()
	switch {
	case len(v.escaped) > 0:
		fmt.Printf("ESCAPED: %s — %s\n", name, strings.Join(v.escaped, "; "))
		t.Errorf("escape: %s (unproven: %s; blocked: %s)", strings.Join(v.escaped, "; "), strings.Join(v.unsure, "; "), strings.Join(v.blocked, "; "))
	case len(v.unsure) > 0 || len(v.blocked) == 0:
		why := v.unsure
		if len(why) == 0 {
			why = []string{"no probe proved a refusal"}
		}
		fmt.Printf("UNPROVEN: %s — %s\n", name, strings.Join(why, "; "))
		t.Errorf("the attempt was not proven blocked: %s (blocked so far: %s)", strings.Join(why, "; "), strings.Join(v.blocked, "; "))
	default:
		fmt.Printf("blocked: %s — %s\n", name, strings.Join(v.blocked, "; "))
	}
}

// arena is the world the attempts share: a real Berth service with an
// attacker group (one ro mount holding a masked secret, one rw mount), a
// victim group, two groups with low limits, and host-side bait.
type arena struct {
	svc               *Service
	ro, rw            string // host folders of the attacker's mounts
	secret            string // the masked .env's content
	canaryPath        string // a host file outside every mount
	canaryName        string
	canaryBody        string
	keyCanary         string // the provider keys Berth's own environment holds
	victimName        string // a file in the victim's group folder
	victimBody        string
	victimFolder      string
	listeners         []net.Listener
	accepted          atomic.Int64
	passwdSum, shadow string
}

func token(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// unmatchable turns s into a grep pattern that matches s but not itself,
// so that the grep process's own command line never counts as a find.
func unmatchable(s string) string { return s[:len(s)-1] + "[" + s[len(s)-1:] + "]" }

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = s[:150] + " … " + s[len(s)-150:]
	}
	return s
}

func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sh runs a script in a group's warm sandbox through Berth's audited Exec
// and returns stdout and stderr together.
func (a *arena) sh(group, script string, timeout time.Duration) (docker.ExecResult, string, error) {
	res, err := a.svc.Exec(context.Background(), group, docker.ExecRequest{Argv: []string{"sh", "-c", script}, Timeout: timeout})
	return res, res.Stdout.String() + res.Stderr.String(), err
}

// expect runs one probe and sorts its output: escMark means the forbidden
// thing worked; one of want means it failed the way it should; anything
// else means the probe did not run as intended.
func (a *arena) expect(v *verdict, group, probe, script string, want ...string) string {
	_, out, err := a.sh(group, script, 20*time.Second)
	switch {
	case err != nil:
		v.unproven("%s: exec: %v", probe, err)
	case strings.Contains(out, escMark):
		v.escape("%s: %q", probe, clip(out))
	default:
		for _, w := range want {
			if strings.Contains(out, w) {
				v.block("%s → %q", probe, w)
				return out
			}
		}
		v.unproven("%s: unexpected output %q, want one of %q", probe, clip(out), want)
	}
	return out
}

// grepAll searches every file but those under /proc and /sys for needle
// and proves that it searched some.
func (a *arena) grepAll(v *verdict, group, probe, needle string) {
	out := a.expect(v, group, probe,
		fmt.Sprintf(`%[1]s -type f -print 2>/dev/null | xargs grep -l -e '%[2]s' 2>/dev/null | sed 's/^/%[3]s /'; echo "searched $(%[1]s -type f -print 2>/dev/null | wc -l) files"`,
			notHere, unmatchable(needle), escMark),
		"searched")
	if m := regexp.MustCompile(`searched (\d+) files`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		v.unproven("%s: no file was searched: %q", probe, clip(out))
	}
}

func newArena(t *testing.T, svc *Service, keyCanary string) *arena {
	t.Helper()
	ctx := context.Background()
	a := &arena{svc: svc, keyCanary: keyCanary}
	for _, g := range []struct {
		slug string
		gs   GroupSettings
	}{{"attacker", GroupSettings{}}, {"victim", GroupSettings{}}, {"forkbomb", GroupSettings{Pids: 64}}, {"memhog", GroupSettings{MemoryMB: 64}}} {
		if _, err := svc.AddGroup(ctx, g.slug, "", g.gs); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	a.ro, a.rw = filepath.Join(base, "docs"), filepath.Join(base, "out")
	for _, d := range []string{a.ro, a.rw} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.secret = "API_TOKEN=s3cret-" + token(t)
	mustWrite(t, filepath.Join(a.ro, "readme.txt"), "hello\n")
	mustWrite(t, filepath.Join(a.ro, ".env"), a.secret+"\n")
	sandboxOwned(t, a.rw)
	if mc, err := svc.AddMount(ctx, "attacker", mounts.Request{HostPath: a.ro}); err != nil || !slices.Contains(mc.Scan.Masked, ".env") {
		t.Fatalf("ro mount: %+v %v", mc, err)
	}
	if mc, err := svc.AddMount(ctx, "attacker", mounts.Request{HostPath: a.rw, Write: true}); err != nil || mc.ReadOnly {
		t.Fatalf("rw mount: %+v %v", mc, err)
	}

	a.canaryName, a.canaryBody = "berth-canary-"+token(t), "canary-body-"+token(t)
	a.canaryPath = filepath.Join(t.TempDir(), a.canaryName)
	mustWrite(t, a.canaryPath, a.canaryBody)

	victim, err := svc.Group(ctx, "victim")
	if err != nil {
		t.Fatal(err)
	}
	a.victimFolder, a.victimName, a.victimBody = victim.Folder, "victim-"+token(t)+".txt", "victim-body-"+token(t)
	mustWrite(t, filepath.Join(victim.Folder, a.victimName), a.victimBody)

	a.listen(t)
	a.passwdSum, a.shadow = fileSum("/etc/passwd"), fileSum("/etc/shadow")
	run(t, svc, "attacker", "true") // warm the attacker's sandbox
	return a
}

func mustWrite(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listen opens a TCP service on the host's loopback and on each of its
// other addresses, counting every connection that reaches it.
func (a *arena) listen(t *testing.T) {
	t.Helper()
	hosts := []string{"127.0.0.1"}
	addrs, _ := net.InterfaceAddrs()
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			hosts = append(hosts, n.IP.String())
		}
	}
	for _, h := range hosts {
		l, err := net.Listen("tcp", net.JoinHostPort(h, "0"))
		if err != nil {
			t.Logf("listen on %s: %v", h, err)
			continue
		}
		t.Cleanup(func() { l.Close() })
		a.listeners = append(a.listeners, l)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				a.accepted.Add(1)
				c.Close()
			}
		}()
	}
}

// TestIsolation makes escape attempts from inside sandboxes that Berth's
// real code path created, and asserts how each one failed. Each attempt
// prints one line: "blocked: NAME — how", "ESCAPED: NAME — evidence" (an
// escape, or a sandbox an attack left unusable), or "UNPROVEN: NAME — why"
// when a probe could not run as intended; the last two fail the test.
func TestIsolation(t *testing.T) {
	c := dockertest.Client(t)
	keyCanary := "sk-berthcanary-" + token(t)
	// Berth's own process holds provider keys; none may reach a sandbox.
	t.Setenv("ANTHROPIC_API_KEY", keyCanary+"-anthropic")
	t.Setenv("OPENAI_API_KEY", keyCanary+"-openai")
	svc, _ := newService(t, c)
	a := newArena(t, svc, keyCanary)
	for _, at := range attempts {
		t.Run(at.name, func(t *testing.T) {
			v := &verdict{}
			at.try(t, a, v)
			v.report(t, at.name)
		})
	}
}

type attempt struct {
	name string
	try  func(t *testing.T, a *arena, v *verdict)
}

var attempts = []attempt{
	{"find a host file outside every mount", findCanary},
	{"write into the read-only mount", writeReadOnlyMount},
	{"write to the root filesystem", writeRootfs},
	{"read the masked secret", readMaskedSecret},
	{"reach a TCP service on the host", reachHost},
	{"resolve a hostname", resolveName},
	{"find a Docker socket", findDockerSocket},
	{"hold capabilities or gain privileges", capabilities},
	{"mount, unshare, chroot, nsenter, su", privilegedCalls},
	{"open raw devices", rawDevices},
	{"find the provider API keys", findKeys},
	{"fork bomb", forkBomb},
	{"memory hog", memoryHog},
	{"fill /tmp", fillTmp},
	{"plant symlinks for the host to follow", plantSymlinks},
	{"run as root", runAsRoot},
	{"reach another group's sandbox or files", reachVictim},
}

func findCanary(t *testing.T, a *arena, v *verdict) {
	// The guards (busybox, MEMORY.md) prove each find really walked.
	a.expect(v, "attacker", "find / -xdev by name",
		fmt.Sprintf(`find / -xdev \( -name %s -o -name busybox \) 2>/dev/null | sed 's/.*%s.*/%s/'`, a.canaryName, a.canaryName, escMark),
		"/bin/busybox")
	a.expect(v, "attacker", "find across every mount but /proc and /sys",
		fmt.Sprintf(`%s \( -name %s -o -name MEMORY.md \) -print 2>/dev/null | sed 's/.*%s.*/%s/'`, notHere, a.canaryName, a.canaryName, escMark),
		"/workspace/group/MEMORY.md")
	a.grepAll(v, "attacker", "grep every file for the canary's content", a.canaryBody)
}

func writeReadOnlyMount(t *testing.T, a *arena, v *verdict) {
	const m = "/workspace/extra/docs"
	for _, p := range []struct{ probe, script string }{
		{"create a file", "touch " + m + "/new"},
		{"overwrite a file", "echo x > " + m + "/readme.txt"},
		{"delete a file", "rm " + m + "/readme.txt"},
		{"make a folder", "mkdir " + m + "/d"},
	} {
		a.expect(v, "attacker", p.probe, p.script+" 2>&1 && echo "+escMark, "Read-only file system")
	}
	a.expect(v, "attacker", "remount rw", "mount -o remount,rw "+m+" 2>&1 && echo "+escMark, "permission denied")
	if b, _ := os.ReadFile(filepath.Join(a.ro, "readme.txt")); string(b) != "hello\n" {
		v.escape("the host file changed: %q", b)
	}
	if ents, _ := os.ReadDir(a.ro); len(ents) != 2 {
		v.escape("the host folder has %d entries, want 2", len(ents))
	}
}

func writeRootfs(t *testing.T, a *arena, v *verdict) {
	for _, d := range []string{"/", "/etc", "/usr", "/bin", "/workspace"} {
		// A folder the image lacks is created instead of written into.
		a.expect(v, "attacker", "write in "+d, fmt.Sprintf(`if [ -d %[1]s ]; then touch %[1]s/x; else mkdir %[1]s; fi 2>&1 && echo %[2]s`, d, escMark),
			"Read-only file system")
	}
	// For an existing file the user may not write anyway, the kernel checks
	// permissions before the read-only mount: either refusal will do.
	a.expect(v, "attacker", "append to /etc/passwd", "echo x >> /etc/passwd 2>&1 && echo "+escMark, "Read-only file system", "Permission denied")
	a.expect(v, "attacker", "replace /bin/sh", "cp /bin/busybox /bin/sh 2>&1 && echo "+escMark, "Read-only file system", "Permission denied")
	a.expect(v, "attacker", "root mount options", `awk '$2 == "/" { print "options " $4 }' /proc/self/mounts`, "options ro,")
}

func readMaskedSecret(t *testing.T, a *arena, v *verdict) {
	const env = "/workspace/extra/docs/.env"
	a.expect(v, "attacker", "cat .env", "echo \"bytes=$(cat "+env+" | wc -c)\"", "bytes=0")
	a.expect(v, "attacker", "read through a symlink", "ln -sf "+env+" "+scratch+"/l && echo \"bytes=$(cat "+scratch+"/l | wc -c)\"", "bytes=0")
	a.expect(v, "attacker", "hard link into the rw mount", "ln "+env+" /workspace/extra/out/h 2>&1 && echo "+escMark, "Invalid cross-device link")
	a.expect(v, "attacker", "unmount the mask", "umount "+env+" 2>&1 && echo "+escMark, "Operation not permitted")
	a.grepAll(v, "attacker", "grep every file for the secret", a.secret)
	if b, _ := os.ReadFile(filepath.Join(a.ro, ".env")); string(b) != a.secret+"\n" {
		v.escape("the secret on the host changed: %q", b)
	}
}

func reachHost(t *testing.T, a *arena, v *verdict) {
	if len(a.listeners) == 0 {
		v.unproven("no host listener could be opened")
		return
	}
	// ash has no /dev/tcp, and this static busybox's wget segfaults before
	// it connects, so nc is the probe.
	for _, l := range a.listeners {
		host, port, _ := net.SplitHostPort(l.Addr().String())
		want := "Network is unreachable"
		if host == "127.0.0.1" {
			want = "Connection refused" // the sandbox's own loopback, where nothing listens
		}
		a.expect(v, "attacker", "nc "+l.Addr().String(), fmt.Sprintf("echo hi | nc -w 2 %s %s 2>&1 && echo %s", host, port, escMark), want)
	}
	if n := a.accepted.Load(); n > 0 {
		v.escape("the host listeners accepted %d connections", n)
	}
}

func resolveName(t *testing.T, a *arena, v *verdict) {
	a.expect(v, "attacker", "nslookup", "nslookup example.com 2>&1 && echo "+escMark, "Network is unreachable", "Connection refused")
	a.expect(v, "attacker", "ping a name", "ping -c 1 -W 1 example.com 2>&1 && echo "+escMark, "bad address")
	a.expect(v, "attacker", "getent (absent in busybox: nc by name instead)", "nc -w 2 example.com 80 </dev/null 2>&1 && echo "+escMark, "bad address")
	_, out, err := a.sh("attacker", "ls /sys/class/net; echo routes=$(cat /proc/net/route | wc -l)", 0)
	f := strings.Fields(out)
	switch {
	case err != nil || len(f) == 0:
		v.unproven("interfaces: %q %v", out, err)
	case f[0] != "lo" || len(f) != 2:
		v.escape("interfaces other than lo: %q", clip(out))
	case !strings.Contains(out, "routes=1"): // the header line only
		v.escape("a route exists: %q", clip(out))
	default:
		v.block("/sys/class/net has only lo, no routes")
	}
}

func findDockerSocket(t *testing.T, a *arena, v *verdict) {
	a.expect(v, "attacker", "find sockets",
		// Finding /bin/busybox too proves the walk.
		`f=$(`+notHere+` \( -type s -o -name '*.sock' -o -name busybox \) -print 2>/dev/null)
echo "$f" | grep -qx /bin/busybox && echo walked; echo "$f" | grep -vx /bin/busybox | sed 's/^/`+escMark+` /'`,
		"walked")
	a.expect(v, "attacker", "look in /var/run, /run, /tmp/berth-engine",
		"ls /var/run/docker.sock /run/docker.sock /tmp/berth-engine/docker.sock 2>&1 | grep -v 'No such file' | sed 's/^/"+escMark+" /'; echo looked",
		"looked")
	a.expect(v, "attacker", "unix sockets bound by paths", `awk 'NR>1 && $8 ~ /sock/ {print "`+escMark+` " $8} END {print "listed"}' /proc/net/unix`, "listed")
	a.expect(v, "attacker", "DOCKER_HOST in the environment", "env | grep -i docker | sed 's/^/"+escMark+" /'; echo checked", "checked")
}

func capabilities(t *testing.T, a *arena, v *verdict) {
	for _, pid := range []string{"self", "1"} {
		_, out, err := a.sh("attacker", "cat /proc/"+pid+"/status", 0)
		if err != nil {
			v.unproven("/proc/%s/status: %v", pid, err)
			continue
		}
		want := map[string]string{"CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
			"CapBnd": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"}
		seen := 0
		for _, line := range strings.Split(out, "\n") {
			k, val, _ := strings.Cut(line, ":")
			if w, ok := want[k]; ok {
				seen++
				if strings.TrimSpace(val) != w {
					v.escape("/proc/%s/status %s is %s, want %s", pid, k, strings.TrimSpace(val), w)
				}
			}
		}
		if seen != len(want) {
			v.unproven("/proc/%s/status shows %d of %d fields", pid, seen, len(want))
		}
	}
	if len(v.escaped) == 0 && len(v.unsure) == 0 {
		v.block("sandbox shell and its init: CapEff, CapPrm, CapBnd, CapAmb all 0, NoNewPrivs 1, Seccomp 2 (filter)")
	}
}

func privilegedCalls(t *testing.T, a *arena, v *verdict) {
	root := `; id -u | grep -qx 0 && echo ` + escMark
	for _, p := range []struct{ probe, script, want string }{
		{"mount a tmpfs", "mkdir -p " + scratch + "/x && mount -t tmpfs none " + scratch + "/x 2>&1 && echo " + escMark, "permission denied (are you root?)"},
		{"unshare -r (user namespace as root)", "unshare -r id -u 2>&1 | sed 's/^0$/" + escMark + "/'", "Operation not permitted"},
		{"unshare -m (mount namespace)", "unshare -m id 2>&1 && echo " + escMark, "Operation not permitted"},
		{"chroot /", "chroot / id 2>&1 && echo " + escMark, "Operation not permitted"},
		{"nsenter pid 1's mount namespace", "nsenter -t 1 -m id 2>&1 && echo " + escMark, "Operation not permitted"},
		{"su -c id", "su -c 'id -u' 2>&1 | sed 's/^0$/" + escMark + "/'" + root, "must be suid"},
		{"chown a file to root", "touch " + scratch + "/o && chown 0:0 " + scratch + "/o 2>&1 && echo " + escMark, "Operation not permitted"},
		// A setuid file of its own is allowed (in the rw mount: the tmpfs
		// are noexec), and runs as its owner at most: never root.
		{"setuid copy of busybox", "cp /bin/busybox /workspace/extra/out/busybox && chmod 4755 /workspace/extra/out/busybox && /workspace/extra/out/busybox id -u | sed 's/^0$/" + escMark + "/'; rm -f /workspace/extra/out/busybox", strings.Split(docker.HostUser(), ":")[0]},
		{"setuid-root binaries in the image", "find / -xdev -perm -4000 -user 0 2>/dev/null | sed 's/^/" + escMark + " /'; echo none-else", "none-else"},
	} {
		a.expect(v, "attacker", p.probe, p.script, p.want)
	}
}

// devDefaults are the harmless nodes and links every container's /dev has.
var devDefaults = []string{"console", "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero"}

func rawDevices(t *testing.T, a *arena, v *verdict) {
	for _, d := range []string{"/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg"} {
		a.expect(v, "attacker", "read "+d, "head -c 1 "+d+" >/dev/null 2>&1 && echo "+escMark+"; head -c 1 "+d+" 2>&1", "No such file or directory")
	}
	a.expect(v, "attacker", "mknod a disk", "mknod "+scratch+"/sda b 8 0 2>&1 && echo "+escMark, "Operation not permitted")
	a.expect(v, "attacker", "dmesg", "dmesg 2>&1 >/dev/null && echo "+escMark, "Operation not permitted")
	// Writing the hostname back unchanged is harmless even if it worked.
	a.expect(v, "attacker", "write /proc/sys", "cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname 2>&1 && echo "+escMark, "Read-only file system")
	_, out, err := a.sh("attacker", "ls /dev", 0)
	if err != nil {
		v.unproven("ls /dev: %v", err)
		return
	}
	var extra []string
	for _, n := range strings.Fields(out) {
		if !slices.Contains(devDefaults, n) {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		v.escape("/dev has more than the defaults: %v", extra)
	} else if len(strings.Fields(out)) < 5 {
		v.unproven("ls /dev listed too little: %q", out)
	} else {
		v.block("/dev holds only defaults (%s)", strings.Join(strings.Fields(out), " "))
	}
}

func findKeys(t *testing.T, a *arena, v *verdict) {
	if !strings.HasPrefix(os.Getenv("ANTHROPIC_API_KEY"), a.keyCanary) || !strings.HasPrefix(os.Getenv("OPENAI_API_KEY"), a.keyCanary) {
		v.unproven("Berth's own environment does not hold the canary keys")
	}
	pat := unmatchable(a.keyCanary)
	out := a.expect(v, "attacker", "grep every /proc/*/environ and cmdline",
		fmt.Sprintf(`grep -l -e '%s' /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | sed 's/^/%s /'; echo "readable=$(grep -l BERTH_EXEC /proc/[0-9]*/environ 2>/dev/null | wc -l)"`, pat, escMark),
		"readable=")
	if m := regexp.MustCompile(`readable=(\d+)`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		v.unproven("no process environment was readable: %q", clip(out))
	}
	a.grepAll(v, "attacker", "grep every file", a.keyCanary)
	a.expect(v, "attacker", "key variables in the environment", "env | grep -E 'ANTHROPIC|OPENAI|API_KEY' | sed 's/^/"+escMark+" /'; echo checked", "checked")
}

// readScript prints the first readable of some files with shell builtins
// only, so that it works in a sandbox that can no longer fork.
func readScript(paths ...string) string {
	return fmt.Sprintf(`for f in %s; do [ -r $f ] && { while read -r l; do echo "$l"; done < $f; break; }; done`, strings.Join(paths, " "))
}

// counter reads one "name N" line of a cgroup file, cgroup v1 or v2.
func (a *arena) counter(group, name string, paths ...string) (int, error) {
	_, out, err := a.sh(group, readScript(paths...), 10*time.Second)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no %s in %q", name, clip(out))
	}
	return strconv.Atoi(m[1])
}

// stillWorks checks that a sandbox runs commands after an attack: the
// literal `echo ok`, and one that needs to fork.
func (a *arena) stillWorks(v *verdict, group, after string) {
	for _, p := range []struct{ script, want string }{{"echo ok", "ok"}, {`echo "ok $(echo forked)"`, "ok forked"}} {
		res, out, err := a.sh(group, p.script, 10*time.Second)
		if err != nil || strings.TrimSpace(out) != p.want {
			v.escape("not contained: after %s the sandbox fails %q: exit %d, %q %v", after, p.script, res.ExitCode, clip(out), err)
			return
		}
	}
	v.block("afterwards the sandbox still runs commands, forks included")
}

// othersWork checks that an attack on one sandbox left the others alone.
func (a *arena) othersWork(v *verdict) {
	_, out, err := a.sh("attacker", `echo "ok $(echo forked)"`, 10*time.Second)
	if err != nil || strings.TrimSpace(out) != "ok forked" {
		v.escape("another group's sandbox stopped working: %q %v", clip(out), err)
		return
	}
	v.block("other groups' sandboxes unaffected")
}

func forkBomb(t *testing.T, a *arena, v *verdict) {
	events := []string{"/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"}
	for _, b := range []struct{ probe, script string }{
		{"classic bomb", `bomb() { bomb | bomb & }; bomb; sleep 1`},
		// Children that outlive the exec keep the limit exhausted.
		{"loop whose children stay", `while :; do sleep 120 & done`},
	} {
		before, err := a.counter("forkbomb", "max", events...)
		if err != nil {
			v.unproven("%s: pids.events: %v", b.probe, err)
			continue
		}
		res, out, err := a.sh("forkbomb", b.script, 5*time.Second)
		switch {
		case err != nil:
			v.unproven("%s: the exec returned an error instead of a result: %v (output %q)", b.probe, err, clip(out))
		case !strings.Contains(out, "can't fork: Resource temporarily unavailable"):
			v.unproven("%s: no sign of the pids limit: exit %d, output %q", b.probe, res.ExitCode, clip(out))
		default:
			v.block("%s: %q, exec returned (exit %d, timed out %v)", b.probe, "can't fork: Resource temporarily unavailable", res.ExitCode, res.TimedOut)
		}
		if after, err := a.counter("forkbomb", "max", events...); err != nil || after <= before {
			v.unproven("%s: pids.events max did not grow: %d → %d %v", b.probe, before, after, err)
		} else {
			v.block("pids limit refused %d forks", after-before)
		}
		a.stillWorks(v, "forkbomb", b.probe)
	}
	if len(v.escaped) > 0 {
		_, out, _ := a.sh("forkbomb", `for d in /sys/fs/cgroup/pids /sys/fs/cgroup; do [ -r $d/pids.current ] && { read -r c < $d/pids.current; read -r m < $d/pids.max; echo "$c of $m"; break; }; done`, 10*time.Second)
		v.escape("pids in use afterwards: %s, held by children the finished exec left behind", strings.TrimSpace(out))
	}
	a.othersWork(v)
}

func memoryHog(t *testing.T, a *arena, v *verdict) {
	before, _, err := a.svc.Sandbox(context.Background(), "memhog", CLISession)
	if err != nil {
		v.unproven("sandbox: %v", err)
		return
	}
	oom := []string{"/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"}
	for _, h := range []struct{ probe, script string }{
		{"dd a 200 MiB buffer", "dd if=/dev/zero of=/dev/null bs=200M count=1"},
		{"awk doubling a string", `awk 'BEGIN { s = "x"; while (1) s = s s }'`},
		// tmpfs pages count against the memory limit and outlive the process.
		{"fill the home tmpfs past the limit", "dd if=/dev/zero of=" + scratch + "/fill bs=1M count=200"},
	} {
		n0, err := a.counter("memhog", "oom_kill", oom...)
		if err != nil {
			v.unproven("%s: oom_kill: %v", h.probe, err)
			continue
		}
		res, out, err := a.sh("memhog", h.script, 20*time.Second)
		n1, cerr := a.counter("memhog", "oom_kill", oom...)
		switch {
		case err != nil:
			v.unproven("%s: %v", h.probe, err)
		case res.TimedOut:
			v.unproven("%s: hung until the time limit", h.probe)
		case cerr != nil:
			v.unproven("%s: oom_kill after: %v", h.probe, cerr)
		case res.ExitCode == 137 && n1 > n0:
			v.block("%s: OOM-killed, exit 137 (oom_kill %d → %d)", h.probe, n0, n1)
		case strings.Contains(out, "No space left on device") && n1 == n0:
			// Each tmpfs is capped at a quarter of the memory limit, so files
			// alone cannot starve the sandbox of memory.
			v.block("%s: stopped by the tmpfs cap (a quarter of the memory limit): %q", h.probe, "No space left on device")
		default:
			v.unproven("%s: exit %d, oom_kill %d → %d, output %q", h.probe, res.ExitCode, n0, n1, clip(out))
		}
		a.stillWorks(v, "memhog", h.probe)
	}
	if res, _, err := a.sh("memhog", "rm -f "+scratch+"/fill", 10*time.Second); err == nil && res.ExitCode == 137 {
		v.escape("even `rm` of the file is OOM-killed: only a new sandbox frees the memory")
	}
	a.othersWork(v)
	after, created, err := a.svc.Sandbox(context.Background(), "memhog", CLISession)
	if err != nil || created || after.ID != before.ID {
		v.escape("the sandbox itself did not survive: created=%v %v", created, err)
	}
}

func fillTmp(t *testing.T, a *arena, v *verdict) {
	var before syscall.Statfs_t
	if err := syscall.Statfs("/", &before); err != nil {
		t.Fatal(err)
	}
	out := a.expect(v, "attacker", "dd until full",
		`d=/tmp; touch $d/.w 2>/dev/null && rm $d/.w || { echo "/tmp not writable"; d=`+scratch+`; }
dd if=/dev/zero of=$d/fill bs=1M 2>&1; echo "fs=$(stat -f -c %T $d)"; df -k $d | tail -1; rm -f $d/fill`,
		"No space left on device")
	var after syscall.Statfs_t
	if err := syscall.Statfs("/", &after); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "/tmp not writable") {
		// runc gives a tmpfs the mode of the image's folder under it, not
		// the mode=1777 Berth asks for.
		v.block("/tmp is not writable by the sandbox user (it takes the image's /tmp mode), so the other tmpfs, %s, was filled instead", scratch)
	}
	capKB := strconv.FormatInt(docker.DefaultTmpSize>>10, 10)
	df := regexp.MustCompile(`(?m)^tmpfs\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
	if df == nil || df[1] != capKB || df[2] != capKB || !strings.Contains(out, "fs=tmpfs") {
		v.unproven("df: %q, want a full tmpfs of %s KiB", clip(out), capKB)
	} else {
		v.block("df shows a full tmpfs capped at %s KiB", capKB)
	}
	drop := int64(before.Bavail)*before.Bsize - int64(after.Bavail)*after.Bsize
	if drop >= docker.DefaultTmpSize/2 {
		v.escape("the host disk lost %d MiB while the tmpfs filled", drop>>20)
	} else {
		v.block("host disk free space unchanged (within %d MiB)", max(drop, 0)>>20)
	}
}

func plantSymlinks(t *testing.T, a *arena, v *verdict) {
	a.expect(v, "attacker", "replace MEMORY.md with a link to /etc/passwd",
		"rm /workspace/group/MEMORY.md && ln -s /etc/passwd /workspace/group/MEMORY.md && echo planted", "planted")
	if _, err := a.svc.Memory("attacker"); errors.Is(err, safefs.ErrSymlink) {
		v.block("Memory: %v", err)
	} else {
		v.escape("Memory read through the planted link: %v", err)
	}
	if err := a.svc.seedMemory("attacker", "attacker"); errors.Is(err, safefs.ErrSymlink) {
		v.block("seeding memory refused the link")
	} else {
		v.escape("seeding memory wrote through the planted link: %v", err)
	}
	// A link resolves inside the sandbox, where the host's paths do not exist.
	a.expect(v, "attacker", "link to a host file in the rw mount",
		"ln -s "+a.canaryPath+" /workspace/extra/out/link && cat /workspace/extra/out/link 2>&1", "No such file or directory")
	a.expect(v, "attacker", "link to /etc/shadow in the rw mount", "ln -s /etc/shadow /workspace/extra/out/shadow && echo planted", "planted")
	mc, err := a.svc.CheckMount(context.Background(), "attacker", mounts.Request{HostPath: a.rw, Name: "probe"})
	if err != nil || mc.Scan == nil || !slices.Contains(mc.Scan.Symlinks, "link") || !slices.Contains(mc.Scan.Symlinks, "shadow") {
		v.unproven("host scan of the rw mount: %+v %v", mc, err)
	} else {
		v.block("the host scan lists both links without following them")
	}
	if fileSum("/etc/passwd") != a.passwdSum || fileSum("/etc/shadow") != a.shadow {
		v.escape("the host /etc/passwd or /etc/shadow changed")
	}
}

func runAsRoot(t *testing.T, a *arena, v *verdict) {
	want := docker.HostUser()
	a.expect(v, "attacker", "id", `echo "ids=$(id -u):$(id -g)"`, "ids="+want)
	uid := strings.Split(want, ":")[0]
	_, out, err := a.sh("attacker", `grep -h '^Uid:' /proc/[0-9]*/status`, 0)
	if err != nil || !strings.Contains(out, "Uid:") {
		v.unproven("process uids: %q %v", clip(out), err)
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		for _, f := range strings.Fields(line)[1:] {
			if f != uid {
				v.escape("a process runs with uid %s: %q", f, line)
			}
		}
	}
	v.block("every process in the sandbox runs as %s", uid)
}

func reachVictim(t *testing.T, a *arena, v *verdict) {
	// The victim's sandbox holds a process and a listener to look for.
	var ctl verdict
	a.expect(&ctl, "victim", "victim starts its processes",
		`sleep 987654 >/dev/null 2>&1 </dev/null & nc -l -p 7777 >/dev/null 2>&1 </dev/null & sleep 0.2; ps -o args | grep -c '^sleep 98765[4]'; netstat -ltn | grep -c ':7777 '`, "1\n1")
	a.expect(&ctl, "victim", "victim sees its file", "ls /workspace/group", a.victimName)
	if len(ctl.blocked) != 2 {
		v.unproven("the victim's own view is not as set up: %v %v", ctl.unsure, ctl.escaped)
		return
	}
	a.expect(v, "attacker", "find the victim's file",
		fmt.Sprintf(`%s -name '%s' -print 2>/dev/null | sed 's/^/%s /'; %s -name MEMORY.md -print 2>/dev/null`, notHere, a.victimName, escMark, notHere),
		"/workspace/group/MEMORY.md")
	a.grepAll(v, "attacker", "grep for the victim's content", a.victimBody)
	a.expect(v, "attacker", "the victim's folder in the mount table",
		fmt.Sprintf(`grep -F '%s' /proc/self/mountinfo | sed 's/^/%s /'; echo mounts=$(wc -l < /proc/self/mountinfo)`, a.victimFolder, escMark), "mounts=")
	a.expect(v, "attacker", "see the victim's processes",
		`ps -o args | grep '98765[4]' | sed 's/^/`+escMark+` /'; echo "procs=$(ls -d /proc/[0-9]* | wc -l)"`, "procs=")
	a.expect(v, "attacker", "connect to the victim's listener", "echo hi | nc -w 2 127.0.0.1 7777 2>&1 && echo "+escMark, "Connection refused")
}
