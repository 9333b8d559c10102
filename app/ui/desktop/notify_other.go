//go:build !linux

package desktop

import "errors"

// sendNotification is Linux's; elsewhere Fyne's notifications name the app
// from its metadata.
func sendNotification(app, title, body string) error {
	return errors.New("no freedesktop notifications here")
}
