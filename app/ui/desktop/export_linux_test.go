package desktop

import (
	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/ui"
)

// NewNotifier is the app's notifier over conn (the app's own is on the
// session bus), for tests against a notification service on a private bus.
func NewNotifier(conn *dbus.Conn) func(app string, note ui.Note, onAction func(key string)) error {
	return (&notifier{conn: conn}).send
}
