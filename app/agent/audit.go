package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/berth-app/berth/app/actor"
)

// AuditEvent is one entry for the audit log. Detail never holds an API key.
type AuditEvent struct {
	Kind    string
	Summary string
	Actor   string // ActorAgent, ActorUser or ActorSystem
	Detail  map[string]any
}

// The kinds of AuditEvent.
const (
	AuditModelRequest  = "model.request"  // after each model request: provider, model, messages, tokens
	AuditToolCall      = "tool.call"      // before a call runs: tool, input (capped) and its sha256
	AuditToolResult    = "tool.result"    // after: exit code, duration, bytes, truncated, is_error
	AuditFileWrite     = "file.write"     // after write_file or edit_file: path, size, sha256
	AuditApprovalAsk   = "approval.ask"   // a call waits for the user
	AuditApprovalGrant = "approval.grant" // the user allowed it (once or always)
	AuditApprovalDeny  = "approval.deny"  // the user denied it
)

// The actors of an AuditEvent.
const (
	ActorAgent  = actor.Agent
	ActorUser   = actor.User
	ActorSystem = actor.System
)

// AuditInputCap is how many bytes of a tool's input an audit event keeps;
// the sha256 of the whole input is always there.
const AuditInputCap = 4 << 10

// Recorder writes an AuditEvent. An error stops the turn before anything else
// runs: nothing happens that the log does not hold.
type Recorder func(ctx context.Context, ev AuditEvent) error

// record writes ev, or does nothing when no Recorder is set.
func (r Recorder) record(ctx context.Context, ev AuditEvent) error {
	if r == nil {
		return nil
	}
	// The log must get the event even when the turn is being canceled.
	if err := r(context.WithoutCancel(ctx), ev); err != nil {
		return &auditError{kind: ev.Kind, err: err}
	}
	return nil
}

// auditError is a failed audit write: the turn stops on it.
type auditError struct {
	kind string
	err  error
}

func (e *auditError) Error() string { return fmt.Sprintf("audit %s: %v", e.kind, e.err) }
func (e *auditError) Unwrap() error { return e.err }

// sha256Hex returns the hex sha256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// auditInput describes a tool's input for the log: the input itself when it
// is small JSON, else its first AuditInputCap bytes as text; always its size
// and sha256.
func auditInput(detail map[string]any, input []byte) {
	detail["input_bytes"] = len(input)
	detail["input_sha256"] = sha256Hex(input)
	if len(input) <= AuditInputCap && json.Valid(input) {
		detail["input"] = json.RawMessage(input)
		return
	}
	detail["input"] = string(cutUTF8(input, AuditInputCap))
	detail["input_truncated"] = len(input) > AuditInputCap
}
