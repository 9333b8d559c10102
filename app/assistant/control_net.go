package assistant

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/berth-app/berth/app/egress"
)

// Network questions over the control socket: the Berth writes a ChatFrame
// with Net, the client answers with an ApprovalAnswer carrying Net, and a
// question settled otherwise (answered elsewhere, timed out) is followed by
// a frame with NetDone so that the client stops asking.

// socketNetAsker forwards a turn's network questions to the socket's client.
func socketNetAsker(write func(ChatFrame), mu *sync.Mutex, pending map[string]chan egress.Answer) NetAsker {
	return func(ctx context.Context, q NetQuestion) (egress.Answer, error) {
		ch := make(chan egress.Answer, 1)
		mu.Lock()
		pending[q.ID] = ch
		mu.Unlock()
		write(ChatFrame{Net: &q})
		select {
		case a := <-ch:
			return a, nil
		case <-ctx.Done():
			mu.Lock()
			delete(pending, q.ID)
			mu.Unlock()
			write(ChatFrame{NetDone: q.ID})
			return egress.Deny, ctx.Err()
		}
	}
}

// clientNet is the client's side: each question is asked on a goroutine
// of its own, until answered or settled by the Berth.
type clientNet struct {
	ctx    context.Context
	asker  NetAsker
	mu     sync.Mutex
	enc    *json.Encoder
	asks   map[string]context.CancelFunc
	wg     sync.WaitGroup
	sendMu sync.Mutex
}

func newClientNet(ctx context.Context, enc *json.Encoder, ask NetAsker) *clientNet {
	return &clientNet{ctx: ctx, asker: ask, enc: enc, asks: map[string]context.CancelFunc{}}
}

// send writes one answer line; answers come from several goroutines.
func (c *clientNet) send(v any) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.enc.Encode(v)
}

func (c *clientNet) ask(q NetQuestion) {
	if c.asker == nil {
		a := egress.Deny
		_ = c.send(ApprovalAnswer{CallID: q.ID, Net: &a})
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	c.mu.Lock()
	c.asks[q.ID] = cancel
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.done(q.ID)
		a, err := c.asker(ctx, q)
		if err != nil || ctx.Err() != nil {
			return
		}
		_ = c.send(ApprovalAnswer{CallID: q.ID, Net: &a})
	}()
}

// done stops asking about a question.
func (c *clientNet) done(id string) {
	c.mu.Lock()
	cancel := c.asks[id]
	delete(c.asks, id)
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (c *clientNet) stop() {
	c.mu.Lock()
	for _, cancel := range c.asks {
		cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
}
