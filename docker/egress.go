package docker

import (
	"context"
	"net"
	"strings"
	"sync"
)

// Network egress through the host (ARCHITECTURE.md, "Network policy"): a
// sandbox created with Spec.Egress keeps NetworkMode none; its helper
// listens on EgressListen and carries each connection it accepts as one
// stream of its channel to Berth, which calls the client's EgressHandler.
// The docker package only moves bytes: what may pass is decided by the
// handler (app/egress, wired by app/assistant).
const (
	EgressListen   = "127.0.0.1:3128"
	EgressProxyURL = "http://" + EgressListen
)

// EgressHandler serves one connection that a process in sandboxID opened
// to the helper's proxy port. It runs on a goroutine of its own and owns
// conn: closing it closes the sandbox's side. ctx ends when the helper's
// channel ends or the client closes.
//
// conn is one stream of the helper's channel. A half-close by the
// sandbox's client reads as EOF; conn has no CloseWrite, and its Close
// ends the client's connection once the bytes written are delivered. At
// most helper.MaxEgress connections of one sandbox are handed over at once.
type EgressHandler func(ctx context.Context, sandboxID string, conn net.Conn)

type egressHandlers struct {
	mu sync.Mutex
	fn EgressHandler
}

// ServeEgress sets the handler for the connections of every sandbox this
// client created with Spec.Egress. nil (the default) refuses them: each
// connection is closed at once, so the sandbox gets no network at all.
func (c *Client) ServeEgress(h EgressHandler) {
	c.egress.mu.Lock()
	defer c.egress.mu.Unlock()
	c.egress.fn = h
}

// egressHandler is the current handler, or nil.
func (c *Client) egressHandler() EgressHandler {
	c.egress.mu.Lock()
	defer c.egress.mu.Unlock()
	return c.egress.fn
}

// egressVars are the variables EgressEnv sets; a spec may not set them.
var egressVars = []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"}

// EgressEnv is the environment every process in a sandbox with egress
// gets (it is the container's own, so the helper's calls and docker exec
// both carry it): curl, wget, git, pip, npm, go and apt then use the
// helper's proxy, except for the sandbox's own loopback.
func EgressEnv() []string {
	env := make([]string, 0, len(egressVars))
	for _, k := range egressVars {
		v := EgressProxyURL
		if strings.EqualFold(k, "NO_PROXY") {
			v = "localhost,127.0.0.1"
		}
		env = append(env, k+"="+v)
	}
	return env
}

// egressState is what a helper slot knows of its sandbox's Spec.Egress.
type egressState int8

const (
	egressUnknown egressState = iota
	egressOff
	egressOn
)

func egressStateOf(on bool) egressState {
	if on {
		return egressOn
	}
	return egressOff
}

// withoutHelper is what ExecPath adds when a sandbox with egress has no
// helper: its only way out is missing, so it has no network (fail closed).
func (e egressState) withoutHelper() string {
	if e == egressOn {
		return "; network egress needs the helper, so this sandbox has no network until one runs"
	}
	return ""
}

// slotEgress says whether a sandbox has egress: known from its creation by
// this client, or read from its LabelEgress. The caller holds s.mu.
func (c *Client) slotEgress(ctx context.Context, s *helperSlot, sandboxID string) (bool, error) {
	if s.egress == egressUnknown {
		sb, err := c.InspectSandbox(ctx, sandboxID)
		if err != nil {
			return false, err
		}
		s.egress = egressStateOf(sb.Egress)
	}
	return s.egress == egressOn, nil
}

// noteEgress records, at a sandbox's creation, whether it has egress.
func (c *Client) noteEgress(sandboxID string, on bool) {
	c.helpers.mu.Lock()
	s := c.helpers.slots[sandboxID]
	if s == nil {
		s = &helperSlot{}
		c.helpers.slots[sandboxID] = s
	}
	c.helpers.mu.Unlock()
	s.mu.Lock()
	s.egress = egressStateOf(on)
	s.mu.Unlock()
}
