package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendFillsInEvent(t *testing.T) {
	t.Parallel()
	clock := fakeClock()
	s := openStore(t, dbPath(t), Options{Now: clock})
	ctx := context.Background()
	first, err := s.Append(ctx, Event{
		Group: "work", Session: "s1", Kind: "exec.start", Actor: ActorAgent,
		Summary: "bash: ls\nthen more", Detail: []byte(` {"z": 1, "a": "<b>"} `),
		Seq: 99, Hash: "caller's", PrevHash: "caller's", // ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Append(ctx, Event{Kind: "app.start"})
	if err != nil {
		t.Fatal(err)
	}
	wantTime := time.Date(2026, 3, 1, 11, 0, 0, 124956789, time.UTC) // the fake clock's first tick, in UTC
	checks := []struct {
		name      string
		got, want any
	}{
		{"first seq", first.Seq, int64(1)},
		{"second seq", second.Seq, int64(2)},
		{"time", first.Time, wantTime},
		{"time zone", first.Time.Location(), time.UTC},
		{"summary on one line", first.Summary, "bash: ls then more"},
		{"canonical detail", string(first.Detail), `{"a":"<b>","z":1}`},
		{"empty detail", string(second.Detail), `{}`},
		{"default actor", second.Actor, ActorSystem},
		{"genesis link", first.PrevHash, GenesisHash},
		{"chain link", second.PrevHash, first.Hash},
		{"hash length", len(first.Hash), 64},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	evs, err := s.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || !sameEvent(evs[0], first) || !sameEvent(evs[1], second) {
		t.Fatalf("Events: got %+v, want the two appended events %+v, %+v", evs, first, second)
	}
}

func sameEvent(a, b Event) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Group == b.Group && a.Session == b.Session &&
		a.Kind == b.Kind && a.Actor == b.Actor && a.Summary == b.Summary &&
		string(a.Detail) == string(b.Detail) && a.PrevHash == b.PrevHash && a.Hash == b.Hash
}

func TestAppendRefusesBadEvents(t *testing.T) {
	t.Parallel()
	s := openStore(t, dbPath(t), Options{})
	cases := []struct {
		name string
		ev   Event
		want string
	}{
		{"no kind", Event{Summary: "x"}, "kind is empty"},
		{"unknown actor", Event{Kind: "x", Actor: "admin"}, `actor "admin"`},
		{"detail is an array", Event{Kind: "x", Detail: []byte(`[]`)}, "not a JSON object"},
		{"detail is broken", Event{Kind: "x", Detail: []byte(`{"a":`)}, "invalid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tc.ev)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Append: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	wantOK(t, verify(t, s), 0)
}

func TestEventsFilter(t *testing.T) {
	t.Parallel()
	s := openStore(t, dbPath(t), Options{})
	appendN(t, s, 12) // kinds cycle app.start, exec.start, exec.end, file.write, mount.add, approval.ask
	cases := []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all", Filter{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"group", Filter{Group: "home"}, []int64{2, 4, 6, 8, 10, 12}},
		{"session", Filter{Session: "s1"}, []int64{2, 5, 8, 11}},
		{"group and session", Filter{Group: "work", Session: "s0"}, []int64{1, 7}},
		{"kind prefix", Filter{Kind: "exec"}, []int64{2, 3, 8, 9}},
		{"kind prefix with .*", Filter{Kind: "exec.*"}, []int64{2, 3, 8, 9}},
		{"exact kind", Filter{Kind: "exec.end"}, []int64{3, 9}},
		{"prefix stops at dots", Filter{Kind: "exe"}, nil},
		{"since", Filter{Since: 9}, []int64{10, 11, 12}},
		{"limit", Filter{Limit: 3}, []int64{1, 2, 3}},
		{"newest", Filter{Limit: 3, Newest: true}, []int64{10, 11, 12}},
		{"newest of a kind", Filter{Kind: "exec", Limit: 3, Newest: true}, []int64{3, 8, 9}},
		{"nothing", Filter{Group: "oss"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := s.Events(context.Background(), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, ev := range evs {
				got = append(got, ev.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Events(%+v): got seqs %v, want %v", tc.f, got, tc.want)
			}
		})
	}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	t.Parallel()
	const writers, each = 16, 50
	s := openStore(t, dbPath(t), Options{MaxBatch: 7})
	var mu sync.Mutex
	var seqs []int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := testEvent(i)
				ev.Summary = fmt.Sprintf("writer %d event %d", w, i)
				if i%5 == 4 {
					s.Record(ev) // mixed in: fire and forget
					continue
				}
				got, err := s.Append(context.Background(), ev)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seqs = append(seqs, got.Seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err: got %v, want nil", err)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			t.Fatalf("seq %d acknowledged twice", seqs[i])
		}
	}
	r := openReader(t, s.Path())
	wantOK(t, verify(t, r), writers*each)
	evs, err := r.Events(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i+1, ev.Seq)
		}
		seen[ev.Summary] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("got %d distinct events, want %d", len(seen), writers*each)
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reported []error
	s := openStore(t, dbPath(t), Options{OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	for i := range 300 {
		s.Record(testEvent(i))
	}
	s.Record(Event{Summary: "no kind"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Record(testEvent(0))

	r := openReader(t, s.Path())
	wantOK(t, verify(t, r), 300) // Close committed everything queued
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 2 {
		t.Fatalf("OnError: got %v, want two errors", reported)
	}
	if !strings.Contains(reported[0].Error(), "kind is empty") {
		t.Errorf("OnError: got %v, want the invalid event reported", reported[0])
	}
	if !errors.Is(reported[1], ErrClosed) || !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("OnError and Err after Close: got %v and %v, want ErrClosed", reported[1], s.Err())
	}
}

// TestRecordQueueFull stalls the writer, overfills the queue with Record and
// checks that nothing blocks, the drops are reported, and the chain says so.
func TestRecordQueueFull(t *testing.T) {
	t.Parallel()
	var drops int
	var mu sync.Mutex
	s := openStore(t, dbPath(t), Options{QueueSize: 2, OnError: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(err.Error(), "queue is full") {
			drops++
		}
	}})
	ctx := context.Background()
	conn, err := s.w.Conn(ctx) // the writer's only connection: it now waits
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		s.Record(testEvent(i)) // must return even though nothing is written
	}
	conn.Close()
	if _, err := s.Append(ctx, Event{Kind: "test.after"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if drops == 0 {
		t.Fatalf("got no drops reported, want some (queue of 2, %d events, writer stalled)", n)
	}
	evs, err := s.Events(ctx, Filter{Kind: "audit.dropped"})
	if err != nil {
		t.Fatal(err)
	}
	// Drops counted before the stalled batch began are noted in it, the rest
	// in the next: one or two notices, adding up.
	noted := 0
	for _, ev := range evs {
		var d struct{ Count int }
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		noted += d.Count
	}
	if noted != drops {
		t.Fatalf("audit.dropped events: got %+v noting %d drops, want %d", evs, noted, drops)
	}
	all, err := s.Events(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := n - drops + len(evs) + 1; len(all) != want {
		t.Fatalf("got %d events, want %d kept + %d drop notices + test.after = %d", len(all), n-drops, len(evs), want)
	}
}

func TestAppendAfterCloseAndReadOnly(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	appendN(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Append(context.Background(), testEvent(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: got %v, want ErrClosed", err)
	}
	r := openReader(t, path)
	if _, err := r.Append(context.Background(), testEvent(0)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Append on a read-only store: got %v, want ErrReadOnly", err)
	}
	if _, err := r.AddMessage(context.Background(), Message{Session: "s", Role: "user"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("AddMessage on a read-only store: got %v, want ErrReadOnly", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2 := openStore(t, path, Options{})
	if _, err := s2.Append(ctx, testEvent(0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context: got %v, want context.Canceled", err)
	}
}

// TestFailedBatchKeepsChainGapFree makes one batch fail inside its transaction
// and checks that the next events continue the chain without a gap.
func TestFailedBatchKeepsChainGapFree(t *testing.T) {
	t.Parallel()
	path := dbPath(t)
	s := openStore(t, path, Options{})
	ctx := context.Background()
	appendN(t, s, 3)
	if _, err := s.w.Exec(`CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.summary = 'boom'
		BEGIN SELECT RAISE(ABORT, 'boom refused'); END`); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, Event{Kind: "test.boom", Summary: "boom"})
	if err == nil || !strings.Contains(err.Error(), "boom refused") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Append: got %v, want the trigger's error naming %s", err, path)
	}
	ev, err := s.Append(ctx, testEvent(4))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 4 {
		t.Fatalf("Append after a failed batch: got seq %d, want 4", ev.Seq)
	}
	wantOK(t, verify(t, s), 4)
}

func TestTriggersKeepEventsAppendOnly(t *testing.T) {
	t.Parallel()
	s := openStore(t, dbPath(t), Options{})
	appendN(t, s, 2)
	for _, q := range []string{`UPDATE events SET summary = 'x' WHERE seq = 1`, `DELETE FROM events WHERE seq = 2`} {
		if _, err := s.w.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only error", q, err)
		}
	}
	wantOK(t, verify(t, s), 2)
}

func TestMessages(t *testing.T) {
	t.Parallel()
	s := openStore(t, dbPath(t), Options{})
	ctx := context.Background()
	if _, err := s.w.Exec(`INSERT INTO groups (slug, name, created) VALUES ('work', 'Work', 'now');
		INSERT INTO sessions (id, group_slug, created, updated) VALUES ('s1', 'work', 'now', 'now')`); err != nil {
		t.Fatal(err)
	}
	m, err := s.AddMessage(ctx, Message{Session: "s1", Role: "user", Content: "hello", Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	const helloSHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if m.ID != 1 || m.SHA256 != helloSHA || m.Created.IsZero() {
		t.Fatalf("AddMessage: got %+v, want id 1, sha256 %s and a time", m, helloSHA)
	}
	if _, err := s.AddMessage(ctx, Message{Session: "s1", Role: "assistant", Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	ms, err := s.Messages(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != m.ID || ms[0].Content != "hello" || ms[0].SHA256 != helloSHA ||
		!ms[0].Created.Equal(m.Created) || ms[1].Content != "hi" {
		t.Fatalf("Messages: got %+v, want hello then hi", ms)
	}
	if _, err := s.AddMessage(ctx, Message{Session: "nope", Role: "user"}); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("AddMessage to an unknown session: got %v, want a foreign key error", err)
	}
	if _, err := s.AddMessage(ctx, Message{Session: "s1"}); err == nil {
		t.Errorf("AddMessage without a role: got nil error")
	}
}
