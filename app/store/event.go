package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-app/berth/app/actor"
)

// Actor says who caused an event.
type Actor string

// The actors an event can have.
const (
	ActorUser   Actor = actor.User
	ActorAgent  Actor = actor.Agent
	ActorSystem Actor = actor.System
)

// GenesisHash is the prev_hash of event 1: 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// timeLayout is RFC 3339 with a fixed nine-digit fraction, always in UTC. Unlike
// time.RFC3339Nano it never trims zeros, so stored times have one spelling and sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// hashDomain starts every hashed record; it names the format so that a future
// encoding can never collide with this one.
const hashDomain = "berth-audit-v1\x00"

// Event is one entry of the audit chain.
type Event struct {
	Seq      int64
	Time     time.Time // UTC, nanosecond precision
	Group    string
	Session  string
	Kind     string // dotted, e.g. "exec.start"
	Actor    Actor
	Summary  string          // one line for humans
	Detail   json.RawMessage // canonical JSON object, "{}" when empty
	PrevHash string          // hex
	Hash     string          // hex
}

// row is an event as stored: every field is the exact text in the database. The
// hash covers these bytes, so checking a row never depends on re-encoding anything.
type row struct {
	seq                               int64
	time, group, session, kind, actor string
	summary, detail, prevHash, hash   string
}

// canonical appends the hashed encoding of r (everything but r.hash) to buf.
//
// The encoding is
//
//	"berth-audit-v1" 0x00 || be64(seq) || lp(time) || lp(group) || lp(session) ||
//	lp(kind) || lp(actor) || lp(summary) || lp(detail) || prev_hash
//
// where lp(x) = be32(len(x)) || x and prev_hash is the 64 hex characters as stored.
// Length prefixes make it unambiguous ("ab"+"c" never equals "a"+"bc"); prev_hash
// comes last, so hash = sha256(canonical(row without hash) || prev_hash). The seq is
// hashed too: a row copied to another position no longer verifies.
func canonical(buf []byte, r *row) []byte {
	buf = append(buf, hashDomain...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.seq))
	for _, f := range [...]string{r.time, r.group, r.session, r.kind, r.actor, r.summary, r.detail} {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f)))
		buf = append(buf, f...)
	}
	return append(buf, r.prevHash...)
}

// hasher computes row hashes, reusing its buffers between calls.
type hasher struct {
	buf []byte
	hex [2 * sha256.Size]byte
}

// sum returns the hex hash of r as a byte slice valid until the next call.
func (h *hasher) sum(r *row) []byte {
	h.buf = canonical(h.buf[:0], r)
	s := sha256.Sum256(h.buf)
	hex.Encode(h.hex[:], s[:])
	return h.hex[:]
}

// matches reports whether r.hash is the hash of r's content.
func (h *hasher) matches(r *row) bool {
	return string(h.sum(r)) == r.hash
}

// seal fills in r.hash.
func (h *hasher) seal(r *row) {
	r.hash = string(h.sum(r))
}

// event converts a stored row to an Event. A time that does not parse (only
// possible after tampering) is left zero; Verify reports such rows.
func (r *row) event() Event {
	t, _ := time.Parse(time.RFC3339Nano, r.time)
	return Event{
		Seq:      r.seq,
		Time:     t.UTC(),
		Group:    r.group,
		Session:  r.session,
		Kind:     r.kind,
		Actor:    Actor(r.actor),
		Summary:  r.summary,
		Detail:   json.RawMessage(r.detail),
		PrevHash: r.prevHash,
		Hash:     r.hash,
	}
}

// formatTime returns the stored spelling of t.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// prepare checks ev and returns the row to store, without seq, time and hashes.
// It runs on the caller's goroutine, so a bad event is refused before it is queued.
func prepare(ev Event) (row, error) {
	if ev.Kind == "" {
		return row{}, errors.New("event kind is empty")
	}
	if strings.ContainsFunc(ev.Kind, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return row{}, fmt.Errorf("event kind %q contains spaces or control characters", ev.Kind)
	}
	switch ev.Actor {
	case "":
		ev.Actor = ActorSystem
	case ActorUser, ActorAgent, ActorSystem:
	default:
		return row{}, fmt.Errorf("event actor %q is not one of user, agent, system", ev.Actor)
	}
	detail, err := canonicalJSON(ev.Detail)
	if err != nil {
		return row{}, fmt.Errorf("event %s detail: %w", ev.Kind, err)
	}
	return row{
		group:   ev.Group,
		session: ev.Session,
		kind:    ev.Kind,
		actor:   string(ev.Actor),
		summary: oneLine(ev.Summary),
		detail:  detail,
	}, nil
}

// oneLine replaces line breaks and tabs with spaces so that a summary stays one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// canonicalJSON re-encodes a JSON object with sorted keys, no insignificant
// whitespace and no HTML escaping, so that the same object always has the same
// bytes. Numbers keep their literal spelling (1.0 stays 1.0). Empty input and
// null become "{}". Anything but an object is refused.
//
// The store keeps the canonical bytes and hashes exactly what it keeps: Verify and
// external checkers hash the stored text and never need a JSON encoder that
// behaves like this one.
func canonicalJSON(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] != '{' {
		return "", errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("invalid JSON: data after the object")
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}
