package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/wire"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestChatNetworkEndToEnd: a group in allowlist mode, a model whose bash
// call fetches a page on the host through the sandbox's proxy, and the
// ways a `berth chat` run answers the network question: nobody on the
// terminal (--yes does not answer it: denied, and the model reads the
// 403), --allow-net (allowed once), and beside a running Berth, where the
// question crosses the control socket to this terminal.
func TestChatNetworkEndToEnd(t *testing.T) {
	dockertest.Client(t)
	bin := dockertest.HelperBinary(t, runtime.GOARCH) // the proxy in the sandbox is the helper's
	wire.HelperBinaries = func(arch string) []byte {
		if arch == runtime.GOARCH {
			return bin
		}
		return nil
	}
	t.Cleanup(func() { wire.HelperBinaries = nil })
	withHome(t)
	fake := llmtest.NewAnthropic(t)
	t.Setenv("ANTHROPIC_BASE_URL", fake.URL)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello from the host %s", r.URL.Path) }))
	defer srv.Close()
	dest := strings.TrimPrefix(srv.URL, "http://")
	if r := berth(t, "group", "add", "web", "--network", "allowlist"); r.code != 0 {
		t.Fatal(r.err)
	}
	fetch := fmt.Sprintf(`{"command":"printf 'GET http://%s/page HTTP/1.0\\r\\n\\r\\n' | nc -w 60 %s"}`, dest, strings.Replace(docker.EgressListen, ":", " ", 1))
	turn := func(name string, args []string, input string) (toolResult, stderr string) {
		t.Helper()
		fake.Queue(
			llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "t-" + name, Name: "bash", Input: fetch}}},
			llmtest.Reply{Text: []string{"Done."}},
		)
		n := len(fake.Requests())
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"chat", "-g", "web", "--new"}, append(args, "fetch", "it")...), IO{In: strings.NewReader(input), Out: &out, Err: &errb})
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", name, code, out.String(), errb.String())
		}
		reqs := fake.Requests()
		if len(reqs) != n+2 {
			t.Fatalf("%s: %d model requests, want 2", name, len(reqs)-n)
		}
		if !strings.Contains(string(reqs[n].Raw), "network mode is allowlist") {
			t.Errorf("%s: the system prompt does not give the network mode", name)
		}
		return string(reqs[n+1].Raw), errb.String()
	}

	// berth exec: the rules apply, nobody is asked.
	get := fmt.Sprintf(`printf 'GET http://%s/exec HTTP/1.0\r\n\r\n' | nc -w 60 %s`, dest, strings.Replace(docker.EgressListen, ":", " ", 1))
	if r := berth(t, "exec", "-g", "web", "--", "sh", "-c", get); !strings.Contains(r.out, "403 Forbidden") || !strings.Contains(r.out, "nobody can be asked") {
		t.Errorf("exec without a rule: exit %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "net", "allow", "-g", "web", dest); r.code != 0 {
		t.Fatal(r.err)
	}
	r := berth(t, "exec", "-g", "web", "--", "sh", "-c", get)
	fmt.Printf("berth exec with a rule for %s: %q\n", dest, firstLine(strings.TrimSpace(r.out[max(0, strings.Index(r.out, "hello")):]), 80))
	if !strings.Contains(r.out, "hello from the host /exec") {
		t.Errorf("exec with a rule: exit %d %q %q", r.code, r.out, r.err)
	}
	if r := berth(t, "net", "rm", "-g", "web", dest); r.code != 0 {
		t.Fatal(r.err)
	}

	res, errText := turn("nobody answers", []string{"--yes"}, "")
	fmt.Printf("--yes, nobody on the terminal: prompt shown %v; the model read 403: %v\n", strings.Contains(errText, "reach "+dest), strings.Contains(res, "403 Forbidden"))
	if !strings.Contains(errText, "reach "+dest) || !strings.Contains(res, "403 Forbidden") || !strings.Contains(res, "Berth blocked "+dest+" for group web") {
		t.Errorf("--yes answered the network question, or the model did not hear of the refusal:\nstderr %q\ntool result %s", errText, toolResultOf(res))
	}
	res, errText = turn("allow-net", []string{"--allow-net", dest}, "")
	fmt.Printf("--allow-net %s: prompt shown %v; the page arrived: %v\n", dest, strings.Contains(errText, "reach "+dest), strings.Contains(res, "hello from the host /page"))
	if strings.Contains(errText, "reach "+dest) || !strings.Contains(res, "hello from the host /page") {
		t.Errorf("--allow-net:\nstderr %q\ntool result %s", errText, toolResultOf(res))
	}

	startServe(t)
	res, errText = turn("beside serve", nil, "y\n")
	fmt.Printf("beside serve, answered y on this terminal: the page arrived: %v\n", strings.Contains(res, "hello from the host /page"))
	if !strings.Contains(errText, "reach "+dest) || !strings.Contains(res, "hello from the host /page") {
		t.Errorf("beside serve:\nstderr %q\ntool result %s", errText, toolResultOf(res))
	}
	log := berth(t, "net", "log", "-g", "web", "-n", "100")
	for _, want := range []string{"egress.asked", "egress.answered", "answer for " + dest + ": the user denied it", "answer for " + dest + ": allow once", "egress.allowed", "egress.closed", "egress.denied"} {
		if !strings.Contains(log.out, want) {
			t.Errorf("net log lacks %q:\n%s", want, log.out)
		}
	}
	if r := berth(t, "audit", "verify"); r.code != 0 {
		t.Errorf("verify: %s", r.out)
	}
}

// toolResultOf is the tool_result part of a model request, for messages.
func toolResultOf(raw string) string {
	if i := strings.Index(raw, `"tool_result"`); i >= 0 {
		raw = raw[max(0, i-400):]
	}
	if j := strings.Index(raw, `"system"`); j >= 0 {
		raw = raw[:j]
	}
	return raw
}
