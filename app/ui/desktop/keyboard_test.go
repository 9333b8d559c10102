package desktop_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/home/installtest"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/app/ui"
	"github.com/berth-app/berth/app/ui/desktop/racelog"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestDesktopKeyboard drives the real app under Xvfb with real key events
// only (xdotool): type a message, Enter, Shift+Tab to the approval's
// "Allow once", Space; the command runs in the sandbox and the answer is
// stored — read back from the app's own store and audit log.
func TestDesktopKeyboard(t *testing.T) {
	for _, bin := range []string{"Xvfb", "dbus-daemon", "xdotool"} {
		_, err := exec.LookPath(bin)
		dockertest.Require(t, err == nil, bin+" is not installed (apt-get install xvfb dbus xdotool)")
	}
	real := dockertest.Client(t)
	fake := llmtest.NewAnthropic(t)
	fake.Queue(
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "k1", Name: "bash", Input: `{"command":"echo typed by keyboard"}`}}},
		llmtest.Reply{Text: []string{"The sandbox said: typed by keyboard."}},
	)
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	display := startXvfb(t)
	bus := startBus(t, dir)
	home := filepath.Join(dir, "home")
	id := installID(t, home)
	db := seedAskingGroup(t, home)
	for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), racelog.Env(t), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus,
		"BERTH_HOME="+home, "BERTH_IMAGE="+dockertest.TestImage, "DOCKER_HOST="+real.Endpoint().Host,
		"ANTHROPIC_BASE_URL="+fake.URL, "ANTHROPIC_API_KEY=sk-keyboard-test",
		"XDG_CONFIG_HOME="+dir+"/xdg-config", "XDG_CACHE_HOME="+dir+"/xdg-cache", "XDG_DATA_HOME="+dir+"/xdg-data",
		"XDG_RUNTIME_DIR="+dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
		if t.Failed() {
			t.Logf("berth output:\n%s", logs.String())
		}
	})
	xdo := func(args ...string) { t.Helper(); xdotool(t, display, args...) }
	// The window opens with the message box focused: type and send.
	xdo("search", "--sync", "--onlyvisible", "--name", "^Berth$", "windowfocus", "--sync")
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", cmd.Process.Pid), "/StatusNotifierItem/menu")
	eventually(t, 30*time.Second, "the tray menu to say Docker is ready", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready")
	})
	xdo("type", "--delay", "30", "run the echo")
	xdo("key", "Return")
	waitFor(t, 30*time.Second, "the approval to be asked", func() bool { return hasEvent(t, db, agent.AuditApprovalAsk) })
	// The audit event is written before the card is made: the window's
	// title says when the card is there (xdotool's --sync waits for it).
	waitFor(t, 60*time.Second, "the window's title to say an approval is needed", func() bool {
		c := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+ui.TitleAsking+"$")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		return c.Run() == nil // exit 1 while no window has that name
	})
	// Tab from the message box: Stop, Send, the transcript, the card's
	// Show, Allow once.
	for range 5 {
		xdo("key", "Tab")
	}
	xdo("key", "space")
	waitFor(t, 30*time.Second, "the user's approval in the audit log", func() bool { return hasEvent(t, db, agent.AuditApprovalGrant) })
	if grant := event(t, db, agent.AuditApprovalGrant); grant.Actor != store.ActorUser || strings.Contains(string(grant.Detail), "always") ||
		!strings.Contains(string(grant.Detail), "allow once") {
		t.Errorf("the grant: actor %q, detail %s; want the user's allow once", grant.Actor, grant.Detail)
	}
	waitFor(t, 60*time.Second, "the answer to be stored", func() bool {
		return strings.Contains(answer(t, db), "The sandbox said: typed by keyboard.")
	})
	t.Logf("keyboard only: typed, sent, Tab×5 to Allow once, Space; the answer %q is stored", answer(t, db))
}

// seedAskingGroup makes the main group ask before every tool call, and
// returns the database's path.
func seedAskingGroup(t *testing.T, home string) string {
	t.Helper()
	p, st := installtest.Open(t, home, store.Options{})
	defer st.Close()
	if _, err := st.CreateGroup(context.Background(), store.Group{Slug: "main", Name: "Main", Settings: []byte(`{"approval":"ask-all"}`)}); err != nil {
		t.Fatal(err)
	}
	return p.DB
}

func hasEvent(t *testing.T, db, kind string) bool { return event(t, db, kind).Seq != 0 }

// event is the first audit event of kind, the zero Event for none.
func event(t *testing.T, db, kind string) store.Event {
	t.Helper()
	st, err := store.OpenReadOnly(db)
	if err != nil {
		return store.Event{}
	}
	defer st.Close()
	evs, err := st.Events(context.Background(), store.Filter{Kind: kind, Limit: 1})
	if err != nil || len(evs) == 0 {
		return store.Event{}
	}
	return evs[0]
}

// answer is the text of every assistant message stored in main's chats.
func answer(t *testing.T, db string) string {
	t.Helper()
	st, err := store.OpenReadOnly(db)
	if err != nil {
		return ""
	}
	defer st.Close()
	ctx := context.Background()
	ss, err := st.Sessions(ctx, "main")
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, s := range ss {
		msgs, _ := st.Messages(ctx, s.ID)
		for _, m := range msgs {
			if m.Role == "assistant" {
				b.WriteString(m.Content)
			}
		}
	}
	return b.String()
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
