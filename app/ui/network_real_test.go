package ui

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestNetQuestionsWithTheRealRuntime: a real sandbox of an allowlist group
// connects, through the real runtime's proxy, to a server no rule covers.
// The question arrives as a card in its chat; Allow once there lets the
// connection through. A question of another chat goes to OnNetQuestion as
// not in view and to the tray, whose Deny refuses it. Each answer goes
// through Runtime.AnswerNet: the connection's fate shows it.
func TestNetQuestionsWithTheRealRuntime(t *testing.T) {
	c := dockertest.WithHelper(t, dockertest.Client(t))
	t.Setenv("BERTH_HOME", t.TempDir())
	t.Setenv("BERTH_IMAGE", dockertest.TestImage)
	ctx, svc, rt := startRealRuntime(t, c)
	if _, err := svc.AddGroup(ctx, "net", "Net", assistant.GroupSettings{Network: string(assistant.NetModeAllowlist)}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s", r.URL.Path) }))
	t.Cleanup(srv.Close)
	dest := strings.TrimPrefix(srv.URL, "http://")
	proxyOf := func(session string) *url.URL { // connections as from session's sandbox
		sb, _, err := svc.Sandbox(ctx, "net", session)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				go rt.ServeEgress(ctx, sb.ID, conn)
			}
		}()
		return &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	type got struct {
		code int
		body string
	}
	get := func(proxy *url.URL, path string) <-chan got {
		done := make(chan got, 1)
		go func() {
			hc := &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxy), DisableKeepAlives: true}}
			resp, err := hc.Get("http://" + dest + path)
			if err != nil {
				done <- got{0, err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			done <- got{resp.StatusCode, string(b)}
		}()
		return done
	}

	a := test.NewTempApp(t)
	v := NewChatView(ctx, Connect(rt, svc))
	v.Net = rt
	queue := make(chan func(), 4096)
	v.do = func(f func()) { queue <- f }
	var elsewhere []assistant.NetQuestion
	v.OnNetQuestion = func(q assistant.NetQuestion, inView bool) {
		if !inView {
			elsewhere = append(elsewhere, q)
		}
	}
	w := NewChatWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(800, 600))
	v.Watch(ctx)
	pump := func(what string, done func() bool) {
		t.Helper()
		deadline := time.After(90 * time.Second)
		for !done() {
			select {
			case f := <-queue:
				f()
			case <-deadline:
				t.Fatalf("waited 90 s for %s", what)
			}
		}
	}
	pump("the gate to open", func() bool { return !v.input.Disabled() })
	v.Open(assistant.Session{ID: "s-in-view", Group: "net"})

	// In view: the card's Allow once.
	first := get(proxyOf("s-in-view"), "/in-view")
	pump("the question's card", func() bool { return len(netCards(v)) == 1 })
	if q := netCards(v)[0].Q; q.Dest() != dest || q.Group != "net" || len(rt.PendingNet()) != 1 {
		t.Fatalf("card %+v, pending %+v", q, rt.PendingNet())
	}
	test.Tap(button(t, w, "Allow once"))
	r := <-first
	pump("the question settled", func() bool { return !netCards(v)[0].Waiting })
	fmt.Printf("in view: Allow once on the card → %d %q; the card says %q\n", r.code, r.body, NetStatus(netCards(v)[0]))
	if r.code != 200 || r.body != "hello /in-view" || NetStatus(netCards(v)[0]) != "You chose: allow once" {
		t.Errorf("allow once from the card: %d %q, %q", r.code, r.body, NetStatus(netCards(v)[0]))
	}

	// Another chat: not in this one, told as elsewhere, answered from the tray.
	second := get(proxyOf("s-elsewhere"), "/elsewhere")
	pump("the other chat's question", func() bool { return len(elsewhere) == 1 })
	pending := rt.PendingNet()
	if len(netCards(v)) != 1 || len(pending) != 1 || pending[0].Session != "s-elsewhere" {
		t.Fatalf("cards %+v, pending %+v", netCards(v), pending)
	}
	menu := TrayMenu(TrayState{Docker: DockerReady, Net: pending}, TrayActions{OnAnswerNet: func(id string, ans assistant.NetAnswer) {
		if err := rt.AnswerNet(id, ans); err != nil {
			t.Error(err)
		}
	}})
	var deny func()
	for _, it := range menu.Items {
		if it.Label == NetTrayLabel(pending[0]) {
			for _, s := range it.ChildMenu.Items {
				if s.Label == "Deny" {
					deny = s.Action
				}
			}
		}
	}
	if deny == nil {
		t.Fatalf("no tray line for %+v", pending[0])
	}
	deny()
	r = <-second
	fmt.Printf("another chat: Deny in the tray → %d %q\n", r.code, firstLine(r.body))
	if r.code != 403 || len(rt.PendingNet()) != 0 {
		t.Errorf("deny from the tray: %d %q, pending %+v", r.code, r.body, rt.PendingNet())
	}
}

func firstLine(s string) string { before, _, _ := strings.Cut(s, "\n"); return before }
