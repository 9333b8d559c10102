package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// ErrLeftovers means processes a command left behind could not be killed,
// so the whole sandbox was stopped instead (it also wraps
// ErrSandboxNotRunning: the next call gets a fresh sandbox).
var ErrLeftovers = errors.New("processes the command left behind could not be killed, so the sandbox was stopped")

// sweepTimeout bounds one sweep; a sweep that takes longer (a leftover
// stopped it, or the engine is in trouble) stops the whole sandbox.
const sweepTimeout = 10 * time.Second

// sweepScript kills, after a command, every process in the sandbox but its
// init (PID 1), the main process (the init's oldest child) and the
// processes of commands that still run. Those are found by facts a process
// cannot forge:
//
//   - A command the engine starts (an exec) enters the sandbox from outside,
//     so inside it has parent pid 0. A process forked inside always has its
//     parent inside, and an orphan is handed to PID 1: no process started in
//     the sandbox can ever get parent 0. Berth runs each command as a child
//     of a wrapper shell (see reapWrapper), so the command cannot be the exec
//     itself either.
//   - The exec is a session leader; a process can leave its session
//     (setsid) but never join another one.
//
// So a running command's processes are the descendants of a parent-0
// process, or members of its session; anything else (a `setsid -f env -i`
// survivor reparented to PID 1, a double-forked daemon) is killed. $1 names
// the exec just finished (its BERTH_EXEC marker), whose processes go even if
// its wrapper still runs (timeout or cancel). Everything is frozen first
// (kill -STOP -1: every process but PID 1 and the sweep itself) so that a
// fork loop or a process watching for the sweep cannot outrun it; what stays
// is continued. Only shell built-ins are used: it works in any image and
// when no process can fork. It prints sweptMark when all is clean (the
// stream's end then says it is done, with no wait for the exit code), and
// exits 3 when something could not be killed.
const sweepScript = `id="$1"
cont() { [ -n "$keep" ] && kill -CONT $keep 2>/dev/null; }
keep=""
round=0
while [ $round -lt 60 ]; do
  round=$((round + 1))
  # A killed process takes a moment to die on a busy machine: from the
  # third round on, give it one (by spinning when no process can fork).
  [ $round -gt 2 ] && { sleep 0.02 2>/dev/null || :; }
  kill -STOP -1 2>/dev/null
  tab="" main="" mstart=""
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    read -r line 2>/dev/null < "$d/stat" || continue
    set -- ${line##*) }
    case "$1" in Z|X|x) continue ;; esac
    tab="$tab $p:$2:$4"
    if [ "$2" = 1 ] && { [ -z "$main" ] || [ "${20}" -lt "$mstart" ]; }; then main=$p mstart=${20}; fi
  done
  roots=" "
  for e in $tab; do
    p=${e%%:*} r=${e#*:}
    [ "${r%%:*}" = 0 ] && [ "$p" != 1 ] || continue
    env=""
    read -r env 2>/dev/null < "/proc/$p/environ"
    case "$env" in *"BERTH_EXEC=$id"*) [ -n "$id" ] && continue ;; esac
    roots="$roots$p "
  done
  tree="$roots" grew=1
  while [ $grew = 1 ]; do
    grew=0
    for e in $tab; do
      p=${e%%:*} r=${e#*:}
      case "$tree" in *" $p "*) continue ;; esac
      case "$tree" in *" ${r%%:*} "*) tree="$tree$p " grew=1; continue ;; esac
      case "$roots" in *" ${r#*:} "*) tree="$tree$p " grew=1 ;; esac
    done
  done
  keep="$main$tree" doomed=""
  for e in $tab; do
    p=${e%%:*}
    [ "$p" = 1 ] && continue
    case " $keep " in *" $p "*) ;; *) doomed="$doomed $p" ;; esac
  done
  if [ -z "$doomed" ]; then cont; echo berth-swept; exit 0; fi
  kill -KILL $doomed 2>/dev/null
done
cont
echo "left running:$doomed"
exit 3`

// sweep runs sweepScript; marker names the exec just finished ("" none).
// When the sweep cannot run or cannot kill everything, the sandbox is
// killed: nothing a command started may outlive it.
func (c *Client) sweep(sandboxID, marker string) error {
	ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
	defer cancel()
	_, out, err := c.runScript(ctx, sandboxID, false, sweepScript, "berth-sweep", marker)
	if out = strings.TrimSpace(out); err == nil && (out == sweptMark || strings.HasSuffix(out, "\n"+sweptMark)) {
		return nil
	}
	why := strings.TrimSpace(out)
	if err != nil {
		why = err.Error()
	}
	kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer kcancel()
	if kerr := c.KillSandbox(kctx, sandboxID); kerr != nil {
		return fmt.Errorf("clean up after the command (%s): %w; and %v", why, ErrLeftovers, kerr)
	}
	return fmt.Errorf("clean up after the command (%s): %w", why, errors.Join(ErrLeftovers, ErrSandboxNotRunning))
}

// sweptMark is what sweepScript prints, and only prints, when it is done.
const sweptMark = "berth-swept"

// runScript runs a Berth script (never the model's input) in a sandbox as
// its user and returns its output and, when exitCode is set, its exit code
// (one more round trip, or a few: the engine reports it just after the
// output ends).
func (c *Client) runScript(ctx context.Context, sandboxID string, exitCode bool, script string, args ...string) (int, string, error) {
	created, err := c.api.ExecCreate(ctx, sandboxID, client.ExecCreateOptions{
		AttachStdout: true, AttachStderr: true,
		Cmd: append([]string{"/bin/sh", "-c", script}, args...),
	})
	if err != nil {
		return 0, "", err
	}
	att, err := c.api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return 0, "", err
	}
	defer att.Close()
	var out bytes.Buffer
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&out, &out, att.Reader)
		copied <- err
	}()
	select {
	case err = <-copied:
	case <-ctx.Done():
		att.Close()
		<-copied
		return 0, out.String(), ctx.Err()
	}
	if err != nil {
		return 0, out.String(), err
	}
	if !exitCode {
		return 0, out.String(), nil
	}
	for {
		ins, err := c.api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return 0, out.String(), err
		}
		if !ins.Running {
			return ins.ExitCode, out.String(), nil
		}
		select {
		case <-ctx.Done():
			return 0, out.String(), ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// tmpfsScript gives the sandbox's tmpfs the modes Berth asks for. runc
// (before 1.2) chmods a tmpfs to the mode of the image's folder under it,
// whatever mode= says: /tmp came out 0755 root in an image whose /tmp is
// 0755, and a Debian image's home 0755. Both tmpfs belong to the sandbox
// user (uid=, gid=), so it can set the modes itself; the result is checked.
const tmpfsScript = `chmod 1777 /tmp && chmod 0700 "$1" || exit 1
[ -w /tmp ] && [ -k /tmp ] && [ -w "$1" ] && [ -O "$1" ]`

// settleTmpfs sets and checks the tmpfs modes of a new sandbox.
func (c *Client) settleTmpfs(ctx context.Context, sandboxID string) error {
	code, out, err := c.runScript(ctx, sandboxID, true, tmpfsScript, "berth-tmpfs", SandboxHome)
	if err != nil {
		return fmt.Errorf("set the modes of /tmp and %s: %w", SandboxHome, err)
	}
	if code != 0 {
		return fmt.Errorf("set the modes of /tmp and %s: exit %d %s; the image needs chmod", SandboxHome, code, strings.TrimSpace(out))
	}
	return nil
}
