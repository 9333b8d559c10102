package docker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/berth-app/berth/docker/helper"
	"github.com/hashicorp/yamux"
)

// Bounds on the streams a sandbox's helper opens towards Berth. Every one
// is untrusted: a process in the sandbox can take the helper's place.
const (
	// egressFirstFrame is how long a new stream may take to send its
	// Request frame.
	egressFirstFrame = 10 * time.Second
	// egressLinger is how long the helper has to close a stream after
	// Berth closed it, and egressDrain how many bytes may still arrive
	// (those in flight: at most a window): a helper that keeps a closed
	// stream open or goes on sending breaks the protocol.
	egressLinger = 30 * time.Second
	egressDrain  = 8 << 20
)

// streamAcceptor takes the streams one helper opens: KindEgress for a
// sandbox with egress, handed to the client's EgressHandler; anything else
// is closed. At most helper.MaxEgress are served at once; a stream beyond
// that is closed at once, and a helper that holds twice as many open ends
// its channel.
type streamAcceptor struct {
	sess    *yamux.Session
	sandbox string
	egress  bool                 // the sandbox was created with Spec.Egress
	handler func() EgressHandler // the client's, read for each stream
	ctx     context.Context      // ends with the channel
	fail    func(error)          // ends the channel
	linger  time.Duration        // egressLinger unless a test says otherwise
	open    atomic.Int32         // streams not yet closed by both sides
	served  atomic.Int32         // of which handed to the handler
}

func (a *streamAcceptor) run() {
	for {
		st, err := a.sess.AcceptStream()
		if err != nil {
			return
		}
		if a.open.Add(1) > 2*helper.MaxEgress {
			a.fail(fmt.Errorf("%w: the helper holds more than %d streams open", helper.ErrProtocol, 2*helper.MaxEgress))
			return
		}
		go a.serve(st)
	}
}

// serve validates a stream's first frame, hands it to the handler, and
// once the handler is done (or refused it) closes it and waits for the
// helper to close its side.
func (a *streamAcceptor) serve(st *yamux.Stream) {
	defer a.open.Add(-1)
	if a.accept(st) {
		if h := a.handler(); h != nil {
			if a.served.Add(1) <= helper.MaxEgress {
				h(a.ctx, a.sandbox, st)
			}
			a.served.Add(-1)
		}
	}
	_ = st.Close()
	linger := cmp.Or(a.linger, egressLinger)
	_ = st.SetReadDeadline(time.Now().Add(linger))
	n, err := io.CopyN(io.Discard, st, egressDrain)
	switch {
	case err == io.EOF:
	case a.ctx.Err() != nil:
	case n == egressDrain:
		a.fail(fmt.Errorf("%w: the helper sent %d bytes more on a stream Berth had closed", helper.ErrProtocol, n))
	case err == yamux.ErrTimeout:
		a.fail(fmt.Errorf("%w: the helper kept a stream open %s after Berth closed it", helper.ErrProtocol, linger))
	}
}

// accept reads the stream's Request frame: only KindEgress, only for a
// sandbox with egress. A malformed frame closes this stream only.
func (a *streamAcceptor) accept(st *yamux.Stream) bool {
	if !a.egress {
		return false
	}
	_ = st.SetReadDeadline(time.Now().Add(egressFirstFrame))
	typ, p, err := helper.ReadFrame(st, string(helper.FrameRequest))
	if err != nil || typ != helper.FrameRequest {
		return false
	}
	var req helper.Request
	if helper.ReadJSON(p, &req) != nil || req.Kind != helper.KindEgress {
		return false
	}
	_ = st.SetReadDeadline(time.Time{})
	return true
}

// errNoEgressListener: the helper answered but could not listen on
// EgressListen, so it cannot be this sandbox's way out (a second delivery
// would not change that).
var errNoEgressListener = errors.New("the helper cannot carry this sandbox's network")

// noHelperNoEgress is what HelperStatus adds when there is no helper.
const noHelperNoEgress = "; sandboxes with network egress (allowlist groups) get no network without it"

// egressNote is what ExecPath adds for a helper that carries its
// sandbox's network.
func (h *helperConn) egressNote() string {
	if !h.egress.egress {
		return ""
	}
	return fmt.Sprintf("; network egress: listening on %s (%d connections open)", EgressListen, h.egress.served.Load())
}
