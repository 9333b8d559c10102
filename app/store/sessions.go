package store

import (
	"context"
	"fmt"
	"time"
)

// Session is one chat in a group.
type Session struct {
	ID      string
	Group   string
	Title   string
	Status  string // "open" (the only status today; kept for archiving later)
	Created time.Time
	Updated time.Time
}

// CreateSession stores a new session of an existing group.
func (s *Store) CreateSession(ctx context.Context, ss Session) (Session, error) {
	if err := s.writable("create session"); err != nil {
		return ss, err
	}
	if ss.Status == "" {
		ss.Status = "open"
	}
	ss.Created = s.opts.Now().UTC()
	ss.Updated = ss.Created
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (id, group_slug, title, status, created, updated) VALUES (?, ?, ?, ?, ?, ?)`,
		ss.ID, ss.Group, ss.Title, ss.Status, formatTime(ss.Created), formatTime(ss.Updated))
	switch {
	case isUnique(err):
		return ss, fmt.Errorf("session %q %w", ss.ID, ErrExists)
	case err != nil && isForeignKey(err):
		return ss, fmt.Errorf("group %q %w", ss.Group, ErrNotFound)
	case err != nil:
		return ss, fmt.Errorf("create session in %s: %w", s.path, classify(err))
	}
	return ss, nil
}

// Session reads one session.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	ss, err := s.sessions(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Session{}, err
	}
	if len(ss) == 0 {
		return Session{}, fmt.Errorf("session %q %w", id, ErrNotFound)
	}
	return ss[0], nil
}

// Sessions lists a group's sessions, most recently active first.
func (s *Store) Sessions(ctx context.Context, group string) ([]Session, error) {
	return s.sessions(ctx, `WHERE group_slug = ? ORDER BY updated DESC, id`, group)
}

func (s *Store) sessions(ctx context.Context, where string, args ...any) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, group_slug, title, status, created, updated FROM sessions `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", classify(err))
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var ss Session
		var created, updated string
		if err := rows.Scan(&ss.ID, &ss.Group, &ss.Title, &ss.Status, &created, &updated); err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		ss.Created, _ = time.Parse(timeLayout, created)
		ss.Updated, _ = time.Parse(timeLayout, updated)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// TouchSession marks a session as active now (it sorts first).
func (s *Store) TouchSession(ctx context.Context, id string) error {
	return s.updateSession(ctx, id, "")
}

// RenameSession gives a session a new title and marks it as active now.
func (s *Store) RenameSession(ctx context.Context, id, title string) error {
	if title == "" {
		return fmt.Errorf("rename session %s: empty title", id)
	}
	return s.updateSession(ctx, id, title)
}

// updateSession sets updated to now, and the title when it is non-empty.
func (s *Store) updateSession(ctx context.Context, id, title string) error {
	if err := s.writable("update session"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET title = CASE WHEN ? = '' THEN title ELSE ? END, updated = ? WHERE id = ?`,
		title, title, formatTime(s.opts.Now().UTC()), id)
	if err != nil {
		return fmt.Errorf("update session %s: %w", id, classify(err))
	}
	return affected(res, "session "+id)
}

// DeleteSession removes a session and its messages. Its audit events stay.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.writable("delete session"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete session %s: %w", id, classify(err))
	}
	return affected(res, "session "+id)
}

// SetMessageStatus changes a message's status (pending → done, interrupted,
// canceled). Content never changes once stored.
func (s *Store) SetMessageStatus(ctx context.Context, id int64, status string) error {
	if err := s.writable("update message"); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE messages SET status = ? WHERE id = ?`, status, id)
	if err != nil {
		return fmt.Errorf("update message %d: %w", id, classify(err))
	}
	return affected(res, fmt.Sprintf("message %d", id))
}

// MessagesWithStatus lists the messages with a status across all sessions,
// oldest first: pending ones to run when the gate opens, running ones a
// crash left behind.
func (s *Store) MessagesWithStatus(ctx context.Context, status string) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT id, session, role, content, status, created, sha256 FROM messages WHERE status = ? ORDER BY id`, status)
	if err != nil {
		return nil, fmt.Errorf("read %s messages: %w", status, classify(err))
	}
	defer rows.Close()
	var ms []Message
	for rows.Next() {
		var m Message
		var created string
		if err := rows.Scan(&m.ID, &m.Session, &m.Role, &m.Content, &m.Status, &created, &m.SHA256); err != nil {
			return nil, fmt.Errorf("read %s messages: %w", status, err)
		}
		m.Created, _ = time.Parse(timeLayout, created)
		ms = append(ms, m)
	}
	return ms, rows.Err()
}
