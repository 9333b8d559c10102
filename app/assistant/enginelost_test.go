package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// engineLostStage is one moment of a tool call at which the engine goes
// away: a request the cut fires on (the bytes never reach the engine), or,
// with no request, a cut once the command runs.
type engineLostStage struct {
	name string
	on   *regexp.Regexp // nil: cut once the command has written its file
}

// engineLostStages are the stages of a chat's first tool call, in the
// order they happen: the sandbox lookup, its create and start, the set-up
// exec of its tmpfs, the helper's delivery (in the background, beside the
// call), the command's exec, and the command running.
func engineLostStages() []engineLostStage {
	return []engineLostStage{
		{"lookup", regexp.MustCompile(`GET /v[0-9.]+/containers/json`)},
		{"create", regexp.MustCompile(`POST /v[0-9.]+/containers/create`)},
		{"start", regexp.MustCompile(`POST /v[0-9.]+/containers/[0-9a-f]{64}/start`)},
		{"tmpfs set-up", regexp.MustCompile(`berth-tmpfs`)},
		{"helper delivery", regexp.MustCompile("\x7fELF")},
		{"exec start", regexp.MustCompile(`stage-marker`)},
		{"mid-exec", nil},
	}
}

// engineLostReply is the fake model of the engine-lost tests: a bash call
// for the user's message (arm runs first, as the model answers), and "the
// command finished" for a tool result, which must never be asked for: the
// turn ends when Docker went away.
func engineLostReply(arm func(text string)) func(llmtest.Request) llmtest.Reply {
	return func(req llmtest.Request) llmtest.Reply {
		last := lastMessage(req)
		switch {
		case strings.Contains(last, "try again"):
			return llmtest.Reply{Text: []string{"Done this time."}}
		case strings.Contains(last, "tool_result"):
			return llmtest.Reply{Text: []string{"the command finished"}}
		}
		arm(last)
		return bashReply("t1", "Working on it. ", "touch stage-running; echo stage-marker; sleep 30")
	}
}

// modelAsked counts the model requests of a chat's message: 1 is the
// first, more mean the model was asked again after the tool call.
func modelAsked(fake *llmtest.Server, text string) int {
	n := 0
	for _, req := range fake.Requests() {
		if strings.Contains(string(req.Raw), text) {
			n++
		}
	}
	return n
}

// TestEngineLostDuringToolCall cuts the engine at each stage of a tool
// call, through the runtime (what the desktop app and `berth serve` run):
// the call's failure is not handed to the model, the turn ends at once as
// interrupted with the gate closed on Docker's reason, the message and the
// audit chain are kept (the call's tool.result says why it stopped), and
// once Docker is back the gate opens and the user's next message runs.
//
// The monitor's event stream is spared by the cut and its ping is an hour
// away, so that nothing but the failed call can tell the runtime that
// Docker went away: the worst case of a monitor that has not noticed yet
// (under load, or an engine host that dropped off the network, whose idle
// stream stays open). Before, the model was asked again with the failure as
// a tool result, answered "the command finished" at once, and the turn
// ended done.
func TestEngineLostDuringToolCall(t *testing.T) {
	t.Parallel()
	proxy, engine, svc, st := proxiedService(t, "test proxy")
	fake := fakeModel(t, svc)
	stages := engineLostStages()
	var mu sync.Mutex
	cuts := map[string]<-chan struct{}{}
	fake.Respond(engineLostReply(func(last string) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range stages {
			if s.on != nil && strings.Contains(last, "stage "+s.name+".") {
				cuts[s.name] = proxy.CutWhen(s.on, "/events")
			}
		}
	}))
	mon := docker.NewMonitor(engine, docker.MonitorConfig{Image: svc.Config.Image, Interval: time.Hour})
	mctx, stopMon := context.WithCancel(context.Background())
	go mon.Run(mctx)
	r := NewRuntime(svc, mon, RuntimeConfig{})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop(context.Background())
		stopMon()
	})
	events, unsub := r.Subscribe()
	defer unsub()
	waitEvent(t, events, 30*time.Second, "an open gate", func(ev Event) bool { return ev.Kind == EventGate && ev.Gate.Open })
	ctx := context.Background()

	var last ChatResult
	kept := dockertest.Kept{What: "messages"}
	var chats []string       // the stage chats: their sandboxes are warm, not orphans
	var banner string        // the gate's reason after the last stage
	seen := map[string]int{} // what the user saw, counted over the stages
	for _, s := range stages {
		text := "stage " + s.name + "."
		running := filepath.Join(svc.Paths.GroupDir("main"), "stage-running")
		if err := os.Remove(running); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		m, err := r.Send(ctx, ChatRequest{Group: "main", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if s.on == nil {
			waitEvent(t, events, 30*time.Second, "the bash call", isToolStart("t1"))
			waitFile(t, running)
			proxy.CutExcept("/events")
		}
		closedFirst := false
		var end Event
		waitEvent(t, events, 60*time.Second, "the turn's end", func(ev Event) bool {
			if ev.Kind == EventGate && !ev.Gate.Open {
				closedFirst = true
			}
			if ev.Kind == EventTurnEnd && ev.MessageID == m.ID {
				end = ev
				return true
			}
			return false
		})
		res := wait(t, r, m.ID)
		last = res
		status, _ := messageStatus(t, st, res.Session, m.ID)
		asked := modelAsked(fake, text)
		g := r.Gate()
		sees := fmt.Sprintf("turn %s, %q", status, cmp.Or(end.Err, res.Text))
		if !g.Open {
			sees += "; banner: " + g.Reason
		}
		t.Logf("%-16s the user sees: %s; the model was asked %d time(s)", s.name+":", sees, asked)
		k := observedKept(t, st, res.Session, m.ID)
		kept.Acked, kept.Found = kept.Acked+k.Acked, kept.Found+k.Found
		chats = append(chats, res.Session)
		seen[fmt.Sprintf("turn %s, model asked %d×", status, asked)]++
		banner = g.Reason
		mu.Lock()
		cut, armed := cuts[s.name]
		mu.Unlock()
		if s.on != nil && (!armed || !isClosed(cut)) {
			t.Errorf("%s: the cut never fired (the stage's request was not seen)", s.name)
		}
		if asked != 1 {
			t.Errorf("%s: the model was asked %d times for this message; want once (not again after the call failed)", s.name, asked)
		}
		if status != StatusInterrupted || res.Status != StatusInterrupted {
			t.Errorf("%s: got status %s (result %s), want interrupted", s.name, status, res.Status)
		}
		if g.Open || g.Docker != docker.Down || !closedFirst {
			t.Errorf("%s: the gate after the turn: %+v (closed before the turn's end: %v); want it closed on Docker being down", s.name, g, closedFirst)
		}
		results := auditOf(t, st, res.Session, agent.AuditToolResult)
		if len(results) != 1 {
			t.Errorf("%s: got %d tool.result events, want 1 (the call's after-event)", s.name, len(results))
		} else if d := detailOf(t, results[0]); d["is_error"] != true || !strings.Contains(fmt.Sprint(d["stopped"]), "Docker") ||
			!strings.Contains(fmt.Sprint(d["sandbox_error"]), "(the call: ") {
			t.Errorf("%s: the call's tool.result: %v; want an error that says the turn stopped because of Docker, and the call's own failure", s.name, d)
		}
		proxy.Restore()
		eventually(t, "the gate to open again", func() bool { return r.Gate().Open })
	}

	// Docker is back: the user's next message in the last chat runs.
	m, err := r.Send(ctx, ChatRequest{Group: "main", Session: last.Session, Text: "try again"})
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, r, m.ID)
	if res.Status != StatusDone || res.Text != "Done this time." {
		t.Errorf("the message after Docker came back: got %s %q, want done", res.Status, res.Text)
	}
	verifyChain(t, st)
	k := observedKept(t, st, res.Session, m.ID)
	kept.Acked, kept.Found = kept.Acked+k.Acked, kept.Found+k.Found
	// A sandbox whose set-up was cut could not be removed then; it is its
	// chat's until the chat's next turn replaces it or the idle sweep.
	var warm []string
	for _, chat := range chats {
		warm = append(warm, sessionSandboxes(t, svc, chat)...)
	}
	var saw []string
	for what, n := range seen {
		saw = append(saw, fmt.Sprintf("%d× %s", n, what))
	}
	sort.Strings(saw)
	dockertest.ReportFault(t, dockertest.Fault{Fault: fmt.Sprintf("engine cut at each of %d tool-call stages", len(stages)),
		Sees: fmt.Sprintf("%s; %q; the next message %s", strings.Join(saw, ", "), banner, res.Status),
		Kept: kept, Chain: observedChain(t, st), Orphans: observedOrphans(t, svc, warm...)})
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestEngineLostWithoutRuntime: a service answering without a runtime (its
// gate a fresh reading per check) ends the turn the same way when the
// sandbox cannot be made because Docker went away: the failed create makes
// it read Docker again, and the turn ends interrupted, the model asked
// once, the error the gate's (ErrGateClosed, agent.ErrBlocked) with the
// call's own.
func TestEngineLostWithoutRuntime(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	checks := 0
	engine := fakeEngine{
		check: func(context.Context, string, string) docker.Status {
			mu.Lock()
			defer mu.Unlock()
			if checks++; checks <= 2 {
				return docker.Status{State: docker.Ready, Reason: "ready"} // the turn's check, the sandbox's
			}
			return docker.Status{State: docker.Down, Reason: "Docker is not running (test)", Hint: "start it"}
		},
		list: func(context.Context, docker.Filter) ([]docker.Sandbox, error) { return nil, nil },
	}
	svc, st := newService(t, engine)
	fake := fakeModel(t, svc)
	fake.Respond(engineLostReply(func(string) {}))
	res, err := svc.Chat(context.Background(), ChatRequest{Group: "main", Text: "stage none."})
	status, _ := messageStatus(t, st, res.Session, res.MessageID)
	t.Logf("without a runtime: status %s, error %v", status, err)
	if !errors.Is(err, ErrGateClosed) || !errors.Is(err, agent.ErrBlocked) || !strings.Contains(err.Error(), "start it") ||
		!strings.Contains(err.Error(), "(the call: "+errDown.Error()+")") {
		t.Errorf("got error %v, want the gate's reason and fix, and the failed create", err)
	}
	if n := modelAsked(fake, "stage none."); n != 1 || status != StatusInterrupted || res.Status != StatusInterrupted {
		t.Errorf("got the model asked %d times, status %s (result %s); want once, interrupted", n, status, res.Status)
	}
	verifyChain(t, st)
}
