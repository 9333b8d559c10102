package assistant

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// crashChildEnv names the BERTH_HOME of the Berth process that
// TestFaultBerthKilledMidTurn runs (this test binary, re-executed) and kills.
const crashChildEnv = "BERTH_FAULT_CRASH_HOME"

// TestFaultSandboxKilledMidExec kills the sandbox from outside while a tool
// call runs in it: the call fails with an error the model is shown, the
// loss is audited, and the model's next call runs in a fresh sandbox.
func TestFaultSandboxKilledMidExec(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	svc, st := newService(t, c)
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		last := lastMessage(req)
		switch {
		case strings.Contains(last, `"tool_use_id":"fresh"`):
			return llmtest.Reply{Text: []string{"The fresh sandbox works."}}
		case strings.Contains(last, `"tool_use_id":"long"`):
			return bashReply("fresh", "", "echo fresh $(hostname)")
		}
		return bashReply("long", "Running the long job. ", "touch long-started; sleep 20")
	})
	r := startRuntime(t, svc, c, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()

	m, err := r.Send(ctx, ChatRequest{Group: "main", Text: "run the long job"})
	if err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, 30*time.Second, "the long bash call", isToolStart("long"))
	waitFile(t, filepath.Join(svc.Paths.GroupDir("main"), "long-started"))
	killed := onlyRunning(t, svc, ev.Session)
	if err := c.KillSandbox(ctx, killed.ID); err != nil {
		t.Fatal(err)
	}

	res := wait(t, r, m.ID)
	if status, _ := messageStatus(t, st, res.Session, m.ID); status != StatusDone || res.Text != "The fresh sandbox works." {
		t.Errorf("the turn: got status %s, text %q; want done, %q", status, res.Text, "The fresh sandbox works.")
	}
	if got := toolResultFor(t, fake, "long"); !strings.Contains(got, "sandbox stopped") {
		t.Errorf("the model was told about the killed call: got %s, want it to say the sandbox stopped", got)
	}
	got := toolResultFor(t, fake, "fresh")
	ran := regexp.MustCompile(`fresh ([0-9a-f]{12})`).FindStringSubmatch(got)
	if ran == nil || ran[1] == killed.ID[:12] {
		t.Errorf("the next call: got %s, want it to run in a sandbox other than %s", got, killed.ID[:12])
	}

	creates := auditOf(t, st, res.Session, AuditSandboxCreate)
	lost := auditOf(t, st, res.Session, AuditSandboxLost)
	if len(creates) != 2 || len(lost) != 1 {
		t.Fatalf("sandbox audit of the chat: got %d sandbox.create and %d sandbox.lost, want 2 and 1", len(creates), len(lost))
	}
	first, gone, second := detailOf(t, creates[0])["id"], detailOf(t, lost[0])["id"], detailOf(t, creates[1])["id"].(string)
	if first != killed.ID || gone != killed.ID {
		t.Errorf("the lost sandbox: got created %v, lost %v; want %s both times", first, gone, killed.ID)
	}
	if second == killed.ID || ran == nil || !strings.HasPrefix(second, ran[1]) {
		t.Errorf("the fresh sandbox: got %s created, the call printed %s; want a new one that ran the call", second, got)
	}
	verifyChain(t, st)
	dockertest.ReportFault(t, dockertest.Fault{Fault: "sandbox killed mid-exec (docker kill)",
		Sees: "tool result: " + firstLine(textOf(toolResultFor(t, fake, "long"))) + fmt.Sprintf("; next call in sandbox %.12s, the killed one was %.12s", second, killed.ID),
		Kept: observedKept(t, st, res.Session, m.ID), Chain: observedChain(t, st), Orphans: observedOrphans(t, svc, second)})
}

// TestFaultDaemonKilledAndRestarted SIGKILLs a private dockerd during a
// tool call: the turn is kept as interrupted with its partial answer, a
// message sent meanwhile waits, and runs in a fresh sandbox once the daemon
// is back.
func TestFaultDaemonKilledAndRestarted(t *testing.T) {
	t.Parallel()
	d := dockertest.StartDaemon(t)
	engine, err := docker.NewAt(docker.Endpoint{Host: d.Host, Source: "private test daemon"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	dockertest.WithHelper(t, engine)
	svc, st := newService(t, engine)
	fake := fakeModel(t, svc)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		last := lastMessage(req)
		switch {
		case strings.Contains(last, `"tool_use_id":"again"`):
			return llmtest.Reply{Text: []string{"All done."}}
		case strings.Contains(last, "second message"):
			return bashReply("again", "", "echo back-$((6*7))")
		case strings.Contains(last, `"tool_use_id":"long"`):
			return llmtest.Reply{HoldAfter: 1} // a model that stalls until the turn is canceled
		}
		return bashReply("long", "Working on it. ", "touch long-started; sleep 30")
	})
	r := startRuntime(t, svc, engine, RuntimeConfig{})
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()

	m1, err := r.Send(ctx, ChatRequest{Group: "main", Text: "first message"})
	if err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, 30*time.Second, "the long bash call", isToolStart("long"))
	waitFile(t, filepath.Join(svc.Paths.GroupDir("main"), "long-started"))
	stale := onlyRunning(t, svc, ev.Session)
	d.Kill()
	closed := waitEvent(t, events, 30*time.Second, "a closed gate", func(ev Event) bool { return ev.Kind == EventGate && !ev.Gate.Open })
	res := wait(t, r, m1.ID)
	status, msgs := messageStatus(t, st, res.Session, m1.ID)
	if status != StatusInterrupted {
		t.Errorf("the turn the daemon's death cut: got %s, want interrupted", status)
	}
	var partial bool
	for _, m := range msgs {
		partial = partial || (m.Role == RoleAssistant && strings.Contains(m.Content, "Working on it."))
	}
	if !partial {
		t.Errorf("the partial answer was not kept: %+v", msgs)
	}

	m2, err := r.Send(ctx, ChatRequest{Group: "main", Session: res.Session, Text: "second message"})
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, 30*time.Second, "the message waiting for the gate", func(ev Event) bool {
		return ev.Kind == EventWaitGate && ev.MessageID == m2.ID
	})
	waiting, _ := messageStatus(t, st, res.Session, m2.ID)
	if waiting != StatusPending {
		t.Errorf("a message sent while Docker is down: got %s, want pending", waiting)
	}

	d.Start() // Kill waited for the old containerd to go

	res2 := wait(t, r, m2.ID)
	after, _ := messageStatus(t, st, res.Session, m2.ID)
	if after != StatusDone || res2.Text != "All done." {
		t.Errorf("after the daemon came back: got status %s, text %q; want done, %q", after, res2.Text, "All done.")
	}
	if got := toolResultFor(t, fake, "again"); !strings.Contains(got, "back-42") {
		t.Errorf("the call after the restart: got %s, want its output", got)
	}
	if got := strings.Join(kindsOf(auditOf(t, st, "", "docker")), " "); !strings.Contains(got, "docker.ready docker.down docker.ready") {
		t.Errorf("docker transitions in the audit log: got %q, want ready, down, ready", got)
	}
	list, err := svc.Sandboxes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sb := range list {
		if sb.ID == stale.ID && sb.Running() {
			t.Errorf("the sandbox from before the daemon died still runs: %+v", sb)
		}
	}
	verifyChain(t, st)
	var fresh []string
	for _, sb := range list {
		if sb.ID != stale.ID {
			fresh = append(fresh, sb.ID)
		}
	}
	dockertest.ReportFault(t, dockertest.Fault{Fault: "private dockerd SIGKILLed, restarted",
		Sees: fmt.Sprintf("turn %s; %q; the next message %s, then %s", status, gateReason(closed), waiting, after),
		Kept: observedKept(t, st, res.Session, m1.ID, m2.ID), Chain: observedChain(t, st), Orphans: observedOrphans(t, svc, fresh...)})
}

// TestFaultBerthKilledMidTurn SIGKILLs a Berth process (this test binary,
// re-executed) while a tool call of an acknowledged message runs. A new
// Berth on the same home finds the message interrupted, the audit chain
// intact and the dead process's sandbox reaped.
func TestFaultBerthKilledMidTurn(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(t, dir)
		return
	}
	c := dockertest.Client(t)
	dir := t.TempDir()
	fake := llmtest.NewAnthropic(t)
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(lastMessage(req), `"tool_use_id":"long"`) {
			return llmtest.Reply{HoldAfter: 1}
		}
		return bashReply("long", "Starting the long job. ", "touch long-started; sleep 60")
	})
	child := exec.Command(os.Args[0], "-test.run=^TestFaultBerthKilledMidTurn$", "-test.count=1")
	child.Env = append(os.Environ(), crashChildEnv+"="+dir, "BERTH_HOME="+dir, "DOCKER_HOST="+c.Endpoint().Host,
		"ANTHROPIC_BASE_URL="+fake.URL, "ANTHROPIC_API_KEY=sk-test-crash")
	var stderr bytes.Buffer
	child.Stderr = &stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	acked := readAck(t, child, out, &stderr)
	t.Logf("the child Berth (pid %d) acknowledged message %d of chat %s at audit seq %d; killing it",
		child.Process.Pid, acked.message, acked.session, acked.head)
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	svc, st, _ := berthAt(t, c, dir)
	ctx := context.Background()
	if status, _ := messageStatus(t, st, acked.session, acked.message); status != StatusInterrupted {
		t.Errorf("the acknowledged message after the crash: got %s, want interrupted", status)
	}
	var found bool
	for _, ev := range auditOf(t, st, acked.session, AuditTurnInterrupted) {
		found = found || detailOf(t, ev)["message_id"] == float64(acked.message)
	}
	if !found {
		t.Errorf("no turn.interrupted event names message %d", acked.message)
	}
	rep := verifyChain(t, st)
	if rep.HeadSeq < acked.head {
		t.Errorf("the chain ends at %d, before the %d events the dead process committed", rep.HeadSeq, acked.head)
	}
	var committed []string
	for _, ev := range auditOf(t, st, acked.session, "") {
		if ev.Seq <= acked.head {
			committed = append(committed, ev.Kind)
		}
	}
	for _, kind := range []string{AuditMessageUser, AuditSandboxCreate, agent.AuditToolCall} {
		if !strings.Contains(strings.Join(committed, " "), kind) {
			t.Errorf("events the dead process committed: got %v, want %s among them", committed, kind)
		}
	}

	eventually(t, "the dead process's sandbox to be reaped", func() bool {
		list, err := svc.Engine.ListSandboxes(ctx, docker.Filter{InstallationID: svc.Paths.InstallID(), Group: "main", Session: acked.session})
		if err != nil {
			return false
		}
		for _, sb := range list {
			if sb.Running() {
				return false
			}
		}
		return len(auditOf(t, st, acked.session, AuditSandboxReap)) > 0
	})
	interrupted := auditOf(t, st, acked.session, AuditTurnInterrupted)
	sees := "nothing: no turn.interrupted event"
	if len(interrupted) > 0 {
		sees = "turn marked interrupted: " + interrupted[0].Summary
	}
	// The message, and the events the dead process committed (the chain
	// verifies gap-free from #1, so they are #1 to the head it reached).
	msg := observedKept(t, st, acked.session, acked.message)
	kept := dockertest.Kept{What: "acknowledged messages and committed events", Err: msg.Err,
		Acked: msg.Acked + int(acked.head), Found: msg.Found + int(min(rep.HeadSeq, acked.head))}
	dockertest.ReportFault(t, dockertest.Fault{Fault: "Berth SIGKILLed mid-turn, restarted",
		Sees: sees, Kept: kept, Chain: observedChain(t, st), Orphans: observedOrphans(t, svc)})
}

// crashChild is the Berth process TestFaultBerthKilledMidTurn kills: it
// sends a message, says "ACKED <message> <session> <head seq>" once the
// message is stored and its long tool call runs, and waits to be killed.
func crashChild(t *testing.T, dir string) {
	c := dockertest.Client(t)
	svc, st, r := berthAt(t, c, dir)
	events, unsub := r.Subscribe()
	defer unsub()
	ctx := context.Background()
	m, err := r.Send(ctx, ChatRequest{Group: "main", Text: "run the long job"})
	if err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, 30*time.Second, "the long bash call", isToolStart("long"))
	waitFile(t, filepath.Join(svc.Paths.GroupDir("main"), "long-started"))
	head, err := st.Events(ctx, store.Filter{Limit: 1, Newest: true})
	if err != nil || len(head) != 1 {
		t.Fatalf("the chain's head: %v %v", head, err)
	}
	fmt.Printf("ACKED %d %s %d\n", m.ID, ev.Session, head[0].Seq)
	time.Sleep(2 * time.Minute)
	t.Fatal("the parent test did not kill this process")
}

// ack is what the crashing child acknowledged before it died.
type ack struct {
	message int64
	session string
	head    int64 // the last audit event it had committed
}

// readAck waits for the child's ACKED line; without one, it shows what the
// child said on stderr.
func readAck(t *testing.T, child *exec.Cmd, out io.Reader, stderr *bytes.Buffer) ack {
	t.Helper()
	got := make(chan ack, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var a ack
			if _, err := fmt.Sscanf(sc.Text(), "ACKED %d %s %d", &a.message, &a.session, &a.head); err == nil {
				got <- a
				return
			}
		}
		close(got)
	}()
	select {
	case a, ok := <-got:
		if ok {
			return a
		}
	case <-time.After(60 * time.Second):
	}
	_ = child.Process.Kill()
	_ = child.Wait() // stderr is complete once Wait returns
	t.Fatalf("the child Berth acknowledged no message:\n%s", stderr.String())
	return ack{}
}

// berthAt runs Berth on the BERTH_HOME dir as `berth serve` does: the
// installation's lock, the audit store, the service and the runtime.
func berthAt(t *testing.T, engine *docker.Client, dir string) (*Service, *store.Store, *Runtime) {
	t.Helper()
	t.Setenv("BERTH_HOME", dir)
	p, err := home.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	lock, err := home.Acquire(p, "app", 0)
	if err != nil {
		t.Fatalf("take the installation's lock: %v", err)
	}
	t.Cleanup(func() { lock.Release() })
	st, err := store.Open(p.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, _ := config.Load(p.Config)
	cfg.Image = dockertest.TestImage
	svc := &Service{Engine: engine, Store: st, Paths: p, Config: cfg}
	t.Cleanup(func() { engine.Reap(context.Background(), p.InstallID(), farFuture) })
	t.Cleanup(func() { svc.StopAll(context.Background()) })
	return svc, st, startRuntime(t, svc, engine, RuntimeConfig{})
}

// bashReply is a model reply that says text and runs command.
func bashReply(id, text, command string) llmtest.Reply {
	input, _ := json.Marshal(map[string]string{"command": command})
	r := llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: id, Name: "bash", Input: string(input)}}}
	if text != "" {
		r.Text = []string{text}
	}
	return r
}

// lastMessage is the newest message of a model request, as JSON: what a
// fake model answers.
func lastMessage(req llmtest.Request) string {
	msgs, _ := req.Body["messages"].([]any)
	if len(msgs) == 0 {
		return ""
	}
	b, _ := json.Marshal(msgs[len(msgs)-1])
	return string(b)
}

// toolResultFor is the tool result of call id as the model received it.
func toolResultFor(t *testing.T, fake *llmtest.Server, id string) string {
	t.Helper()
	for _, req := range fake.Requests() {
		if last := lastMessage(req); strings.Contains(last, `"tool_use_id":"`+id+`"`) {
			return last
		}
	}
	t.Fatalf("the model never received the result of call %s", id)
	return ""
}

// isToolStart matches the start of tool call id.
func isToolStart(id string) func(Event) bool {
	return func(ev Event) bool {
		return ev.Kind == EventAgent && ev.Agent.Kind == agent.EventToolStart && ev.Agent.CallID == id
	}
}

// waitFile waits until a command in a sandbox has written path: the command runs.
func waitFile(t *testing.T, path string) {
	t.Helper()
	eventually(t, "the command to write "+filepath.Base(path), func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

// eventually polls cond until it holds, failing after 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// onlyRunning is the one running sandbox of a chat.
func onlyRunning(t *testing.T, svc *Service, session string) docker.Sandbox {
	t.Helper()
	list, err := svc.Engine.ListSandboxes(context.Background(), docker.Filter{InstallationID: svc.Paths.InstallID(), Session: session})
	if err != nil {
		t.Fatal(err)
	}
	var running []docker.Sandbox
	for _, sb := range list {
		if sb.Running() {
			running = append(running, sb)
		}
	}
	if len(running) != 1 {
		t.Fatalf("running sandboxes of chat %s: got %+v, want one", session, running)
	}
	return running[0]
}

// auditOf is a chat's audit events of a kind ("" for any), oldest first.
func auditOf(t *testing.T, st *store.Store, session, kind string) []store.Event {
	t.Helper()
	evs, err := st.Events(context.Background(), store.Filter{Session: session, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// kindsOf is the kinds of events, in order.
func kindsOf(evs []store.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

// detailOf is an audit event's detail, decoded.
func detailOf(t *testing.T, ev store.Event) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatalf("detail of event %d: %v", ev.Seq, err)
	}
	return d
}

// verifyChain fails the test unless the audit chain is intact.
func verifyChain(t *testing.T, st *store.Store) store.Report {
	t.Helper()
	rep, err := st.Verify(context.Background())
	if err != nil || !rep.OK {
		t.Errorf("audit chain: got %+v, %v; want it intact", rep, err)
	}
	return rep
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return s
}
