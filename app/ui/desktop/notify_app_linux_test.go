package desktop_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/ui"
	"github.com/berth-app/berth/app/ui/desktop/racelog"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestApprovalNoteOpensTheChat runs the real app under Xvfb with a
// notification service on its private D-Bus: with the window closed to the
// tray, a turn of `berth chat` (through the app's runtime) waits for an
// approval; the app's notification offers Open chat, and the service
// reporting it pressed (ActionInvoked) opens the chat window.
func TestApprovalNoteOpensTheChat(t *testing.T) {
	for _, bin := range []string{"Xvfb", "dbus-daemon", "xdotool"} {
		_, err := exec.LookPath(bin)
		dockertest.Require(t, err == nil, bin+" is not installed (apt-get install xvfb dbus xdotool)")
	}
	real := dockertest.Client(t)
	fakeModel := llmtest.NewAnthropic(t)
	fakeModel.Queue(llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "n1", Name: "bash", Input: `{"command":"echo hi"}`}}})
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	display := startXvfb(t)
	bus := startBus(t, dir)
	server, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	fake := &fakeNotifications{calls: make(chan notifyCall, 16)}
	const path = dbus.ObjectPath("/org/freedesktop/Notifications")
	if err := server.Export(fake, path, "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if r, err := server.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the notification service's name: %v %v", r, err)
	}
	home := filepath.Join(dir, "home")
	id := installID(t, home)
	seedAskingGroup(t, home)
	env := []string{"BERTH_HOME=" + home, "BERTH_IMAGE=" + dockertest.TestImage, "DOCKER_HOST=" + real.Endpoint().Host,
		"ANTHROPIC_BASE_URL=" + fakeModel.URL, "ANTHROPIC_API_KEY=sk-notify-test"}
	app := startApp(t, bin, dir, display, bus, append(env, racelog.Env(t))...)
	t.Cleanup(func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	})
	waitReady(t, app, bus)
	xdo := func(args ...string) error {
		c := exec.Command("xdotool", args...)
		c.Env = append(os.Environ(), "DISPLAY="+display)
		return c.Run()
	}
	pid := fmt.Sprint(app.Process.Pid)
	if err := xdo("search", "--sync", "--onlyvisible", "--pid", pid, "--name", "^Berth$", "windowfocus", "--sync"); err != nil {
		t.Fatalf("xdotool: %v", err)
	}
	xdo("key", "ctrl+w")
	open := func() bool { return xdo("search", "--onlyvisible", "--pid", pid, "--name", "^Berth$") == nil }
	waitFor(t, 30*time.Second, "Ctrl+W to close the chat window", func() bool { return !open() })

	// The turn's approval is asked on this chat's terminal, which never
	// answers: it waits.
	chat := exec.Command(bin, "chat", "-g", "main", "Say hi in the sandbox.")
	chat.Env = append(app.Env, racelog.Env(t))
	stdin, err := chat.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { chat.Process.Kill(); chat.Wait(); stdin.Close() }()

	var note notifyCall
	deadline := time.After(60 * time.Second)
	for note.summary != "Berth needs your approval" {
		select {
		case note = <-fake.calls:
		case <-deadline:
			t.Fatal("no approval notification")
		}
	}
	if want := []string{"open-chat", "Open chat"}; !slices.Equal(note.actions, want) || note.app != ui.AppName {
		t.Fatalf("the approval's note: app %q, actions %q; want %q", note.app, note.actions, want)
	}
	if open() {
		t.Fatal("the window opened before Open chat was pressed")
	}
	if err := server.Emit(path, "org.freedesktop.Notifications.ActionInvoked", note.id, "open-chat"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "Open chat to open the chat window", open)
}
