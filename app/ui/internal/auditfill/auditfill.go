// Package auditfill makes a real audit log of many made-up events for the
// audit viewer's tests and benchmark: event #seq's group, session, kind and
// summary follow from seq, so that what each filter must match is known
// without asking the store. Its command (./fill) writes the log from a
// process of its own, built as the go command is told, not as the test
// binary that asks for it.
package auditfill

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-app/berth/app/store"
)

// Kinds cycle with seq. They are assistant.AuditExecStart, AuditExecEnd and
// AuditMountAdd, spelled out: the filler imports only the store, so that
// building it stays quick.
var Kinds = []string{"exec.start", "exec.end", "mount.add"}

// Event is event #seq as Fill writes it.
func Event(seq int64) store.Event {
	return store.Event{Group: []string{"home", "work"}[seq%2], Session: fmt.Sprintf("s%d", seq%5), Kind: Kinds[seq%3],
		Actor: store.ActorAgent, Summary: fmt.Sprintf("event %d", seq), Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq))}
}

// Fill writes events #1 to #n into a new audit log at path, in order.
func Fill(path string, n int) error {
	s, err := store.Open(path, store.Options{QueueSize: n + 1, MaxBatch: 5000})
	if err != nil {
		return err
	}
	defer s.Close()
	for seq := int64(1); seq <= int64(n); seq++ {
		s.Record(Event(seq))
	}
	// The writer commits in order: once this one is acknowledged, all are.
	last, err := s.Append(context.Background(), Event(int64(n)+1))
	if err != nil {
		return err
	}
	if last.Seq != int64(n)+1 || s.Err() != nil {
		return fmt.Errorf("the last event got #%d (store: %v), want #%d", last.Seq, s.Err(), n+1)
	}
	return s.Close()
}
