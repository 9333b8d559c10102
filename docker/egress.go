package docker

import (
	"context"
	"net"
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
