package agent

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// Live output: what a running bash call prints reaches the faces as
// EventToolOutput events, coalesced and bounded per call. The model's
// result is untouched: it still gets the capped output at the end.
const (
	LiveFlushEvery = 100 * time.Millisecond // at most this long between output and its event
	LiveFlushBytes = 4 << 10                // an event as soon as this much is pending
	LiveMaxBytes   = 64 << 10               // per call; then one note, and no more events
)

// liveCapNote ends a call's live output once LiveMaxBytes were shown.
var liveCapNote = fmt.Sprintf("\n[live output stops here after %d KiB; the call's result keeps its start and its end]\n", LiveMaxBytes>>10)

// liveOutput gathers a running command's output from the goroutines that
// read it, for the turn's goroutine to send.
type liveOutput struct {
	mu      sync.Mutex
	pending []byte
	taken   int  // bytes accepted so far, at most LiveMaxBytes
	capped  bool // more came than LiveMaxBytes
	noted   bool // the cap's note was sent
	kick    chan struct{}
}

func newLiveOutput() *liveOutput { return &liveOutput{kick: make(chan struct{}, 1)} }

// add takes a chunk of stdout or stderr, as they come; it never blocks.
func (l *liveOutput) add(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.noted {
		return
	}
	room := LiveMaxBytes - l.taken
	if len(p) > room {
		p, l.capped = p[:room], true
	}
	l.pending = append(l.pending, p...)
	l.taken += len(p)
	if len(l.pending) >= LiveFlushBytes || l.capped {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// take returns the text to send now: what is pending, less a character
// cut in half at its end (unless final), plus the cap's note once.
func (l *liveOutput) take(final bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.pending)
	if !final && !l.capped {
		n = completeRunes(l.pending)
	}
	out := text(l.pending[:n])
	l.pending = append(l.pending[:0], l.pending[n:]...)
	if l.capped && !l.noted {
		l.noted, l.pending = true, nil
		out += liveCapNote
	}
	return out
}

// completeRunes is the length of b less an incomplete UTF-8 sequence at its end.
func completeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// execLive runs req like exec and, when the call has a live output (x.live),
// hands the command's output to it while it runs — on the calling
// goroutine, so that events keep arriving on the goroutine of RunTurn.
func (x *executor) execLive(ctx context.Context, req ExecRequest) (ExecResult, error) {
	if x.live == nil {
		return x.exec(ctx, req)
	}
	live := newLiveOutput()
	req.OnOutput = live.add
	type ended struct {
		res ExecResult
		err error
	}
	done := make(chan ended, 1)
	go func() {
		res, err := x.exec(ctx, req)
		done <- ended{res, err}
	}()
	tick := time.NewTicker(LiveFlushEvery)
	defer tick.Stop()
	send := func(final bool) {
		if s := live.take(final); s != "" {
			x.live(s)
		}
	}
	for {
		select {
		case e := <-done:
			send(true)
			return e.res, e.err
		case <-tick.C:
			send(false)
		case <-live.kick:
			send(false)
		}
	}
}
