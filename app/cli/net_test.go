package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/egress"
)

// TestNetCommands drives `berth net` as a user would: modes, rules,
// presets, a bad rule that changes nothing, the log, and the warnings of
// group show and doctor for an open group.
func TestNetCommands(t *testing.T) {
	withHome(t)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // nothing here needs Docker
	must := func(args ...string) result {
		t.Helper()
		r := berth(t, args...)
		if r.code != ExitOK {
			t.Fatalf("berth %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
		}
		return r
	}
	must("group", "add", "work")
	if r := must("net", "show", "-g", "work"); !strings.Contains(r.out, "network none") {
		t.Errorf("a new group: %q", r.out)
	}
	if r := must("net", "mode", "-g", "work", "allowlist"); !strings.Contains(r.out, "network allowlist") {
		t.Errorf("mode: %q", r.out)
	}
	must("net", "allow", "-g", "work", "PyPI.org", "10.0.0.5:11434")
	if r := berth(t, "net", "allow", "-g", "work", "ok.example", "bad host"); r.code != ExitUsage || !strings.Contains(r.err, "not allowed in a host name") {
		t.Errorf("a bad rule: exit %d %q", r.code, r.err)
	}
	must("net", "preset", "-g", "work", "github")
	if r := berth(t, "net", "preset", "-g", "work", "go"); r.code != ExitUsage || !strings.Contains(r.err, "--preset go") {
		t.Errorf("a preset whose hosts the user adds: exit %d %q", r.code, r.err)
	}
	must("net", "allow", "-g", "work", "--preset", "npm", "registry.example.org")
	must("net", "deny", "-g", "work", "*.tracker.example")
	r := must("net", "rm", "-g", "work", "10.0.0.5:11434")
	if strings.Contains(r.out, "10.0.0.5") || !strings.Contains(r.out, "deny   *.tracker.example") || !strings.Contains(r.out, "(preset npm)") {
		t.Errorf("after rm: %q", r.out)
	}
	if r := berth(t, "net", "rm", "-g", "work", "never.example"); r.code != ExitUsage {
		t.Errorf("rm of a rule the group lacks: exit %d", r.code)
	}
	var v assistant.NetView
	if err := json.Unmarshal([]byte(must("net", "show", "-g", "work", "--json").out), &v); err != nil {
		t.Fatal(err)
	}
	var allow []string
	for _, a := range v.Allow {
		allow = append(allow, a.Rule)
	}
	want := "pypi.org github.com api.github.com codeload.github.com raw.githubusercontent.com objects.githubusercontent.com registry.example.org"
	if v.Mode != egress.ModeAllowlist || strings.Join(allow, " ") != want || strings.Join(v.Deny, " ") != "*.tracker.example" {
		t.Errorf("show --json: %+v\n want allow %s", v, want)
	}
	if r := must("net", "presets"); !strings.Contains(r.out, "files.pythonhosted.org") || !strings.Contains(r.out, "--preset go") {
		t.Errorf("presets: %q", r.out)
	}
	if r := must("net", "log", "-g", "work"); !strings.Contains(r.out, assistant.AuditNetRules) || !strings.Contains(r.out, "network: denied *.tracker.example") {
		t.Errorf("net log: %q", r.out)
	}
	if r := must("audit", "tail", "--kind", "egress"); !strings.Contains(r.out, "network: allowed pypi.org, 10.0.0.5:11434") {
		t.Errorf("audit tail --kind egress: %q", r.out)
	}
	if r := must("group", "show", "work"); !strings.Contains(r.out, "network   allowlist") {
		t.Errorf("group show: %q", r.out)
	}

	// An old bridge group reads as open, and is warned about.
	must("group", "add", "wild", "--network", "bridge")
	if r := must("group", "show", "wild"); !strings.Contains(r.out, "network   open") || !strings.Contains(r.out, "! network open") {
		t.Errorf("group show of an open group: %q", r.out)
	}
	if r := must("group", "list"); !strings.Contains(r.out, "open") {
		t.Errorf("group list: %q", r.out)
	}
	d := berth(t, "doctor", "--json")
	var rep struct {
		OpenGroups []string `json:"open_groups"`
	}
	if err := json.Unmarshal([]byte(d.out), &rep); err != nil || strings.Join(rep.OpenGroups, ",") != "wild" {
		t.Errorf("doctor --json open_groups: %v %v\n%s", rep.OpenGroups, err, d.out)
	}
	if d := berth(t, "doctor"); !strings.Contains(d.out, "Network open    groups wild") {
		t.Errorf("doctor: %q", d.out)
	}
	if r := berth(t, "net", "mode", "-g", "work", "wide"); r.code != ExitUsage || !strings.Contains(r.err, "none, allowlist or open") {
		t.Errorf("a bad mode: exit %d %q", r.code, r.err)
	}
	if r := berth(t, "net", "pending"); r.code != ExitFailure || !strings.Contains(r.err, "no Berth is running") {
		t.Errorf("net pending without a running Berth: exit %d %q", r.code, r.err)
	}
	if r := berth(t, "net", "answer", "net-1", "maybe"); r.code != ExitUsage {
		t.Errorf("net answer with a bad answer: exit %d %q", r.code, r.err)
	}
	if r := berth(t, "chat", "--allow-net", "bad host", "hi"); r.code != ExitUsage || !strings.Contains(r.err, "--allow-net") {
		t.Errorf("chat --allow-net with a bad host: exit %d %q", r.code, r.err)
	}
}

// TestChatNetworkAnswers: --allow-net answers the destinations it names
// (allow once, without a prompt), the others are asked on the terminal,
// and --yes, which answers tool calls, does not answer them.
func TestChatNetworkAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := func(host string, port int) assistant.NetQuestion {
		return assistant.NetQuestion{ID: "net-1", Group: "work", Host: host, Port: port}
	}
	cases := []struct {
		name     string
		allowNet []string
		input    string
		q        assistant.NetQuestion
		want     egress.Answer
		prompted bool
	}{
		{"--allow-net names it", []string{"pypi.org", "10.0.0.0/8:11434"}, "", q("pypi.org", 443), egress.AllowOnce, false},
		{"--allow-net names the CIDR", []string{"10.0.0.0/8:11434"}, "", q("10.1.2.3", 11434), egress.AllowOnce, false},
		{"asked: always", []string{"pypi.org"}, "a\n", q("evil.example", 443), egress.AllowAlways, true},
		{"asked: once", nil, "y\n", q("evil.example", 443), egress.AllowOnce, true},
		{"asked: no answer denies", nil, "", q("evil.example", 443), egress.Deny, true},
	}
	for _, c := range cases {
		var errb bytes.Buffer
		io := IO{In: strings.NewReader(c.input), Out: &bytes.Buffer{}, Err: &errb}
		term := &terminal{io: io, p: &chatPrinter{io: io}}
		ask, err := term.netAsker(c.allowNet)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := ask(ctx, c.q)
		prompted := strings.Contains(errb.String(), "reach "+c.q.Dest())
		if got != c.want || prompted != c.prompted {
			t.Errorf("%s: got %v (prompted %v: %q), want %v (prompted %v)", c.name, got, prompted, errb.String(), c.want, c.prompted)
		}
	}
	// --yes allows the tool call but leaves the network question to the terminal.
	var errb bytes.Buffer
	io := IO{In: strings.NewReader("n\n"), Out: &bytes.Buffer{}, Err: &errb}
	term := &terminal{io: io, p: &chatPrinter{io: io}}
	if a, _ := term.approver(true)(ctx, agentRequest()); a.String() != "allow once" {
		t.Errorf("--yes on a tool call: %v", a)
	}
	ask, _ := term.netAsker(nil)
	if got, _ := ask(ctx, q("evil.example", 443)); got != egress.Deny || !strings.Contains(errb.String(), "reach evil.example:443") {
		t.Errorf("--yes answered a network question: %v %q", got, errb.String())
	}
}

func agentRequest() agent.ApprovalRequest {
	return agent.ApprovalRequest{Tool: "bash", CallID: "c1", Summary: "bash: true"}
}
