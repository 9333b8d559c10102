package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Holder says who holds the lock.
type Holder struct {
	Pid   int       `json:"pid"`
	Kind  string    `json:"kind"` // "app" (the desktop app) or "cli" (one command)
	Since time.Time `json:"since"`
}

// ErrAlreadyRunning means another Berth holds this installation.
type ErrAlreadyRunning struct{ Holder Holder }

func (e *ErrAlreadyRunning) Error() string {
	if e.Holder.Kind == "app" {
		return fmt.Sprintf("Berth is already running (pid %d); use its window, or quit it first", e.Holder.Pid)
	}
	return fmt.Sprintf("Berth is already running (pid %d, a `berth` command); wait for it to finish", e.Holder.Pid)
}

// Lock is the held single-instance lock. The OS releases it if the process
// dies, so a crash never leaves Berth locked out.
type Lock struct{ f *os.File }

// Acquire takes the installation's lock for kind ("app" or "cli"). A
// command waits up to wait for another command to finish; it never waits
// for the desktop app, which holds the lock for as long as it runs.
func Acquire(p Paths, kind string, wait time.Duration) (*Lock, error) {
	if err := p.Ensure(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p.Lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", p.Lock, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p.Lock, err)
		}
		h := readHolder(p.Lock)
		if h.Kind == "app" || time.Now().After(deadline) {
			f.Close()
			return nil, &ErrAlreadyRunning{Holder: h}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.Marshal(Holder{Pid: os.Getpid(), Kind: kind, Since: time.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(b, 0)
		_ = f.Sync()
	}
	return &Lock{f: f}, nil
}

// Release gives the lock back.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing drops the flock
	l.f = nil
	return err
}

// Holder reads who holds the lock now, if anyone says so.
func readHolder(path string) Holder {
	b, err := os.ReadFile(path)
	var h Holder
	if err != nil || json.Unmarshal([]byte(strings.TrimSpace(string(b))), &h) != nil {
		return Holder{Kind: "unknown"}
	}
	return h
}
