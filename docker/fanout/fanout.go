// Package fanout hands every published value to every subscriber, in order,
// none dropped: each subscriber has its own unbounded queue, so a slow
// reader never blocks the publisher. The assistant's event bus and the
// Docker monitor's subscribers both use it; it lives under docker/ (it has
// nothing of Docker in it) because that is the lowest layer both may import.
package fanout

import "sync"

// Fanout is a set of subscribers. The zero value is ready to use.
type Fanout[T any] struct {
	mu   sync.Mutex
	subs map[*sub[T]]struct{}
}

type sub[T any] struct {
	mu    sync.Mutex
	queue []T
	wake  chan struct{}
	out   chan T
	done  chan struct{}
}

// Publish queues v for every current subscriber.
func (f *Fanout[T]) Publish(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.push(v)
	}
}

// Subscribe returns a channel that receives first, then every value
// published from now on; cancel ends the subscription and closes the
// channel. first is queued under the same lock as Publish, so nothing
// published meanwhile comes before it or is lost.
func (f *Fanout[T]) Subscribe(first ...T) (<-chan T, func()) {
	s := &sub[T]{wake: make(chan struct{}, 1), out: make(chan T), done: make(chan struct{})}
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[*sub[T]]struct{}{}
	}
	f.subs[s] = struct{}{}
	for _, v := range first {
		s.push(v)
	}
	f.mu.Unlock()
	go s.run()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(f.subs, s)
			f.mu.Unlock()
			close(s.done)
		})
	}
}

// Len is the number of subscribers.
func (f *Fanout[T]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (s *sub[T]) push(v T) {
	s.mu.Lock()
	s.queue = append(s.queue, v)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sub[T]) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		v := s.queue[0]
		var zero T
		s.queue[0] = zero // let the queue's array forget it
		s.queue = s.queue[1:]
		s.mu.Unlock()
		select {
		case s.out <- v:
		case <-s.done:
			return
		}
	}
}
