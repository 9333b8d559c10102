// Package store is Berth's only door to SQLite: the schema and its migrations,
// groups, mounts, sessions, messages and the tamper-evident audit chain.
//
// The audit chain is the events table. Each event's hash covers its seq, its
// content and the previous event's hash (see canonical), so an edit, a deletion,
// an insertion or a reordering anywhere breaks the chain at that point; Verify
// names the first bad event. A small anchor file beside the database holds the
// head of the chain, so that cutting events off the end is caught too.
//
// What a hash chain without a secret cannot catch: someone with write access to
// the files who appends well-formed events at the end, or who recomputes every
// hash from some point on and rewrites the anchor to match. Only a copy of the
// head kept elsewhere (an export, a printed hash) defends against that.
//
// All audit writes go through one writer goroutine that commits whatever is
// queued in one transaction (up to Options.MaxBatch events). Append waits until
// its event is committed; Record does not wait at all. Reads (Events, Verify,
// Export, Messages) use separate read-only connections and never wait for it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Defaults for Options.
const (
	DefaultMaxBatch  = 512
	DefaultQueueSize = 4096
)

// Errors callers can test for with errors.Is.
var (
	ErrClosed   = errors.New("audit store is closed")
	ErrReadOnly = errors.New("audit store is open read-only")
)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock that stamps events and messages; time.Now when nil.
	Now func() time.Time
	// MaxBatch caps the events committed in one transaction.
	MaxBatch int
	// QueueSize bounds the events waiting for the writer. When it is full,
	// Append waits (up to its context) and Record drops the event; see Record.
	QueueSize int
	// OnError, when set, hears about failures nobody else can be told of:
	// events given to Record that could not be stored, dropped events, anchor
	// writes that failed, and an anchor that did not match at Open. It may be
	// called from the writer goroutine or from Record's caller; it must return
	// quickly and must not call Append, Record or Close. Err returns the latest
	// one too.
	OnError func(error)
	// ReadOnly opens the database for reading only: no writer, no migrations,
	// safe beside a running app. OpenReadOnly sets it.
	ReadOnly bool
	// Room is the room in bytes the audit log keeps for itself on its disk
	// (see room.go): 0 means DefaultRoom, a negative value none.
	Room int64
}

// Store is an open Berth database. Its methods are safe for concurrent use.
type Store struct {
	path       string // absolute path of the database file
	anchorPath string
	opts       Options
	w          *sql.DB // one connection, writes only; nil when read-only
	r          *sql.DB // query_only connections for reads
	insert     *sql.Stmt
	minSpan    int64 // shortest range Verify walks in parallel; tests lower it

	mu       sync.RWMutex // guards closed against sends on queue
	closed   bool
	queue    chan *request
	stopped  chan struct{} // closed when the writer goroutine has returned
	dropped  atomic.Int64  // events Record could not queue, not yet noted in the chain
	roomGone atomic.Bool   // the room file (see room.go) is missing
	roomUsed atomic.Bool   // the room was used and the chain does not say so yet

	errMu   sync.Mutex
	lastErr error

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database at path for the app, the single
// writer, applies pending migrations, reconciles the anchor file and starts the
// writer goroutine. The folder must exist.
func Open(path string, opts Options) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open audit db %s: %w", path, err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	s := &Store{path: abs, anchorPath: abs + ".anchor", opts: opts, minSpan: defaultMinSpan}
	if opts.ReadOnly {
		if err := s.openReader(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := s.openWriter(); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing database for the read-only commands (audit
// tail, verify, export). It works beside a running app and never writes.
func OpenReadOnly(path string) (*Store, error) {
	return Open(path, Options{ReadOnly: true})
}

func (s *Store) openWriter() error {
	ctx := context.Background()
	// Berth's database holds the user's chats: create it private. SQLite gives
	// the -wal and -shm files the same mode as the database file.
	if f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return s.openErr(err)
	}
	w, err := sql.Open("sqlite", writerDSN(s.path))
	if err != nil {
		return s.openErr(err)
	}
	s.w = w
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		return s.openErr(err)
	}
	if err := migrate(ctx, w); err != nil {
		return s.openErr(err)
	}
	if s.insert, err = w.PrepareContext(ctx, insertEventSQL); err != nil {
		return s.openErr(err)
	}
	if err := s.openReader(); err != nil {
		return err
	}
	s.queue = make(chan *request, s.opts.QueueSize)
	s.stopped = make(chan struct{})
	notice, err := s.reconcileAnchor(ctx)
	if err != nil {
		return s.openErr(err)
	}
	if notice != nil {
		s.queue <- &request{r: *notice}
	}
	s.keepRoom()
	go s.writer()
	return nil
}

func (s *Store) openReader() error {
	if _, err := os.Stat(s.path); err != nil {
		return s.openErr(err)
	}
	err := s.connectReader(readerDSN(s.path))
	if errors.Is(err, ErrNoAccess) && s.opts.ReadOnly && !exists(s.path+"-wal") {
		// A WAL database in a read-only folder cannot get its -shm file. With no
		// -wal file there is nothing beyond the main file to read, and nobody
		// can write there, so reading it as immutable is exact.
		err = s.connectReader(readerDSN(s.path) + "&immutable=1")
	}
	if err != nil {
		return s.openErr(err)
	}
	return nil
}

func (s *Store) connectReader(dsn string) error {
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	// A query, not a Ping: opening a connection reads nothing, so a file that
	// is not a database is only noticed when the schema is read.
	var n int
	err = r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'`).Scan(&n)
	if err == nil && n == 0 {
		err = errors.New("no audit events table (is this a Berth database?)")
	}
	if err != nil {
		r.Close()
		return classify(err)
	}
	s.r = r
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// openErr names the file in an open failure and adds a hint for the usual causes.
func (s *Store) openErr(err error) error {
	return fmt.Errorf("open audit db %s: %w", s.path, classify(err))
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close stops accepting events, commits everything already queued, stops the
// writer and closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.queue != nil {
			close(s.queue)
			<-s.stopped
		}
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.insert != nil {
		errs = append(errs, s.insert.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close audit db %s: %w", s.path, err)
	}
	return nil
}

// Err returns the most recent background error (see Options.OnError), or nil.
func (s *Store) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.lastErr
}

// fail records a background error and passes it to Options.OnError.
func (s *Store) fail(err error) {
	s.errMu.Lock()
	s.lastErr = err
	s.errMu.Unlock()
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// The DSNs. Pragmas go in the DSN so that every pooled connection gets them.
//
// synchronous(FULL) rather than NORMAL: in WAL mode NORMAL already survives a
// killed process, but not a power cut, which may roll back the last commits. An
// acknowledged audit event must survive both; and the anchor file is written
// after each commit, so with NORMAL a power cut could leave the anchor ahead of
// the database, which Verify would rightly call a truncation. FULL costs one
// fsync of the WAL per batch, which batching amortises.
//
// _txlock=immediate makes every write transaction take the write lock at BEGIN,
// so the writer reads the chain head and appends under the same lock.
func writerDSN(path string) string {
	return "file:" + uriPath(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
}

// readerDSN opens with mode=ro (never creates or changes the file) and
// query_only as a second lock on the door.
func readerDSN(path string) string {
	return "file:" + uriPath(path) + "?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)"
}

// uriPath escapes the characters that end or alter the path in an SQLite URI.
func uriPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
}
