package desktop

import (
	"sync"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/ui"
)

// The freedesktop notification service's names.
const (
	notifyDest      = "org.freedesktop.Notifications"
	notifyPath      = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyAction    = notifyDest + ".ActionInvoked"
	notifyClosed    = notifyDest + ".NotificationClosed"
	notifyNoTimeout = int32(-1) // the server's default
)

// notifier sends notifications over one D-Bus connection and calls back
// when the user presses one of their buttons (the ActionInvoked signal).
type notifier struct {
	conn   *dbus.Conn
	listen sync.Once
	mu     sync.Mutex
	wait   map[uint32]func(key string) // by notification id: its buttons' callback
}

// session is the notifier on the session bus (connected on first use).
var session struct {
	once sync.Once
	n    *notifier
	err  error
}

// sendNotification shows a notification through the freedesktop
// notification service, with app as the sender's name and the note's
// buttons; onAction gets the key of the one pressed.
func sendNotification(app string, note ui.Note, onAction func(key string)) error {
	session.once.Do(func() {
		conn, err := dbus.SessionBus() // shared, never closed
		session.n, session.err = &notifier{conn: conn}, err
	})
	if session.err != nil {
		return session.err
	}
	return session.n.send(app, note, onAction)
}

func (n *notifier) send(app string, note ui.Note, onAction func(key string)) error {
	n.listen.Do(n.watch)
	actions := []string{}
	for _, a := range note.Actions {
		actions = append(actions, a.Key, a.Label)
	}
	// Held across the call: a button pressed at once finds its callback.
	n.mu.Lock()
	defer n.mu.Unlock()
	var id uint32
	err := n.conn.Object(notifyDest, notifyPath).Call(notifyDest+".Notify", 0, app, uint32(0), "",
		note.Title, note.Body, actions, map[string]dbus.Variant{}, notifyNoTimeout).Store(&id)
	if err == nil && len(actions) > 0 && onAction != nil {
		if n.wait == nil {
			n.wait = map[uint32]func(string){}
		}
		n.wait[id] = onAction
	}
	return err
}

// watch hands the service's ActionInvoked signals to the notes' callbacks
// and forgets a note once it is answered or closed.
func (n *notifier) watch() {
	if err := n.conn.AddMatchSignal(dbus.WithMatchObjectPath(notifyPath), dbus.WithMatchInterface(notifyDest)); err != nil {
		return // no buttons then; the notifications still show
	}
	ch := make(chan *dbus.Signal, 16)
	n.conn.Signal(ch)
	go func() {
		for s := range ch {
			if s.Path != notifyPath || len(s.Body) < 2 {
				continue
			}
			id, ok := s.Body[0].(uint32)
			if !ok || s.Name != notifyAction && s.Name != notifyClosed {
				continue
			}
			n.mu.Lock()
			f := n.wait[id]
			delete(n.wait, id)
			n.mu.Unlock()
			if key, ok := s.Body[1].(string); ok && f != nil && s.Name == notifyAction {
				f(key)
			}
		}
	}()
}
