package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// TurnEnd is what a finished turn leaves behind.
type TurnEnd struct {
	MessageID int64     // the user's message, whose status changes
	Status    string    // its new status
	Messages  []Message // what the turn produced, in order (Status and Session set)
	// Event is the turn's audit event; its detail gains "messages": the
	// stored messages' ids, roles and sha256.
	Event Event
}

// FinishTurn stores a turn's messages, the user message's new status and the
// turn's audit event in one transaction: either all of it is kept or none.
// It returns the stored messages and the event.
func (s *Store) FinishTurn(ctx context.Context, t TurnEnd) ([]Message, Event, error) {
	r, err := prepare(t.Event)
	if err != nil {
		return nil, Event{}, fmt.Errorf("finish turn: %w", err)
	}
	var stored []Message
	req := &request{r: r, done: make(chan result, 1), tx: func(ctx context.Context, tx *sql.Tx, r *row) error {
		stored = stored[:0]
		ids := make([]map[string]any, 0, len(t.Messages))
		for _, m := range t.Messages {
			if m.Session == "" || m.Role == "" {
				return errors.New("a message needs a session and a role")
			}
			sum := sha256.Sum256([]byte(m.Content))
			m.SHA256 = hex.EncodeToString(sum[:])
			m.Created = s.opts.Now().UTC()
			res, err := tx.ExecContext(ctx, `INSERT INTO messages (session, role, content, status, created, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
				m.Session, m.Role, m.Content, m.Status, formatTime(m.Created), m.SHA256)
			if err != nil {
				return fmt.Errorf("add message to session %s: %w", m.Session, err)
			}
			if m.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			stored = append(stored, m)
			ids = append(ids, map[string]any{"message_id": m.ID, "role": m.Role, "sha256": m.SHA256})
		}
		res, err := tx.ExecContext(ctx, `UPDATE messages SET status = ? WHERE id = ?`, t.Status, t.MessageID)
		if err != nil {
			return fmt.Errorf("update message %d: %w", t.MessageID, err)
		}
		if err := affected(res, fmt.Sprintf("message %d", t.MessageID)); err != nil {
			return err
		}
		detail := map[string]any{}
		dec := json.NewDecoder(strings.NewReader(r.detail))
		dec.UseNumber()
		if err := dec.Decode(&detail); err != nil {
			return err
		}
		detail["messages"] = ids
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		r.detail, err = canonicalJSON(b)
		return err
	}}
	if err := s.enqueue(ctx, req); err != nil {
		return nil, Event{}, fmt.Errorf("finish turn: %w", err)
	}
	select {
	case res := <-req.done:
		if res.err != nil {
			return nil, Event{}, fmt.Errorf("finish turn: %w", res.err)
		}
		return stored, res.ev, nil
	case <-ctx.Done():
		return nil, Event{}, fmt.Errorf("finish turn: %w (it may still be stored)", ctx.Err())
	}
}
