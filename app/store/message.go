package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Message is one chat message, stored before anything acts on it.
type Message struct {
	ID      int64
	Session string
	Role    string // e.g. "user", "assistant", "tool"
	Content string
	Status  string // e.g. "pending", "done", "interrupted"
	Created time.Time
	SHA256  string // hex digest of Content
}

// AddMessage stores m and returns it with ID, Created and SHA256 filled in.
// The caller then records an audit event whose Detail carries
// {"message_id": m.ID, "sha256": m.SHA256}, tying the chain to the text.
// The session must exist.
func (s *Store) AddMessage(ctx context.Context, m Message) (Message, error) {
	if s.w == nil {
		return Message{}, fmt.Errorf("add message: %w", ErrReadOnly)
	}
	if m.Session == "" || m.Role == "" {
		return Message{}, errors.New("add message: session and role are required")
	}
	sum := sha256.Sum256([]byte(m.Content))
	m.SHA256 = hex.EncodeToString(sum[:])
	m.Created = s.opts.Now().UTC()
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO messages (session, role, content, status, created, sha256) VALUES (?, ?, ?, ?, ?, ?)`,
		m.Session, m.Role, m.Content, m.Status, formatTime(m.Created), m.SHA256)
	if err != nil {
		return Message{}, fmt.Errorf("add message to session %s in %s: %w", m.Session, s.path, classify(err))
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return Message{}, fmt.Errorf("add message: %w", err)
	}
	return m, nil
}

// Messages returns a session's messages in the order they were added.
func (s *Store) Messages(ctx context.Context, session string) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT id, session, role, content, status, created, sha256 FROM messages WHERE session = ? ORDER BY id`, session)
	if err != nil {
		return nil, fmt.Errorf("read messages of session %s: %w", session, err)
	}
	defer rows.Close()
	var ms []Message
	for rows.Next() {
		var m Message
		var created string
		if err := rows.Scan(&m.ID, &m.Session, &m.Role, &m.Content, &m.Status, &created, &m.SHA256); err != nil {
			return nil, fmt.Errorf("read messages of session %s: %w", session, err)
		}
		m.Created, _ = time.Parse(time.RFC3339Nano, created)
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read messages of session %s: %w", session, err)
	}
	return ms, nil
}
