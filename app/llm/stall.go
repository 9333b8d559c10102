package llm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// errStalled is the cause of an attempt's context when its watchdog fired.
var errStalled = errors.New("stalled")

// watchdog ends an attempt whose stream stays silent for longer than d: a
// server that stopped (SIGSTOP, a hung GPU) would otherwise be waited for
// for ever. Kick it each time something arrives.
type watchdog struct {
	d      time.Duration
	timer  *time.Timer
	fired  atomic.Bool
	cancel context.CancelCauseFunc
}

// newWatchdog returns a context for one attempt that is canceled once it has
// been silent for d; d <= 0 never fires. Call stop when the attempt ends.
func newWatchdog(ctx context.Context, d time.Duration) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: d, cancel: cancel}
	if d > 0 {
		w.timer = time.AfterFunc(d, func() {
			w.fired.Store(true)
			cancel(errStalled)
		})
	}
	return ctx, w
}

// kick says something arrived: the silence starts again.
func (w *watchdog) kick() {
	if w.timer != nil && !w.fired.Load() {
		w.timer.Reset(w.d)
	}
}

// stop ends the watchdog and the attempt's context.
func (w *watchdog) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel(nil)
}

// stalled reports whether the watchdog ended the attempt.
func (w *watchdog) stalled() bool { return w.fired.Load() }

// stallTimeout returns the configured silence limit.
func stallTimeout(cfg Config) time.Duration {
	switch {
	case cfg.StallTimeout < 0:
		return 0
	case cfg.StallTimeout == 0:
		return DefaultStallTimeout
	}
	return cfg.StallTimeout
}

// stalled returns the error for a stream that went silent for d.
func (s site) stalled(d time.Duration) *Error {
	return &Error{Kind: ErrStalled, Provider: s.provider, msg: s.scrub(fmt.Sprintf(
		"%s sent nothing for %s, so the turn was ended — the server may be stuck or overloaded; check it, "+
			"or raise the stall timeout in Settings if the model is just slow", s.baseURL, d))}
}

// toolProgress counts the bytes of each tool call's arguments as they stream
// and says when the faces should hear of it.
type toolProgress struct {
	bytes map[int64]int
	told  map[int64]int
}

// add counts n more bytes for the call at index and reports whether to emit
// an EventToolInput: at the call's start and each ToolInputStep bytes.
func (p *toolProgress) add(index int64, n int) (total int, tell bool) {
	if p.bytes == nil {
		p.bytes, p.told = map[int64]int{}, map[int64]int{}
	}
	_, seen := p.told[index]
	p.bytes[index] += n
	total = p.bytes[index]
	if !seen || total-p.told[index] >= ToolInputStep {
		p.told[index] = total
		return total, true
	}
	return total, false
}
