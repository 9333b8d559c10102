package desktop_test

import (
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/ui"
	"github.com/berth-app/berth/app/ui/desktop"
	"github.com/berth-app/berth/docker/dockertest"
)

// fakeNotifications is a freedesktop notification service: it records each
// Notify call; the test emits the signals a user's click makes it send.
type fakeNotifications struct {
	mu    sync.Mutex
	next  uint32
	calls chan notifyCall
}

type notifyCall struct {
	id                 uint32
	app, summary, body string
	actions            []string
}

func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	f.next++
	id := f.next
	f.mu.Unlock()
	f.calls <- notifyCall{id, app, summary, body, actions}
	return id, nil
}

func (f *fakeNotifications) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

// TestNotificationButtons sends the app's notifications to a notification
// service on a private D-Bus: a network question's note carries Allow once,
// Deny and Open chat, and the button the service reports pressed
// (ActionInvoked) reaches the note's callback — once, and never for a note
// closed unanswered or for another program's.
func TestNotificationButtons(t *testing.T) {
	_, err := exec.LookPath("dbus-daemon")
	dockertest.Require(t, err == nil, "dbus-daemon is not installed (apt-get install dbus)")
	bus := startBus(t, t.TempDir())
	server, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	fake := &fakeNotifications{calls: make(chan notifyCall, 8)}
	const path = dbus.ObjectPath("/org/freedesktop/Notifications")
	if err := server.Export(fake, path, "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if r, err := server.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the notification service's name: %v %v", r, err)
	}
	client, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	send := desktop.NewNotifier(client)
	pressed := make(chan string, 8)
	onAction := func(note ui.Note) func(string) {
		return func(key string) { pressed <- note.NetID + ":" + key }
	}
	received := func() notifyCall {
		t.Helper()
		select {
		case c := <-fake.calls:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("the service got no Notify call")
		}
		return notifyCall{}
	}
	emit := func(signal string, args ...any) {
		t.Helper()
		if err := server.Emit(path, "org.freedesktop.Notifications."+signal, args...); err != nil {
			t.Fatal(err)
		}
	}

	q := assistant.NetQuestion{ID: "net-1", Group: "work", Session: "s2", Host: "pypi.org", Port: 443}
	note, _ := ui.NetNote(q, false, false)
	if err := send(ui.AppName, note, onAction(note)); err != nil {
		t.Fatal(err)
	}
	c := received()
	if want := []string{"allow-once", "Allow once", "deny", "Deny", "open-chat", "Open chat"}; !slices.Equal(c.actions, want) ||
		c.app != ui.AppName || c.summary != note.Title || c.body != note.Body {
		t.Errorf("Notify(%q, %q, %q, actions %q), want actions %q", c.app, c.summary, c.body, c.actions, want)
	}

	// A second note, closed unanswered; a third whose Deny is pressed.
	q2 := q
	q2.ID = "net-2"
	closed, _ := ui.NetNote(q2, false, false)
	if err := send(ui.AppName, closed, onAction(closed)); err != nil {
		t.Fatal(err)
	}
	c2 := received()
	emit("NotificationClosed", c2.id, uint32(2))
	emit("ActionInvoked", c2.id, "allow-once") // late: ignored
	emit("ActionInvoked", uint32(999), "deny") // another program's
	emit("ActionInvoked", c.id, "allow-once")
	emit("ActionInvoked", c.id, "deny") // the same note again: ignored
	q3 := q
	q3.ID = "net-3"
	third, _ := ui.NetNote(q3, false, false)
	if err := send(ui.AppName, third, onAction(third)); err != nil {
		t.Fatal(err)
	}
	emit("ActionInvoked", received().id, "deny")

	var got []string
	for len(got) < 2 {
		select {
		case k := <-pressed:
			got = append(got, k)
		case <-time.After(10 * time.Second):
			t.Fatalf("buttons pressed: %q, want the first note's Allow once and the third's Deny", got)
		}
	}
	if want := []string{"net-1:allow-once", "net-3:deny"}; !slices.Equal(got, want) {
		t.Errorf("buttons reported %q, want %q", got, want)
	}
	// A note without buttons sends an empty action list.
	if err := send(ui.AppName, ui.Note{Title: "Berth answered", Body: "Done."}, nil); err != nil {
		t.Fatal(err)
	}
	if c := received(); len(c.actions) != 0 {
		t.Errorf("a note without buttons sent actions %q", c.actions)
	}
	select {
	case k := <-pressed:
		t.Errorf("a button reported that was not pressed: %s", k)
	default:
	}
}
