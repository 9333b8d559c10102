package store

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

const eventColumns = `seq, time, group_slug, session, kind, actor, summary, detail, prev_hash, hash`

// text scans a TEXT column without copying; NULL, possible only after
// tampering, becomes "".
type text string

func (t *text) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*t = text(v)
	case []byte:
		*t = text(v)
	case nil:
		*t = ""
	default:
		*t = text(fmt.Sprint(v))
	}
	return nil
}

// scanner is *sql.Rows or *sql.Row.
type scanner interface{ Scan(dest ...any) error }

func scanRow(sc scanner, r *row) error {
	return sc.Scan(&r.seq, (*text)(&r.time), (*text)(&r.group), (*text)(&r.session), (*text)(&r.kind),
		(*text)(&r.actor), (*text)(&r.summary), (*text)(&r.detail), (*text)(&r.prevHash), (*text)(&r.hash))
}

// Filter selects events for Events. Zero fields match everything.
type Filter struct {
	Group   string
	Session string
	// Kind matches the kind itself and every kind below it: "exec" matches
	// "exec", "exec.start" and "exec.end" but not "executor". A trailing ".*"
	// is allowed and means the same.
	Kind  string
	Since int64 // only events after this seq
	Limit int   // at most this many; 0 means no limit
	// Newest picks the last Limit matching events instead of the first.
	// Either way they are returned oldest first.
	Newest bool
}

// Events returns the events matching f, oldest first.
func (s *Store) Events(ctx context.Context, f Filter) ([]Event, error) {
	var where []string
	var args []any
	if f.Group != "" {
		where, args = append(where, "group_slug = ?"), append(args, f.Group)
	}
	if f.Session != "" {
		where, args = append(where, "session = ?"), append(args, f.Session)
	}
	if k := strings.TrimSuffix(f.Kind, ".*"); k != "" {
		// Kinds below k sort between k+"." and k+"/" ('/' follows '.'), byte-wise.
		where = append(where, "(kind = ? OR (kind >= ? AND kind < ?))")
		args = append(args, k, k+".", k+"/")
	}
	if f.Since > 0 {
		where, args = append(where, "seq > ?"), append(args, f.Since)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit events from %s: %w", s.path, err)
	}
	defer rows.Close()
	var evs []Event
	var r row
	for rows.Next() {
		if err := scanRow(rows, &r); err != nil {
			return nil, fmt.Errorf("read audit events from %s: %w", s.path, err)
		}
		evs = append(evs, r.event())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit events from %s: %w", s.path, err)
	}
	if f.Newest {
		slices.Reverse(evs)
	}
	return evs, nil
}

// exportRecord is one JSONL line. Fields hold the stored text, so anyone can
// recompute the hashes from an export (see canonical).
type exportRecord struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Group    string          `json:"group"`
	Session  string          `json:"session"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	Summary  string          `json:"summary"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// exportColumns is the CSV header.
var exportColumns = []string{"seq", "time", "group", "session", "kind", "actor", "summary", "detail", "prev_hash", "hash"}

// Export writes every event, oldest first, as "jsonl" (one JSON object a line)
// or "csv" (with a header). It streams from one snapshot.
func (s *Store) Export(ctx context.Context, w io.Writer, format string) error {
	var put func(*row) error
	finish := func() error { return nil }
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case "jsonl":
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		put = func(r *row) error {
			rec := exportRecord{r.seq, r.time, r.group, r.session, r.kind, r.actor, r.summary,
				json.RawMessage(r.detail), r.prevHash, r.hash}
			if !json.Valid(rec.Detail) { // only after tampering; keep the text
				rec.Detail, _ = json.Marshal(r.detail)
			}
			return enc.Encode(rec)
		}
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(exportColumns); err != nil {
			return err
		}
		rec := make([]string, len(exportColumns))
		put = func(r *row) error {
			rec[0] = strconv.FormatInt(r.seq, 10)
			copy(rec[1:], []string{r.time, r.group, r.session, r.kind, r.actor, r.summary, r.detail, r.prevHash, r.hash})
			return cw.Write(rec)
		}
		finish = func() error { cw.Flush(); return cw.Error() }
	default:
		return fmt.Errorf("export audit events: unknown format %q (want jsonl or csv)", format)
	}
	err := s.export(ctx, put)
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("export audit events from %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) export(ctx context.Context, put func(*row) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM events ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r row
	for rows.Next() {
		if err := scanRow(rows, &r); err != nil {
			return err
		}
		if err := put(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

var (
	_ scanner = (*sql.Row)(nil)
	_ scanner = (*sql.Rows)(nil)
)
