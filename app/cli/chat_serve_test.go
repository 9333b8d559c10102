package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// startServe runs `berth serve` until the test ends and waits for its gate.
func startServe(t *testing.T) *syncBuffer {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int)
	go func() { done <- Run(ctx, []string{"serve"}, IO{In: strings.NewReader(""), Out: out, Err: out}) }()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d:\n%s", code, out.String())
		}
	})
	waitFor(t, out, "assistant ready")
	return out
}

func waitFor(t *testing.T, out *syncBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 30 s:\n%s", what, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling serve's output
	}
}

// TestChatThroughRunningBerth runs `berth chat` beside `berth serve`: the
// message is handed to the running Berth through its control socket, the
// tool call's approval is asked on this terminal and answered over the
// socket, the turn runs in serve's runtime (its log shows it), and the
// answer streams back. Before, the command refused: "Berth is already running".
func TestChatThroughRunningBerth(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	if r := berth(t, "group", "add", "work", "--approval", "ask-all"); r.code != 0 {
		t.Fatal(r.err)
	}
	fake.Queue(
		llmtest.Reply{Text: []string{"Checking. "}, ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"echo from-the-sandbox"}`}}},
		llmtest.Reply{Text: []string{"It said hello ", "from the sandbox."}, Usage: llmtest.Usage{InputTokens: 50, OutputTokens: 9}},
	)
	serve := startServe(t)

	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"chat", "-g", "work", "say", "hello"}, IO{In: strings.NewReader("y\n"), Out: &out, Err: &errb})
	if code != ExitOK {
		t.Fatalf("chat beside serve: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Checking.") || !strings.Contains(out.String(), "It said hello from the sandbox.") {
		t.Errorf("streamed answer: %q", out.String())
	}
	if !strings.Contains(errb.String(), "Allow bash") || !strings.Contains(errb.String(), "✓ bash") {
		t.Errorf("approval asked here and the call's line: %q", errb.String())
	}
	waitFor(t, serve, ": turn done")
	if !strings.Contains(serve.String(), "work/") || !strings.Contains(serve.String(), "turn started") {
		t.Errorf("the turn did not run in serve's runtime:\n%s", serve.String())
	}
	t.Logf("chat beside serve: exit %d, stdout %q; serve logged: %q", code, strings.TrimSpace(out.String()),
		strings.TrimSpace(serve.String()[strings.Index(serve.String(), "turn started")-20:]))
}

// TestChatDockerDownMidTurn runs a one-shot `berth chat` whose engine is
// cut while the tool call runs: the in-process runtime's monitor closes the
// gate, the turn stops and is kept as interrupted, and the command exits 3.
// Before, `berth chat` ran without the runtime and nothing stopped the turn.
func TestChatDockerDownMidTurn(t *testing.T) {
	real, paths, proxy, fake := proxiedChat(t)
	started := make(chan struct{})
	var once sync.Once
	fake.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(string(req.Raw), "tool_result") {
			return llmtest.Reply{Text: []string{"the command finished"}}
		}
		once.Do(func() { close(started) })
		return llmtest.Reply{Text: []string{"Working on it. "}, ToolCalls: []llmtest.ToolCall{{ID: "t1", Name: "bash", Input: `{"command":"sleep 30"}`}}}
	})
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- Run(context.Background(), []string{"chat", "--yes", "run", "it"}, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	}()
	<-started
	// Cut once the sandbox runs the command (the sandbox exists and the
	// model is waiting on the call).
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _ := real.ListSandboxes(context.Background(), docker.Filter{InstallationID: paths.InstallID()})
		if len(list) > 0 && list[0].Running() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sandbox started")
		}
		time.Sleep(20 * time.Millisecond) // polling the engine
	}
	proxy.Cut()
	var code int
	select {
	case code = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("berth chat did not end after Docker went away")
	}
	proxy.Restore()
	if code != ExitGateClosed || !strings.Contains(errb.String(), "the partial answer is saved") {
		t.Errorf("chat with Docker gone mid-turn: exit %d, stderr %q; want exit %d", code, errb.String(), ExitGateClosed)
	}
	if strings.Contains(out.String(), "the command finished") {
		t.Errorf("the turn went on after Docker went away: %q", out.String())
	}
	t.Logf("docker cut mid-turn: exit %d, stderr %q", code, strings.TrimSpace(errb.String()))
}

// TestSettingsSetReachesRunningBerth changes the model and base URL with
// `berth settings set` beside `berth serve`: the next chat, answered by
// serve, uses them.
func TestSettingsSetReachesRunningBerth(t *testing.T) {
	dockertest.Client(t)
	withHome(t)
	old := llmtest.NewAnthropic(t)
	old.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"old"}} })
	t.Setenv("ANTHROPIC_BASE_URL", old.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	fresh := llmtest.NewAnthropic(t)
	fresh.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Text: []string{"fresh"}} })
	startServe(t)
	if r := berth(t, "settings", "set", "model=model-fresh", "base_url="+fresh.URL); r.code != 0 || !strings.Contains(r.out, "the running Berth uses them now") {
		t.Fatalf("settings set: %d %q %q", r.code, r.out, r.err)
	}
	r := berth(t, "chat", "hello")
	if r.code != 0 || !strings.Contains(r.out, "fresh") {
		t.Fatalf("chat after settings set: %d %q %q", r.code, r.out, r.err)
	}
	if reqs := fresh.Requests(); len(reqs) != 1 || reqs[0].Get("model") != "model-fresh" {
		t.Errorf("the new base URL got %d requests; want 1 for model-fresh", len(reqs))
	}
	if n := len(old.Requests()); n != 0 {
		t.Errorf("the old base URL got %d requests", n)
	}
	if r := berth(t, "sandbox", "reap"); r.code != 0 || !strings.Contains(r.out, "reaped 0 sandboxes") {
		t.Errorf("reap beside serve: %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "settings", "set", "colour=blue"); r.code != ExitUsage {
		t.Errorf("an unknown setting: exit %d %q", r.code, r.err)
	}
}

// proxiedChat readies a one-shot `berth chat`: a fresh home, the engine
// reached through a fault proxy (which the test cuts), and a fake model. It
// returns the real engine (to look behind the proxy), the home's paths, the
// proxy and the model.
func proxiedChat(t *testing.T) (*docker.Client, home.Paths, *dockertest.Proxy, *llmtest.Server) {
	t.Helper()
	real := dockertest.Client(t)
	withHome(t)
	paths, err := home.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	t.Setenv("DOCKER_HOST", proxy.Host())
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	return real, paths, proxy, fake
}
