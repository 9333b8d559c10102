package ui

import (
	"fmt"

	"github.com/berth-app/berth/app/assistant"
)

// The audit viewer never reads the store on Fyne's thread: a move (the
// newest events, earlier ones, a new filter) and every page the list needs
// are read off it by these functions, which change nothing, and applied on
// it with start and put.

// auditStart is the first page of rows after a move, as read.
type auditStart struct {
	q     AuditQuery
	base  int64
	first []assistant.AuditEvent
	reads int
	err   error
}

// readLatest reads where the newest page of events matching q starts, and
// that page. Any goroutine.
func readLatest(fetch func(assistant.AuditFilter) ([]assistant.AuditEvent, error), q AuditQuery, size int) auditStart {
	s := auditStart{q: q, reads: 1}
	evs, err := fetch(q.filter(0, size, true))
	if err != nil {
		s.err = fmt.Errorf("read audit events: %w", err)
		return s
	}
	if len(evs) > 0 {
		s.base = evs[0].Seq - 1
	}
	return readFrom(fetch, s, size)
}

// readEarlier reads the first page of about a page of events before base
// (see AuditPager.Earlier). Any goroutine.
func readEarlier(fetch func(assistant.AuditFilter) ([]assistant.AuditEvent, error), q AuditQuery, base int64, size int) auditStart {
	s := auditStart{q: q}
	for span := int64(size); ; span *= 2 {
		from := max(base-span, 0)
		s.reads++
		evs, err := fetch(q.filter(from, 1, false))
		if err != nil {
			s.err = fmt.Errorf("read audit events: %w", err)
			return s
		}
		if (len(evs) > 0 && evs[0].Seq <= base) || from == 0 {
			s.base = from
			return readFrom(fetch, s, size)
		}
	}
}

func readFrom(fetch func(assistant.AuditFilter) ([]assistant.AuditEvent, error), s auditStart, size int) auditStart {
	s.reads++
	evs, err := fetch(s.q.filter(s.base, size, false))
	if err != nil {
		s.err = fmt.Errorf("read audit events: %w", err)
	}
	s.first = evs
	return s
}

// start makes the rows those of a move read by readLatest or readEarlier.
func (p *AuditPager) start(s auditStart) error {
	p.Fetches += s.reads
	p.query, p.starts, p.count, p.done = s.q, []int64{max(s.base, 0)}, 0, true
	p.pages, p.used = map[int][]assistant.AuditEvent{}, nil
	if s.err != nil {
		return s.err
	}
	p.pages[0] = s.first
	p.touch(0)
	p.count, p.done = len(s.first), len(s.first) < p.size()
	return nil
}

// cached is row i when its page is in memory, without reading the store.
// want is the page to read (-1 for none): row i's when it is not in
// memory, or the next one when row i is on the last known page and more
// may follow.
func (p *AuditPager) cached(i int) (ev assistant.AuditEvent, ok bool, want int) {
	size := p.size()
	k, off := i/size, i%size
	if i < 0 || k >= len(p.starts) {
		return assistant.AuditEvent{}, false, -1
	}
	evs, in := p.pages[k]
	if !in {
		return assistant.AuditEvent{}, false, k
	}
	p.touch(k)
	want = -1
	if k == len(p.starts)-1 && !p.done {
		if len(evs) < size {
			p.done = true
		} else {
			want = k + 1
		}
	}
	if off >= len(evs) {
		return assistant.AuditEvent{}, false, want
	}
	return evs[off], true, want
}

// wantFilter is the read of page k: a known page, or the one after the
// last known page (when that is in memory).
func (p *AuditPager) wantFilter(k int) (assistant.AuditFilter, bool) {
	switch {
	case k >= 0 && k < len(p.starts):
		return p.query.filter(p.starts[k], p.size(), false), true
	case k == len(p.starts) && !p.done:
		last := p.pages[k-1]
		if len(last) == 0 {
			return assistant.AuditFilter{}, false
		}
		return p.query.filter(last[len(last)-1].Seq, p.size(), false), true
	}
	return assistant.AuditFilter{}, false
}

// put keeps page k as read with f (by wantFilter); a page after the last
// known one extends the rows.
func (p *AuditPager) put(k int, f assistant.AuditFilter, evs []assistant.AuditEvent, err error) error {
	p.Fetches++
	if err != nil {
		return fmt.Errorf("read audit events: %w", err)
	}
	switch {
	case k < len(p.starts) && p.starts[k] == f.Since:
	case k == len(p.starts) && !p.done:
		if len(evs) == 0 {
			p.done = true
			return nil
		}
		p.starts = append(p.starts, f.Since)
		p.count += len(evs)
		p.done = len(evs) < p.size()
	default:
		return nil // the rows moved meanwhile
	}
	p.pages[k] = evs
	p.touch(k)
	for len(p.used) > max(p.Window, minWindow) {
		p.drop(p.used[0])
	}
	return nil
}
