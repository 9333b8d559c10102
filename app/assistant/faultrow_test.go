package assistant

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker/dockertest"
)

// observedChain verifies the audit chain, for the fault table.
func observedChain(t *testing.T, st *store.Store) dockertest.Chain {
	t.Helper()
	rep, err := st.Verify(context.Background())
	if err != nil {
		return dockertest.Chain{Err: err.Error()}
	}
	c := dockertest.Chain{Verified: true, OK: rep.OK, Events: rep.Events}
	if !rep.OK {
		c.Problem = fmt.Sprintf("#%d %s (%s)", rep.FirstBad, rep.Problem, rep.Reason)
	}
	return c
}

// observedKept counts which of the acknowledged messages are still stored.
func observedKept(t *testing.T, st *store.Store, session string, ids ...int64) dockertest.Kept {
	t.Helper()
	k := dockertest.Kept{What: "messages", Acked: len(ids)}
	ms, err := st.Messages(context.Background(), session)
	if err != nil {
		k.Err = err.Error()
		return k
	}
	have := map[int64]bool{}
	for _, m := range ms {
		have[m.ID] = true
	}
	for _, id := range ids {
		if have[id] {
			k.Found++
		}
	}
	return k
}

// observedOrphans counts running sandboxes of an installation that no
// running turn uses.
func observedOrphans(t *testing.T, svc *Service, keep ...string) dockertest.Orphans {
	t.Helper()
	list, err := svc.Sandboxes(context.Background())
	if err != nil {
		return dockertest.Orphans{Err: err.Error()}
	}
	var o dockertest.Orphans
	for _, sb := range list {
		if sb.Running() && !contains(keep, sb.ID) {
			o.Running++
		}
	}
	return o
}

// sessionSandboxes are the ids of a chat's own sandboxes (warm, not orphans).
func sessionSandboxes(t *testing.T, svc *Service, session string) []string {
	t.Helper()
	list, _ := svc.Sandboxes(context.Background())
	var ids []string
	for _, sb := range list {
		if sb.Session == session {
			ids = append(ids, sb.ID)
		}
	}
	return ids
}

// textOf pulls the readable text out of a tool result as sent to the model.
func textOf(raw string) string {
	if m := regexp.MustCompile(`"text":"((?:[^"\\]|\\.)*)"`).FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	return raw
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFaultSlowEngine puts 2 s of latency in front of every new connection
// to the engine: turns are slower, but the gate does not flap and nothing
// fails.
func TestFaultSlowEngine(t *testing.T) {
	t.Parallel()
	proxy, engine, svc, st := proxiedService(t, "slow proxy")
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if toolResultsThisTurn(req) > 0 {
			return llmtest.Reply{Text: []string{"slow but fine"}}
		}
		return llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "s", Name: "bash", Input: `{"command":"echo ok"}`}}}
	})
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 20*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	proxy.SetLatency(2 * time.Second)
	ctx := context.Background()
	start := time.Now()
	m, err := r.Send(ctx, ChatRequest{Group: "main", Text: "slow please"})
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, r, m.ID)
	took := time.Since(start)
	status, _ := messageStatus(t, st, res.Session, m.ID)
	if status != StatusDone || res.Text != "slow but fine" {
		t.Errorf("a turn on a slow engine: status %s, text %q", status, res.Text)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: AuditDockerPrefix + string(DockerDown)})
	if len(evs) != 0 {
		t.Errorf("the gate flapped on a slow engine: %+v", evs)
	}
	dockertest.ReportFault(t, dockertest.Fault{Fault: "slow engine (+2 s per connection)",
		Sees: fmt.Sprintf("turn %s after %s: %q; the gate closed %d times", status, took.Round(100*time.Millisecond), res.Text, len(evs)),
		Kept: observedKept(t, st, res.Session, m.ID), Chain: observedChain(t, st),
		Orphans: observedOrphans(t, svc, sessionSandboxes(t, svc, res.Session)...)})
}

// gateReason is the text the faces show while the gate is closed.
func gateReason(ev Event) string {
	if ev.Gate == nil {
		return ev.Text
	}
	r, h := ev.Gate.Reason, ev.Gate.Hint
	return strings.TrimSpace(r + " — " + h)
}
