package egress

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog closes both ends of a connection when it has been idle for too
// long, when its total time is up, or when ctx ends (the gate closed, the
// sandbox went).
type watchdog struct {
	last atomic.Int64 // unix nanos of the last byte either way
	stop chan struct{}
	once sync.Once
}

func watch(ctx context.Context, lim Limits, conns ...io.Closer) *watchdog {
	w := &watchdog{stop: make(chan struct{})}
	w.touch()
	go func() {
		total := time.NewTimer(lim.Total)
		defer total.Stop()
		tick := time.NewTicker(min(lim.Idle/4, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
			case <-total.C:
			case <-tick.C:
				if time.Since(time.Unix(0, w.last.Load())) < lim.Idle {
					continue
				}
			}
			for _, c := range conns {
				c.Close()
			}
			return
		}
	}()
	return w
}

func (w *watchdog) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *watchdog) done() { w.once.Do(func() { close(w.stop) }) }

// counter counts the bytes written through it and marks activity.
type counter struct {
	w   io.Writer
	n   int64
	dog *watchdog
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.dog.touch()
	return n, err
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// pipe copies both ways until both are done (half-closes are passed on),
// and returns the bytes sent up (by the sandbox) and down.
func pipe(ctx context.Context, client net.Conn, fromClient io.Reader, upstream net.Conn, lim Limits) (up, down int64) {
	dog := watch(ctx, lim, client, upstream)
	defer dog.done()
	upc := &counter{w: upstream, dog: dog}
	downc := &counter{w: client, dog: dog}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(upc, fromClient)
		closeWrite(upstream)
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(downc, upstream)
		closeWrite(client)
	}()
	wg.Wait()
	return upc.n, downc.n
}

// forward sends one plain-HTTP request on in origin form (without the
// proxy's own headers, asking the server to close after it) and copies the
// answer back: one request per connection.
func forward(ctx context.Context, client net.Conn, req *http.Request, upstream net.Conn, lim Limits) (up, down int64) {
	dog := watch(ctx, lim, client, upstream)
	defer dog.done()
	req.RequestURI = ""
	for _, h := range []string{"Proxy-Authorization", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Upgrade"} {
		req.Header.Del(h)
	}
	req.Close = true
	upc := &counter{w: upstream, dog: dog}
	if err := req.Write(upc); err != nil {
		return upc.n, 0
	}
	downc := &counter{w: client, dog: dog}
	_, _ = io.Copy(downc, upstream)
	return upc.n, downc.n
}
