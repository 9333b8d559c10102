package cli

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/berth-app/berth/app/sessionbus"
)

// PrepareDesktop runs before the desktop app's libraries start (Fyne, GLFW,
// systray). With no display it says so, points to `berth serve` and the
// subcommands, and returns ok false with ExitUsage instead of letting GLFW
// panic. Otherwise it keeps the libraries from starting a D-Bus session bus
// where none exists, steers GLFW past Wayland when Wayland cannot work (so
// libwayland does not print "XDG_RUNTIME_DIR is invalid or not set"), and
// replaces the tray's and Fyne's raw D-Bus errors with one line that says
// what is missing and what still works.
func PrepareDesktop(stderr io.Writer) (code int, ok bool) {
	if msg := displayMissing(runtime.GOOS, os.Getenv); msg != "" {
		fmt.Fprint(stderr, msg)
		return ExitUsage, false
	}
	if useX11(runtime.GOOS, os.Getenv) {
		// GLFW follows XDG_SESSION_TYPE=x11 when DISPLAY is set, instead of
		// trying Wayland first (glfw/src/platform.c, _glfwSelectPlatform).
		os.Setenv("XDG_SESSION_TYPE", "x11")
	}
	noBus := false
	if runtime.GOOS != "darwin" {
		noBus = sessionbus.PreventAutolaunch() != nil
	}
	log.SetOutput(&desktopLog{w: stderr, noBus: noBus})
	return ExitOK, true
}

// displayMissing returns what to tell the user when the desktop app cannot
// open a window here ("" when it can): on Linux and the BSDs, neither
// DISPLAY nor WAYLAND_DISPLAY is set (SSH, a server, CI).
func displayMissing(goos string, getenv func(string) string) string {
	switch goos {
	case "darwin", "windows":
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return "berth: there is no display here (DISPLAY and WAYLAND_DISPLAY are unset), so the desktop app cannot open.\n" +
		"  Run the assistant without a window:   berth serve   (or as a user service: berth service install)\n" +
		"  and use it from this terminal:        berth chat, berth doctor, berth group … (berth help lists them all)\n"
}

// useX11 says whether GLFW should be told to use X11: there is an X display
// and no Wayland one, so trying Wayland first can only fail (and libwayland
// prints an error when XDG_RUNTIME_DIR is unset).
func useX11(goos string, getenv func(string) string) bool {
	switch goos {
	case "darwin", "windows":
		return false
	}
	return getenv("DISPLAY") != "" && getenv("WAYLAND_DISPLAY") == "" && getenv("XDG_SESSION_TYPE") != "x11"
}

// The lines the desktop libraries log when a part of the desktop is
// missing: fyne.io/systray's (systray_unix.go) and Fyne's own D-Bus errors
// (fyne.LogError: a "Fyne error:" line, then "  Cause:" and "  At:" lines).
const (
	trayNoBus     = "systray error: failed to connect to DBus"
	trayNoWatcher = "systray error: failed to register"
	fyneNoBus     = "Fyne error:  Unable to connect to session D-Bus"
)

// desktopLog is the standard logger's output while the desktop app runs:
// it passes every line through except the known ones about a missing tray
// host or session bus, which become one friendly line, said once.
type desktopLog struct {
	w     io.Writer
	noBus bool // PreventAutolaunch found no session bus

	mu      sync.Mutex
	said    bool
	inFyne  bool   // dropping the continuation lines of a dropped Fyne error
	pending string // a Fyne error held until its Cause says whether it is about the missing bus
}

func (l *desktopLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if msg, drop := l.filter(string(line)); drop {
			if msg != "" {
				fmt.Fprintln(l.w, msg)
			}
			continue
		}
		if _, err := l.w.Write(line); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// filter decides one log line: drop it, and maybe say msg instead.
func (l *desktopLog) filter(line string) (msg string, drop bool) {
	if held := l.pending; held != "" {
		l.pending = ""
		if strings.HasPrefix(logText(line), "  Cause:") && strings.Contains(line, sessionbus.NowherePath) {
			l.inFyne = true
			return l.sayOnce(noBusMsg), true
		}
		fmt.Fprint(l.w, held)
	}
	if l.inFyne && (strings.HasPrefix(logText(line), "  Cause:") || strings.HasPrefix(logText(line), "  At:")) {
		return "", true
	}
	l.inFyne = false
	var missing string
	switch text := logText(line); {
	case strings.HasPrefix(text, trayNoBus), strings.HasPrefix(text, fyneNoBus):
		missing = noBusMsg
		l.inFyne = strings.HasPrefix(text, "Fyne error:")
	case strings.HasPrefix(text, trayNoWatcher):
		missing = "nothing on this desktop shows tray icons (no org.kde.StatusNotifierWatcher on the session bus; on GNOME, add the AppIndicator extension)"
	case strings.HasPrefix(text, "Fyne error:") && l.noBus:
		// Fyne's other D-Bus users (notifications, theme settings, the
		// screensaver) fail on the missing bus: the Cause line says so.
		l.pending = line
		return "", true
	default:
		return "", false
	}
	return l.sayOnce(missing), true
}

// noBusMsg is what is missing without a session bus.
const noBusMsg = "no D-Bus session bus, so no tray icon and no desktop notifications"

// sayOnce returns the friendly line the first time, then nothing.
func (l *desktopLog) sayOnce(missing string) string {
	if l.said {
		return ""
	}
	l.said = true
	return "berth: " + missing + " — the chat window works; closing it keeps Berth running, and `berth` brings it back"
}

// logText strips the standard logger's "2006/01/02 15:04:05 " prefix.
func logText(line string) string {
	if len(line) > 20 && line[4] == '/' && line[7] == '/' && line[13] == ':' && line[19] == ' ' {
		return strings.TrimRight(line[20:], "\n")
	}
	return strings.TrimRight(line, "\n")
}
