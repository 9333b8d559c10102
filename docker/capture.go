package docker

import (
	"fmt"
	"sync"
)

// Output is what one stream of an exec produced, capped: when it was longer
// than the cap, Data holds its head and its tail around a marker that says
// how much was cut. Bytes are kept as they came (not all output is UTF-8).
type Output struct {
	Data      []byte `json:"-"`
	Total     int64  `json:"total_bytes"`
	Truncated bool   `json:"truncated"`
}

func (o Output) String() string { return string(o.Data) }

// capture keeps the first half and the last half of a stream up to limit
// bytes in all, so that both how a command started and how it ended survive.
type capture struct {
	mu    sync.Mutex
	limit int
	head  []byte
	tail  []byte // ring buffer of the last limit-len(head) bytes
	pos   int    // next write position in tail once it is full
	full  bool
	total int64
}

func newCapture(limit int) *capture {
	if limit < 64 {
		limit = 64
	}
	return &capture{limit: limit}
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.total += int64(n)
	headCap := c.limit / 2
	if len(c.head) < headCap {
		k := min(headCap-len(c.head), len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	tailCap := c.limit - headCap
	for len(p) > 0 {
		if !c.full {
			k := min(tailCap-len(c.tail), len(p))
			c.tail = append(c.tail, p[:k]...)
			p = p[k:]
			if len(c.tail) == tailCap {
				c.full = true
				c.pos = 0
			}
			continue
		}
		if len(p) >= tailCap { // only the last tailCap bytes can survive
			copy(c.tail, p[len(p)-tailCap:])
			c.pos = 0
			break
		}
		k := copy(c.tail[c.pos:], p)
		p = p[k:]
		c.pos = (c.pos + k) % tailCap
	}
	return n, nil
}

// Output returns what was kept, with a truncation marker where bytes were cut.
func (c *capture) Output() Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	tail := c.tail
	if c.full && c.pos > 0 {
		tail = append(append([]byte{}, c.tail[c.pos:]...), c.tail[:c.pos]...)
	}
	kept := int64(len(c.head) + len(tail))
	out := Output{Total: c.total}
	data := append([]byte{}, c.head...)
	if cut := c.total - kept; cut > 0 {
		out.Truncated = true
		data = append(data, fmt.Sprintf("\n[… %d bytes cut: output is capped at %d bytes, head and tail kept …]\n", cut, c.limit)...)
	}
	out.Data = append(data, tail...)
	return out
}
