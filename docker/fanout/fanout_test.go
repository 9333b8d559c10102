package fanout

import (
	"testing"
	"time"
)

func TestFanoutOrderedNoneDropped(t *testing.T) {
	t.Parallel()
	var f Fanout[int]
	fast, cancelFast := f.Subscribe(-1)
	defer cancelFast()
	slow, cancelSlow := f.Subscribe()
	defer cancelSlow()
	const n = 10000
	for i := range n {
		f.Publish(i) // never blocks, though slow is not read yet
	}
	if got := <-fast; got != -1 {
		t.Fatalf("first value: got %d, want -1", got)
	}
	for _, ch := range []<-chan int{fast, slow} {
		for i := range n {
			select {
			case got := <-ch:
				if got != i {
					t.Fatalf("got %d, want %d", got, i)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("value %d never arrived", i)
			}
		}
	}
}

func TestFanoutCancelClosesAndForgets(t *testing.T) {
	t.Parallel()
	var f Fanout[string]
	ch, cancel := f.Subscribe()
	f.Publish("queued")
	cancel()
	cancel() // twice is fine
	if f.Len() != 0 {
		t.Fatalf("subscribers after cancel: got %d, want 0", f.Len())
	}
	for range ch { // drains, then the channel closes
	}
	f.Publish("after") // no subscriber: nothing happens
}
