package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestDisplayMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, goos string
		env        map[string]string
		missing    bool
		x11        bool
	}{
		{"ssh session", "linux", map[string]string{"XDG_SESSION_TYPE": "tty"}, true, false},
		{"nothing set", "linux", nil, true, false},
		{"X11", "linux", map[string]string{"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, false, false},
		{"X11 under xvfb-run, no session type", "linux", map[string]string{"DISPLAY": ":99"}, false, true},
		{"ssh -X", "linux", map[string]string{"DISPLAY": "localhost:10.0", "XDG_SESSION_TYPE": "tty"}, false, true},
		{"Wayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, false, false},
		{"Wayland with Xwayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, false, false},
		{"FreeBSD without X", "freebsd", nil, true, false},
		{"macOS has its own window server", "darwin", nil, false, false},
	}
	for _, tc := range tests {
		getenv := func(k string) string { return tc.env[k] }
		msg := displayMissing(tc.goos, getenv)
		if (msg != "") != tc.missing {
			t.Errorf("%s: displayMissing = %q, want missing %v", tc.name, msg, tc.missing)
		}
		if tc.missing {
			for _, want := range []string{"no display", "berth serve", "berth service install", "berth chat", "berth help"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: message %q does not mention %q", tc.name, msg, want)
				}
			}
		}
		if got := useX11(tc.goos, getenv); got != tc.x11 {
			t.Errorf("%s: useX11 = %v, want %v", tc.name, got, tc.x11)
		}
	}
}

// TestDesktopLog feeds the lines fyne.io/systray and Fyne log when the tray
// host or the session bus is missing: they become one friendly line, said
// once; everything else passes through untouched.
func TestDesktopLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		noBus bool
		in    []string
		want  string
	}{
		{"no tray host", false, []string{
			"2026/12/01 20:23:45 systray error: failed to register: The name org.kde.StatusNotifierWatcher was not provided by any .service files\n",
		}, "berth: nothing on this desktop shows tray icons (no org.kde.StatusNotifierWatcher on the session bus; on GNOME, add the AppIndicator extension) — the chat window works; closing it keeps Berth running, and `berth` brings it back\n"},
		{"no session bus: tray and notifications", true, []string{
			"2026/12/01 20:23:45 systray error: failed to connect to DBus: dial unix /dev/null/berth-no-session-bus: connect: not a directory\n",
			"2026/12/01 20:23:46 Fyne error:  Unable to connect to session D-Bus\n",
			"2026/12/01 20:23:46   Cause: dial unix /dev/null/berth-no-session-bus: connect: not a directory\n",
			"2026/12/01 20:23:46   At: /root/go/pkg/mod/fyne.io/fyne/v2@v2.8.1/app/app_xdg.go:73\n",
			"2026/12/01 20:27:06 Fyne error:  failed to watch theme settings\n",
			"2026/12/01 20:27:06   Cause: dial unix /dev/null/berth-no-session-bus: connect: not a directory\n",
			"2026/12/01 20:27:06   At: /root/go/pkg/mod/fyne.io/fyne/v2@v2.8.1/app/app_xdg.go:152\n",
			"2026/12/01 20:23:47 something else\n",
			"2026/12/01 20:27:07 Fyne error:  an unrelated error\n",
			"2026/12/01 20:27:07   Cause: something broke\n",
		}, "berth: no D-Bus session bus, so no tray icon and no desktop notifications — the chat window works; closing it keeps Berth running, and `berth` brings it back\n" +
			"2026/12/01 20:23:47 something else\n" +
			"2026/12/01 20:27:07 Fyne error:  an unrelated error\n2026/12/01 20:27:07   Cause: something broke\n"},
		{"other lines pass", false, []string{
			"2026/12/01 20:23:45 Fyne error:  Failed to send message to bus\n",
			"2026/12/01 20:23:45   Cause: no notification daemon\n",
			"plain line\n",
		}, "2026/12/01 20:23:45 Fyne error:  Failed to send message to bus\n2026/12/01 20:23:45   Cause: no notification daemon\nplain line\n"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		l := &desktopLog{w: &out, noBus: tc.noBus}
		for _, line := range tc.in {
			if n, err := l.Write([]byte(line)); err != nil || n != len(line) {
				t.Fatalf("%s: Write = %d, %v", tc.name, n, err)
			}
		}
		if out.String() != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, out.String(), tc.want)
		}
	}
}
