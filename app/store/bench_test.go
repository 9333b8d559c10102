package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Each op of the append benchmarks is a fixed burst of events, so that even
// -benchtime 1x gives a meaningful events/s figure.
const (
	burstWriters = 64
	burstEach    = 32
	burst        = burstWriters * burstEach
)

// BenchmarkAppendBatched measures throughput with many writers waiting for
// their acks at once, so the writer commits large batches.
func BenchmarkAppendBatched(b *testing.B) {
	s := benchStore(b)
	appendBurst(b, s) // warm up: file growth and caches, not steady state
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		appendBurst(b, s)
	}
	b.ReportMetric(float64(b.N*burst)/time.Since(start).Seconds(), "events/s")
}

// appendBurst appends a burst from burstWriters goroutines at once.
func appendBurst(b *testing.B, s *Store) {
	var wg sync.WaitGroup
	for range burstWriters {
		wg.Go(func() {
			for range burstEach {
				if _, err := s.Append(context.Background(), benchEvent); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkRecord measures Record (fire and forget) from one goroutine, until
// everything recorded is committed.
func BenchmarkRecord(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	appendBurst(b, s) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range burst - 1 {
			s.Record(benchEvent)
		}
		// Batches commit in order: once this is acknowledged, so is the burst.
		if _, err := s.Append(ctx, benchEvent); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*burst)/time.Since(start).Seconds(), "events/s")
	if err := s.Err(); err != nil {
		b.Fatalf("background error: %v", err)
	}
}

// BenchmarkAppendSingle measures one Append at a time: every event is its own
// transaction, WAL fsync and anchor write.
func BenchmarkAppendSingle(b *testing.B) {
	const each = 200
	s := benchStore(b)
	ctx := context.Background()
	appendBurst(b, s) // warm up
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range each {
			if _, err := s.Append(ctx, benchEvent); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*each)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkVerify1M times Verify over a chain of one million events.
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	path := verifyDB(b, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		rep, err := s.Verify(context.Background())
		if err != nil || !rep.OK || rep.Events != n {
			b.Fatalf("got %+v, %v; want OK with %d events", rep, err, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(fi.Size()), "dbbytes/1M")
}

var benchEvent = Event{
	Group: "work", Session: "s-0123456789", Kind: "exec.end", Actor: ActorAgent,
	Summary: "bash: go test ./... exited 0 after 1.2s",
	Detail:  []byte(`{"argv":["bash","-c","go test ./..."],"duration_ms":1234,"exit":0,"output_bytes":5120}`),
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// verifyDB builds a chain of n events in b's temporary folder with one bulk
// transaction, hashed by the same code as the writer, and returns its path.
func verifyDB(b *testing.B, n int64) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "audit.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := bulkAppend(s, n, benchEvent); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// bulkAppend writes n events in one transaction, bypassing the writer queue.
func bulkAppend(s *Store, n int64, ev Event) error {
	base, err := prepare(ev)
	if err != nil {
		return err
	}
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	head, err := readHead(ctx, tx)
	if err != nil {
		return err
	}
	ins := tx.StmtContext(ctx, s.insert)
	var h hasher
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := base
		r.seq = head.Seq + 1
		r.time = formatTime(t0.Add(time.Duration(i) * time.Millisecond))
		r.summary = fmt.Sprintf("%s #%d", base.summary, r.seq)
		r.prevHash = head.Hash
		h.seal(&r)
		if _, err := ins.ExecContext(ctx, r.seq, r.time, r.group, r.session, r.kind, r.actor,
			r.summary, r.detail, r.prevHash, r.hash); err != nil {
			return err
		}
		head = anchor{Seq: r.seq, Hash: r.hash}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return writeAnchor(s.anchorPath, head)
}
