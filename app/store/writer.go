package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const insertEventSQL = `INSERT INTO events
	(seq, time, group_slug, session, kind, actor, summary, detail, prev_hash, hash)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// request is one event on its way to the writer. done is nil for Record.
type request struct {
	r    row
	done chan result
}

type result struct {
	ev  Event
	err error
}

// Append adds ev to the audit chain and returns once the transaction holding it
// has committed (the event is then "acknowledged": it survives a crash or power
// cut). The returned event has Seq, Time, PrevHash and Hash filled in and Detail
// in its stored, canonical form; fields the caller set for those are ignored.
//
// When the queue is full Append waits for room, up to ctx. If ctx ends after the
// event was queued, Append returns ctx's error but the event may still be stored.
func (s *Store) Append(ctx context.Context, ev Event) (Event, error) {
	r, err := prepare(ev)
	if err != nil {
		return Event{}, fmt.Errorf("append audit event: %w", err)
	}
	req := &request{r: r, done: make(chan result, 1)}
	if err := s.enqueue(ctx, req); err != nil {
		return Event{}, fmt.Errorf("append audit event %s: %w", ev.Kind, err)
	}
	select {
	case res := <-req.done:
		return res.ev, res.err
	case <-ctx.Done():
		return Event{}, fmt.Errorf("append audit event %s: %w (it may still be recorded)", ev.Kind, ctx.Err())
	}
}

func (s *Store) enqueue(ctx context.Context, req *request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.w == nil:
		return ErrReadOnly
	case s.closed:
		return ErrClosed
	}
	select {
	case s.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Record adds ev to the audit chain without waiting: for UI paths that must
// never block. It costs a validation and a channel send.
//
// If the queue is full Record does not wait (waiting could deadlock a caller
// the writer depends on, and would freeze the UI): the event is dropped, counted,
// and reported through Options.OnError and Err; the next batch the writer
// commits then starts with an "audit.dropped" system event carrying the count,
// so the loss itself is on the chain. Failures to store a recorded event are
// reported the same way.
func (s *Store) Record(ev Event) {
	r, err := prepare(ev)
	if err == nil {
		err = s.offer(&request{r: r})
	}
	if err != nil {
		s.fail(fmt.Errorf("record audit event %s: %w", ev.Kind, err))
	}
}

// offer queues req without waiting.
func (s *Store) offer(req *request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.w == nil:
		return ErrReadOnly
	case s.closed:
		return ErrClosed
	}
	select {
	case s.queue <- req:
		return nil
	default:
		s.dropped.Add(1)
		return errors.New("audit queue is full: event dropped")
	}
}

// writer is the one goroutine that writes events. It takes whatever is queued,
// up to MaxBatch, and commits it as one transaction.
func (s *Store) writer() {
	defer close(s.stopped)
	var h hasher
	batch := make([]*request, 0, s.opts.MaxBatch)
	for req := range s.queue {
		batch = append(batch[:0], req)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case req, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.writeBatch(&h, batch)
	}
}

// writeBatch commits batch, answers its callers, then moves the anchor.
func (s *Store) writeBatch(h *hasher, batch []*request) {
	var notice *request
	dropped := s.dropped.Swap(0)
	if dropped > 0 {
		notice = &request{r: row{
			kind:    "audit.dropped",
			actor:   string(ActorSystem),
			summary: fmt.Sprintf("%d audit events were dropped because the queue was full", dropped),
			detail:  fmt.Sprintf(`{"count":%d}`, dropped),
		}}
		batch = append([]*request{notice}, batch...)
	}
	var room *request
	if s.roomUsed.Swap(false) { // by the last anchor write
		room = s.roomNotice()
		batch = append([]*request{room}, batch...)
	}
	head, err := s.commit(h, batch)
	if err != nil && diskFull(err) && s.useRoom() {
		s.roomUsed.Store(false)
		if room == nil {
			room = s.roomNotice()
			batch = append([]*request{room}, batch...)
		}
		head, err = s.commit(h, batch)
	}
	if err != nil {
		// The transaction rolled back: none of these rows exist. The next batch
		// reads the head again inside its own transaction, so seq stays gap-free.
		s.dropped.Add(dropped)
		if room != nil {
			s.roomUsed.Store(true) // say so with the next batch
		}
		err = fmt.Errorf("append audit event to %s: %w", s.path, classify(err))
		lost := 0
		for _, req := range batch {
			if req.done != nil {
				req.done <- result{err: err}
			} else if req != notice && req != room {
				lost++
			}
		}
		if lost > 0 {
			s.fail(fmt.Errorf("%d recorded audit events lost: %w", lost, err))
		}
		return
	}
	for _, req := range batch {
		if req.done != nil {
			req.done <- result{ev: req.r.event()}
		}
	}
	// The anchor is written after the callers are answered: it may lag the
	// database by a batch after a crash, which Verify and Open allow for.
	err = writeAnchor(s.anchorPath, head)
	if err != nil && diskFull(err) && s.useRoom() {
		err = writeAnchor(s.anchorPath, head)
	}
	if err != nil {
		s.fail(fmt.Errorf("write audit anchor: %w", err))
	}
	if s.roomGone.Load() {
		s.keepRoom()
	}
}

// commit inserts batch as one transaction and returns the new head. The head is
// read inside the transaction (which holds the write lock), never cached, so a
// failed batch leaves nothing behind to correct.
func (s *Store) commit(h *hasher, batch []*request) (anchor, error) {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return anchor{}, err
	}
	defer tx.Rollback()
	head, err := readHead(ctx, tx)
	if err != nil {
		return anchor{}, err
	}
	ins := tx.StmtContext(ctx, s.insert)
	for _, req := range batch {
		r := &req.r
		r.seq = head.Seq + 1
		r.time = formatTime(s.opts.Now())
		r.prevHash = head.Hash
		h.seal(r)
		if _, err := ins.ExecContext(ctx, r.seq, r.time, r.group, r.session, r.kind, r.actor,
			r.summary, r.detail, r.prevHash, r.hash); err != nil {
			return anchor{}, err
		}
		head = anchor{Seq: r.seq, Hash: r.hash}
	}
	return head, tx.Commit()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readHead returns the last event's seq and hash, or seq 0 and GenesisHash.
func readHead(ctx context.Context, q querier) (anchor, error) {
	a := anchor{Hash: GenesisHash}
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&a.Seq, &a.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return anchor{Hash: GenesisHash}, nil
	}
	return a, err
}
