package docker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signal is a Linux signal number, as the sandbox's kernel numbers it (the
// host's may differ: SIGUSR1 is 10 on Linux, 30 on macOS).
type Signal int

// The signals a caller may want to send a running command.
const (
	SIGHUP  Signal = 1
	SIGINT  Signal = 2
	SIGQUIT Signal = 3
	SIGKILL Signal = 9
	SIGUSR1 Signal = 10
	SIGUSR2 Signal = 12
	SIGTERM Signal = 15
)

func (s Signal) valid() bool { return s > 0 && s < 65 }

// signalWait bounds one signal's delivery through docker exec.
const signalWait = 10 * time.Second

// signalScript sends signal $2 to the process group of the command whose
// exec carries marker $1: the exec's wrapper shell (parent pid 0, see
// sweepScript) leads it, and it shrugs the usual signals off (see
// reapWrapper) so that they reach the command alone. It prints
// signaledMark when it found the command.
const signalScript = `id="$1" sig="$2"
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  read -r line 2>/dev/null < "$d/stat" || continue
  set -- ${line##*) }
  [ "$2" = 0 ] && [ "$p" != 1 ] || continue
  env=""
  read -r env 2>/dev/null < "$d/environ"
  case "$env" in *"BERTH_EXEC=$id"*) kill -"$sig" "-$p" 2>/dev/null && echo berth-signaled ;; esac
done`

const signaledMark = "berth-signaled"

// signalDocker sends sig to a docker exec path command's process group
// with one short exec, within ctx and at most signalWait.
func (c *Client) signalDocker(ctx context.Context, sandboxID, marker string, sig Signal) error {
	ctx, cancel := context.WithTimeout(ctx, signalWait)
	defer cancel()
	_, out, err := c.runScript(ctx, sandboxID, false, signalScript, "berth-signal", marker, strconv.Itoa(int(sig)))
	switch {
	case err != nil:
		return fmt.Errorf("signal %d: %w", sig, err)
	case !strings.Contains(out, signaledMark):
		return fmt.Errorf("signal %d: the command was not found (it ended?) %q", sig, out)
	}
	return nil
}

// forwardSignals sends each signal of req.Signals with send until stop
// closes. Invalid numbers are dropped.
func forwardSignals(signals <-chan Signal, stop <-chan struct{}, send func(Signal)) {
	if signals == nil {
		return
	}
	go func() {
		for {
			select {
			case s, ok := <-signals:
				if !ok {
					return
				}
				if s.valid() {
					send(s)
				}
			case <-stop:
				return
			}
		}
	}()
}
