package store

import (
	"errors"
	"io/fs"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors that name a cause callers may want to act on, matched with errors.Is.
var (
	ErrDiskFull = errors.New("disk is full")
	ErrNotDB    = errors.New("file is not a database")
	ErrCorrupt  = errors.New("database file is damaged")
	ErrNoAccess = errors.New("database file or folder is read-only or not accessible")
)

// causeError keeps the driver's message and adds a cause for errors.Is.
type causeError struct {
	cause error
	err   error
	hint  string
}

func (e *causeError) Error() string   { return e.err.Error() + e.hint }
func (e *causeError) Unwrap() []error { return []error{e.cause, e.err} }

// classify tags SQLite and file system errors with one of the causes above.
func classify(err error) error {
	var done *causeError
	if errors.As(err, &done) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return &causeError{cause: ErrNoAccess, err: err}
		}
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return &causeError{cause: ErrDiskFull, err: err}
	case sqlite3.SQLITE_NOTADB:
		return &causeError{cause: ErrNotDB, err: err}
	case sqlite3.SQLITE_CORRUPT:
		return &causeError{cause: ErrCorrupt, err: err}
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
		return &causeError{cause: ErrNoAccess, err: err, hint: " (is the folder writable?)"}
	}
	return err
}
