package helper

import (
	"io"
	"sync"
)

// Coalescer batches small writes into one write of w: yamux writes each
// frame's header and body separately, and through docker's attach stream
// every write to stdout becomes a frame of its own (with a header of its
// own). A writer goroutine sends whatever has gathered since its last
// write, so an idle channel adds no delay and a busy one sends big chunks.
type Coalescer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	w      io.Writer
	buf    []byte
	err    error
	closed bool
}

// maxPending bounds what Write holds before it waits for the writer.
const maxPending = 1 << 20

// NewCoalescer starts the writer goroutine for w.
func NewCoalescer(w io.Writer) *Coalescer {
	c := &Coalescer{w: w}
	c.cond = sync.NewCond(&c.mu)
	go c.loop()
	return c
}

func (c *Coalescer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.buf) >= maxPending && c.err == nil && !c.closed {
		c.cond.Wait()
	}
	if c.err != nil {
		return 0, c.err
	}
	if c.closed {
		return 0, io.ErrClosedPipe
	}
	c.buf = append(c.buf, p...)
	c.cond.Broadcast()
	return len(p), nil
}

// Close stops the writer once what was written has been sent.
func (c *Coalescer) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

func (c *Coalescer) loop() {
	var out []byte
	for {
		c.mu.Lock()
		for len(c.buf) == 0 && !c.closed {
			c.cond.Wait()
		}
		if len(c.buf) == 0 {
			c.mu.Unlock()
			return
		}
		out, c.buf = c.buf, out[:0]
		c.cond.Broadcast()
		c.mu.Unlock()
		if _, err := c.w.Write(out); err != nil {
			c.mu.Lock()
			c.err = err
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
	}
}
