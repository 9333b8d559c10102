package store

import (
	"bufio"
	"context"
	"fmt"
	"github.com/berth-app/berth/docker/dockertest"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashEnv names the database the helper process appends to.
const crashEnv = "BERTH_STORE_CRASH_DB"

// TestHelperProcess is not a test: TestCrashSafety runs the test binary again
// with crashEnv set, and this is the child. It appends from four goroutines and
// prints "seq summary" for every acknowledged event until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		dockertest.SkipDeliberately(t, "helper process for TestCrashSafety")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := range 4 {
		go func() {
			for i := 0; ; i++ {
				summary := fmt.Sprintf("pid %d goroutine %d event %d", os.Getpid(), g, i)
				ev, err := s.Append(context.Background(), Event{Kind: "test.crash", Summary: summary, Detail: []byte(`{"i":` + strconv.Itoa(i) + `}`)})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%d %s\n", ev.Seq, ev.Summary) // os.Stdout is unbuffered
				mu.Unlock()
			}
		}()
	}
	select {}
}

// TestCrashSafety kills an appending process at random moments and checks that
// every event it saw acknowledged survived, and that the chain still verifies.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	path := dbPath(t)
	acked := map[int64]string{}
	lagged := 0
	for round := range rounds {
		got, stderr := runAndKill(t, path, time.Duration(5+rand.IntN(76))*time.Millisecond)
		for seq, summary := range got {
			acked[seq] = summary
		}
		if len(got) == 0 {
			t.Fatalf("round %d: the child acknowledged nothing (stderr: %s)", round, stderr)
		}

		// Check the state exactly as the kill left it, before any Open repairs it.
		r := openReader(t, path)
		rep := verify(t, r)
		if !rep.OK {
			t.Fatalf("round %d: Verify after SIGKILL: got %+v, want OK", round, rep)
		}
		if rep.AnchorSeq < rep.HeadSeq {
			lagged++ // killed between a commit and its anchor write
		}
		evs, err := r.Events(context.Background(), Filter{})
		if err != nil {
			t.Fatal(err)
		}
		stored := make(map[int64]string, len(evs))
		for _, ev := range evs {
			stored[ev.Seq] = ev.Summary
		}
		for seq, summary := range acked {
			if stored[seq] != summary {
				t.Fatalf("round %d: acknowledged event %d %q: got %q in the database", round, seq, summary, stored[seq])
			}
		}
		r.Close()
	}
	t.Logf("%d rounds, %d acknowledged events survived, anchor lagging after %d kills", rounds, len(acked), lagged)
	// What the next start finds: Open, the acknowledged events, the chain.
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after the last kill: %v", err)
	}
	defer s.Close()
	kept := dockertest.Kept{What: "acknowledged events", Acked: len(acked)}
	evs, err := s.Events(context.Background(), Filter{})
	if err != nil {
		kept.Err = err.Error()
	}
	for _, ev := range evs {
		if summary, ok := acked[ev.Seq]; ok && summary == ev.Summary {
			kept.Found++
		}
	}
	var chain dockertest.Chain
	if rep, err := s.Verify(context.Background()); err != nil {
		chain.Err = err.Error()
	} else {
		chain = chainOf(rep)
	}
	chain.Note = fmt.Sprintf("anchor lagged after %d kills, allowed", lagged)
	dockertest.ReportFault(t, dockertest.Fault{Fault: fmt.Sprintf("Berth SIGKILLed mid-audit-write (%d rounds)", rounds),
		Sees: fmt.Sprintf("the next start opens the log (%d events)", len(evs)), Kept: kept,
		Chain: chain, Orphans: dockertest.Orphans{NotApplicable: "no sandbox"}})
}

// runAndKill starts the helper process on path, SIGKILLs it after it has
// acknowledged events for the given time, and returns what it acknowledged.
func runAndKill(t *testing.T, path string, after time.Duration) (map[int64]string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	sc := bufio.NewScanner(out)
	var once sync.Once
	for sc.Scan() {
		once.Do(func() { time.AfterFunc(after, func() { cmd.Process.Kill() }) })
		seqText, summary, ok := strings.Cut(sc.Text(), " ")
		seq, err := strconv.ParseInt(seqText, 10, 64)
		if !ok || err != nil {
			t.Fatalf("helper printed %q", sc.Text())
		}
		got[seq] = summary
	}
	cmd.Process.Kill() // in case it never printed
	cmd.Wait()
	return got, stderr.String()
}

// chainOf is a verify report as the fault table shows it.
func chainOf(rep Report) dockertest.Chain {
	c := dockertest.Chain{Verified: true, OK: rep.OK, Events: rep.Events}
	if !rep.OK {
		c.Problem = rep.Reason
	}
	return c
}
