package desktop

import (
	"github.com/godbus/dbus/v5"
)

// sendNotification shows a notification through the freedesktop
// notification service, with app as the sender's name.
func sendNotification(app, title, body string) error {
	conn, err := dbus.SessionBus() // shared, never closed
	if err != nil {
		return err
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	return obj.Call("org.freedesktop.Notifications.Notify", 0, app, uint32(0), "",
		title, body, []string{}, map[string]dbus.Variant{}, int32(-1)).Err
}
