//go:build !linux

package desktop

import (
	"errors"

	"github.com/berth-app/berth/app/ui"
)

// sendNotification is Linux's; elsewhere Fyne's notifications name the app
// from its metadata (and have no buttons).
func sendNotification(app string, note ui.Note, onAction func(key string)) error {
	return errors.New("no freedesktop notifications here")
}
