package assistant

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

// netArena is a running Runtime over the real engine with a group in
// allowlist mode and a real sandbox of it, whose connections a loopback
// listener hands to the runtime's egress handler as the helper's channel
// would.
type netArena struct {
	svc     *Service
	st      *store.Store
	r       *Runtime
	sb      docker.Sandbox
	proxy   *url.URL
	srv     *httptest.Server
	dest    string // the server's ip:port
	session string // the sandbox's: unique, so that no test meets another's sandbox being removed
}

func newNetArena(t *testing.T, lim egress.Limits) *netArena {
	t.Helper()
	engine := dockertest.Client(t)
	dockertest.WithHelper(t, engine)
	svc, st := newService(t, engine)
	a := &netArena{svc: svc, st: st, session: "s-" + token(t)}
	a.r = startRuntime(t, svc, engine, RuntimeConfig{NetLimits: lim})
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "net", "Net", GroupSettings{Network: string(egress.ModeAllowlist)}); err != nil {
		t.Fatal(err)
	}
	waitGateOpen(t, a.r)
	sb, _, err := svc.Sandbox(ctx, "net", a.session)
	if err != nil {
		t.Fatal(err)
	}
	a.sb = sb
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s", r.URL.Path) }))
	t.Cleanup(a.srv.Close)
	a.dest = strings.TrimPrefix(a.srv.URL, "http://")
	a.proxy = a.listen(t, sb.ID)
	return a
}

// listen hands each connection to the runtime as coming from sandbox id.
func (a *netArena) listen(t *testing.T, id string) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go a.r.ServeEgress(context.Background(), id, c)
		}
	}()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

func waitGateOpen(t *testing.T, r *Runtime) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !r.Gate().Open {
		if time.Now().After(deadline) {
			t.Fatalf("the gate did not open: %+v", r.Gate())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get fetches u through the proxy.
func (a *netArena) get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(a.proxy), DisableKeepAlives: true}}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSandboxNetworkFollowsTheMode: allowlist gets no network and the
// proxy, open gets the bridge, none gets neither — and the stored bridge
// of an old group reads (and is saved back) as open.
func TestSandboxNetworkFollowsTheMode(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, fakeEngine{})
	ctx := context.Background()
	if _, err := st.CreateGroup(ctx, store.Group{Slug: "old", Name: "Old", Settings: json.RawMessage(`{"network":"bridge"}`)}); err != nil {
		t.Fatal(err)
	}
	old, err := svc.Group(ctx, "old")
	if err != nil || old.Settings.Network != string(egress.ModeOpen) {
		t.Fatalf("a bridge group reads as %q %v, want open", old.Settings.Network, err)
	}
	if _, err := svc.SetGroup(ctx, "old", []string{"approval=ask-all"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := st.Group(ctx, "old")
	if !strings.Contains(string(raw.Settings), `"network":"open"`) {
		t.Errorf("saved back as %s, want network open", raw.Settings)
	}
	for _, c := range []struct {
		mode, network string
		egress        bool
	}{{"", "none", false}, {"none", "none", false}, {"allowlist", "none", true}, {"open", "bridge", false}, {"bridge", "bridge", false}} {
		g := Group{Slug: "x", Folder: t.TempDir(), Settings: GroupSettings{Network: normalMode(c.mode)}}
		spec := svc.spec(g, "s", nil)
		if spec.Network != c.network || spec.Egress != c.egress {
			t.Errorf("mode %q: network %q egress %v, want %q %v", c.mode, spec.Network, spec.Egress, c.network, c.egress)
		}
	}
	if _, err := svc.SetGroup(ctx, "old", []string{"network=wide"}); err == nil || !strings.Contains(err.Error(), "none, allowlist or open") {
		t.Errorf("a bad mode: %v", err)
	}
}

// TestNetRulesPersist: rules, deny rules and presets are stored with the
// group, a bad rule changes nothing, and each change is audited.
func TestNetRulesPersist(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, fakeEngine{})
	ctx := context.Background()
	if _, err := svc.AddGroup(ctx, "work", "", GroupSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetAllow(ctx, "work", "", []string{"Example.COM:8443", "10.0.0.5:11434"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetAllow(ctx, "work", "", []string{"good.example", "bad host"}); err == nil {
		t.Error("a bad rule was accepted")
	}
	if _, err := svc.NetPreset(ctx, "work", "pypi", true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetPreset(ctx, "work", "npm", true); err == nil || !strings.Contains(err.Error(), "--preset npm") {
		t.Errorf("a preset without hosts of its own: %v", err)
	}
	if _, err := svc.NetAllow(ctx, "work", "npm", []string{"registry.example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetDeny(ctx, "work", []string{"10.0.0.5:11434", "tracker.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetRemove(ctx, "work", "tracker.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NetRemove(ctx, "work", "never.example"); err == nil {
		t.Error("removing a rule the group lacks worked")
	}
	raw, err := st.Group(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	var gs GroupSettings
	if err := json.Unmarshal(raw.Settings, &gs); err != nil {
		t.Fatal(err)
	}
	var allow []string
	for _, r := range gs.NetAllow {
		allow = append(allow, r.Rule+"@"+r.Preset)
	}
	got := strings.Join(allow, " ") + " | deny " + strings.Join(gs.NetDeny, " ")
	want := "example.com:8443@ pypi.org@pypi files.pythonhosted.org@pypi registry.example.org@npm | deny 10.0.0.5:11434"
	if got != want {
		t.Errorf("stored rules:\n got %s\nwant %s", got, want)
	}
	v, err := svc.NetShow(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range v.Presets {
		if (p.Name == "pypi" || p.Name == "npm") != p.On {
			t.Errorf("preset %s on=%v", p.Name, p.On)
		}
	}
	if _, err := svc.NetPreset(ctx, "work", "npm", false); err != nil {
		t.Fatal(err)
	}
	if v, _ := svc.NetShow(ctx, "work"); len(v.Allow) != 3 {
		t.Errorf("after switching npm off: %+v", v.Allow)
	}
	evs, _ := st.Events(ctx, store.Filter{Kind: AuditNetRules})
	if len(evs) != 6 {
		t.Errorf("%d %s events, want 6 (one per change that worked)", len(evs), AuditNetRules)
	}
}

// TestNetQuestionsThroughTheRuntime: a destination no rule covers is asked
// through the runtime's events — allow once, always for the group, deny,
// and no answer in time — and the policy is read for each connection.
func TestNetQuestionsThroughTheRuntime(t *testing.T) {
	t.Parallel()
	a := newNetArena(t, egress.Limits{AskTimeout: 2 * time.Second})
	ctx := context.Background()
	events, unsub := a.r.Subscribe()
	defer unsub()
	// ask fetches path through the proxy and answers the question it raises
	// with ans (nil: nobody answers).
	ask := func(path string, ans *egress.Answer) (int, string, NetQuestion) {
		type got struct {
			code int
			body string
		}
		done := make(chan got, 1)
		go func() { code, body := a.get(t, "http://"+a.dest+path); done <- got{code, body} }()
		ev := waitEvent(t, events, 60*time.Second, "a network question", func(ev Event) bool { return ev.Kind == EventNetAsk })
		if ans != nil {
			if p := a.r.PendingNet(); len(p) != 1 || p[0].ID != ev.Net.ID {
				t.Errorf("pending questions: %+v", p)
			}
			if err := a.r.AnswerNet(ev.Net.ID, *ans); err != nil {
				t.Error(err)
			}
		}
		settled := waitEvent(t, events, 60*time.Second, "the question settled", func(ev Event) bool { return ev.Kind == EventNetAnswer })
		r := <-done
		return r.code, r.body, *settled.Net
	}
	once, always, deny := egress.AllowOnce, egress.AllowAlways, egress.Deny
	cases := []struct {
		name   string
		ans    *egress.Answer
		code   int
		body   string
		stored bool
	}{
		{"allow-once", &once, 200, "hello /allow-once", false},
		{"deny", &deny, 403, "the user denied it", false},
		{"no-answer-in-time", nil, 403, "no answer within 2s", false},
		{"always-for-this-group", &always, 200, "hello /always-for-this-group", true},
	}
	for _, c := range cases {
		code, body, q := ask("/"+c.name, c.ans)
		fmt.Printf("%s: asked about %s (group %s, session %s), settled %q → %d %q\n", c.name, q.Dest(), q.Group, q.Session, q.Answer, code, firstLineOf(body))
		if code != c.code || !strings.Contains(body, c.body) || q.Group != "net" || q.Session != a.session || q.Dest() != a.dest {
			t.Errorf("%s: got %d %q for %+v; want %d %q", c.name, code, body, q, c.code, c.body)
		}
		g, _ := a.svc.Group(ctx, "net")
		if stored := len(g.Settings.NetAllow) > 0; stored != c.stored {
			t.Errorf("%s: rules %+v", c.name, g.Settings.NetAllow)
		}
	}
	// Always: the next connection passes without a question.
	if code, body := a.get(t, "http://"+a.dest+"/again"); code != 200 || len(a.r.PendingNet()) != 0 {
		t.Errorf("after always: %d %q", code, body)
	}
	// The rule removed, the next connection is asked again (read per connection).
	if _, err := a.svc.NetRemove(ctx, "net", a.dest); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := ask("/removed", &deny); code != 403 {
		t.Errorf("after removing the rule: %d, want 403", code)
	}
	checkNetAudit(t, a, []string{egress.KindAsked, egress.KindAnswered, egress.KindAllowed, egress.KindClosed, egress.KindDenied})
}

func firstLineOf(s string) string { l, _, _ := strings.Cut(strings.TrimSpace(s), "\n"); return l }

// checkNetAudit checks that the chain verifies and holds the kinds, each
// with its group, session and destination.
func checkNetAudit(t *testing.T, a *netArena, kinds []string) {
	t.Helper()
	ctx := context.Background()
	rep, err := a.st.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("the audit chain does not verify: %+v %v", rep, err)
	}
	evs, err := a.svc.NetLog(ctx, "net", 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]store.Event{}
	for _, ev := range evs {
		seen[ev.Kind] = ev
	}
	for _, k := range kinds {
		ev, ok := seen[k]
		if !ok {
			t.Errorf("no %s event in the chain", k)
			continue
		}
		var d struct {
			Host string `json:"host"`
			Port int    `json:"port"`
		}
		_ = json.Unmarshal(ev.Detail, &d)
		if ev.Session != a.session || d.Host == "" || d.Port == 0 {
			t.Errorf("%s: session %q detail %s", k, ev.Session, ev.Detail)
		}
		t.Logf("audit #%d %s: %s", ev.Seq, k, ev.Summary)
	}
	if ev, ok := seen[egress.KindClosed]; ok && !strings.Contains(string(ev.Detail), `"bytes_down":`) {
		t.Errorf("closed without bytes: %s", ev.Detail)
	}
}

// TestNetGateClosedDeniesAndCuts: pausing the assistant cuts an open
// tunnel, and a connection while it is paused is refused without asking.
func TestNetGateClosedDeniesAndCuts(t *testing.T) {
	t.Parallel()
	a := newNetArena(t, egress.Limits{AskTimeout: 30 * time.Second})
	ctx := context.Background()
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	echoAddr := echo.Addr().String()
	if _, err := a.svc.NetAllow(ctx, "net", "", []string{echoAddr}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", a.proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", echoAddr, echoAddr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	fmt.Fprint(c, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("through the tunnel: %q %v", line, err)
	}
	if err := a.r.Pause(ctx, "test pause"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = br.ReadString('\n')
	var nerr net.Error
	if err == nil || (errors.As(err, &nerr) && nerr.Timeout()) {
		t.Fatalf("the tunnel outlived the pause: %v", err)
	}
	fmt.Printf("gate closed: the open tunnel to %s was cut (%v)\n", echoAddr, err)
	code, body := a.get(t, "http://"+a.dest+"/paused")
	fmt.Printf("gate closed: a new connection got %d %q\n", code, firstLineOf(body))
	if code != 403 || !strings.Contains(body, "paused") || len(a.r.PendingNet()) != 0 {
		t.Errorf("while paused: %d %q", code, body)
	}
	if err := a.r.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	checkNetAudit(t, a, []string{egress.KindAllowed, egress.KindClosed, egress.KindDenied})
}

// TestNetQuestionsGoToTheTurnsFace: while a turn runs, its sandbox's
// question is answered by the face that sent it (--allow-net here), and an
// unknown sandbox is refused and audited.
func TestNetQuestionsGoToTheTurnsFace(t *testing.T) {
	t.Parallel()
	a := newNetArena(t, egress.Limits{AskTimeout: 30 * time.Second})
	ask, err := AllowNetFor([]string{a.dest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A turn of session s1 that runs while the connection is made.
	a.r.mu.Lock()
	a.r.running[-1] = &activeTurn{cancel: func(error) {}, group: "net", session: a.session, askNet: ask}
	a.r.mu.Unlock()
	code, body := a.get(t, "http://"+a.dest+"/flag")
	fmt.Printf("--allow-net %s: %d %q\n", a.dest, code, firstLineOf(body))
	if code != 200 {
		t.Errorf("allowed by the turn's face: %d %q", code, body)
	}
	a.r.mu.Lock()
	delete(a.r.running, -1)
	a.r.mu.Unlock()

	stranger := a.listen(t, "0123456789ab-not-a-sandbox")
	c, err := net.Dial("tcp", stranger.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: x\r\n\r\n", a.dest)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, rerr := c.Read(make([]byte, 1))
	c.Close()
	if n != 0 || rerr == nil {
		t.Errorf("an unknown sandbox's connection was served: %d %v", n, rerr)
	}
	evs, _ := a.svc.Store.Events(context.Background(), store.Filter{Kind: egress.KindDenied})
	if len(evs) == 0 || !strings.Contains(evs[len(evs)-1].Summary, "unknown sandbox") {
		t.Errorf("the unknown sandbox was not audited: %+v", evs)
	}
}
