package assistant

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

func pctl(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}

// threeToolModel asks for three tool calls, then answers.
func threeToolModel(req llmtest.Request) llmtest.Reply {
	n := toolResultsThisTurn(req)
	calls := []string{
		`{"path":"/workspace/group/bench.txt","content":"hello\n"}`,
		`{"command":"cat /workspace/group/bench.txt"}`,
		`{"pattern":"hel+o"}`,
	}
	names := []string{"write_file", "bash", "grep"}
	if n >= 3 {
		return llmtest.Reply{Text: []string{"done"}}
	}
	return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: fmt.Sprintf("c%d", n), Name: names[n], Input: calls[n]}}}
}

// toolResultsThisTurn counts the tool results since the user's last text.
func toolResultsThisTurn(req llmtest.Request) int {
	msgs, _ := req.Body["messages"].([]any)
	n := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		m, _ := msgs[i].(map[string]any)
		if m["role"] != "user" {
			continue
		}
		blocks, _ := m["content"].([]any)
		results := 0
		for _, b := range blocks {
			if bm, _ := b.(map[string]any); bm["type"] == "tool_result" {
				results++
			}
		}
		if results == 0 {
			return n // the user's own message: the turn started here
		}
		n += results
	}
	return n
}

// TestPerfAgentTurn prints what a full turn (fake model, three tool calls in
// a warm sandbox, everything audited and stored) costs, and how much of it is
// Berth's own work rather than the engine's exec. Run by `make bench`.
func TestPerfAgentTurn(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	for _, path := range []string{docker.PathHelper, docker.PathDockerExec} {
		t.Run(path, func(t *testing.T) { perfAgentTurn(t, path) })
	}
}

func perfAgentTurn(t *testing.T, path string) {
	c := dockertest.Client(t)
	if path == docker.PathDockerExec {
		dockertest.WithoutHelper(c)
	}
	svc, _ := newService(t, c)
	fake := fakeModel(t, svc)
	fake.Respond(threeToolModel)
	ctx := context.Background()
	ss, err := svc.NewSession(ctx, "main", "bench")
	if err != nil {
		t.Fatal(err)
	}
	var turns, execs, own []time.Duration
	for i := 0; i < 21; i++ {
		var mu sync.Mutex
		var inExec time.Duration
		start := time.Now()
		res, err := svc.Chat(ctx, ChatRequest{Group: "main", Session: ss.ID, Text: fmt.Sprintf("turn %d", i),
			OnEvent: func(ev agent.Event) {
				if ev.Kind == agent.EventToolEnd {
					mu.Lock()
					inExec += ev.Duration
					mu.Unlock()
				}
			}})
		d := time.Since(start)
		if err != nil || res.Turn.ToolCalls != 3 {
			t.Fatalf("turn %d: %v (%d tool calls)", i, err, res.Turn.ToolCalls)
		}
		if i == 0 {
			continue // the first turn starts the sandbox
		}
		turns, execs, own = append(turns, d), append(execs, inExec), append(own, d-inExec)
	}
	fmt.Printf("\nA full agent turn: fake Anthropic model (real SDK, SSE), 3 tool calls in a warm sandbox through %s, all audited (20 turns)\n", path)
	fmt.Printf("%-54s %9s %9s %10s\n", "", "p50", "p95", "share")
	p50 := pctl(turns, 0.5)
	for _, row := range []struct {
		name string
		d    []time.Duration
	}{{"whole turn", turns}, {"  of which the 3 tool calls", execs}, {"  of which Berth (model I/O, audit, storage)", own}} {
		fmt.Printf("%-54s %9s %9s %9.0f%%\n", row.name, pctl(row.d, 0.5).Round(10*time.Microsecond), pctl(row.d, 0.95).Round(10*time.Microsecond), 100*float64(pctl(row.d, 0.5))/float64(p50))
	}
	fmt.Println()
}

// TestPerfConcurrentSessions prints throughput and latency of 10 chats at
// once (cap 4 sandboxes), against one chat alone measured in the same run.
func TestPerfConcurrentSessions(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	c := dockertest.Client(t)
	svc, _ := newService(t, c)
	fake := fakeModel(t, svc)
	fake.Respond(threeToolModel)
	r := startRuntime(t, svc, c, RuntimeConfig{MaxSandboxes: 4})
	ctx := context.Background()
	groups := []string{"g1", "g2", "g3", "g4"}
	for _, g := range groups {
		if _, err := svc.AddGroup(ctx, g, "", GroupSettings{}); err != nil {
			t.Fatal(err)
		}
	}
	one := func(group, session string) (time.Duration, string) {
		start := time.Now()
		m, err := r.Send(ctx, ChatRequest{Group: group, Session: session, Text: "go"})
		if err != nil {
			t.Fatal(err)
		}
		res := wait(t, r, m.ID)
		return time.Since(start), res.Session
	}
	// Alone, with a warm sandbox.
	_, s := one("g1", "")
	var alone []time.Duration
	for i := 0; i < 5; i++ {
		d, _ := one("g1", s)
		alone = append(alone, d)
	}
	// Ten chats at once, three rounds; sandboxes warm after the first.
	sessions := make([]string, 10)
	var lat []time.Duration
	var wall time.Duration
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := time.Now()
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				d, sess := one(groups[i%4], sessions[i])
				mu.Lock()
				sessions[i] = sess
				if round > 0 {
					lat = append(lat, d)
				}
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		if round > 0 {
			wall += time.Since(start)
		}
	}
	turns := float64(len(lat))
	fmt.Printf("\nTen chats in four groups at once, at most 4 sandboxes (2 rounds after warm-up; 3 tool calls per turn)\n")
	fmt.Printf("%-54s %9s %9s %10s\n", "", "p50", "p95", "vs alone")
	fmt.Printf("%-54s %9s %9s %9.1fx\n", "one chat alone: turn latency", pctl(alone, 0.5).Round(time.Millisecond), pctl(alone, 0.95).Round(time.Millisecond), 1.0)
	fmt.Printf("%-54s %9s %9s %9.1fx\n", "ten at once: turn latency", pctl(lat, 0.5).Round(time.Millisecond), pctl(lat, 0.95).Round(time.Millisecond), float64(pctl(lat, 0.5))/float64(pctl(alone, 0.5)))
	fmt.Printf("%-54s %9.1f turns/s (alone: %.1f turns/s)\n\n", "ten at once: throughput", turns/wall.Seconds(), 1/pctl(alone, 0.5).Seconds())
}
