package desktop_test

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-app/berth/app/ui/desktop/racelog"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestDesktopReopen closes the chat window of a 20-message chat to the tray,
// waits until the app has given its memory back (its fonts and theme
// caches dropped, its file mappings marked random: "rr" in smaps' VmFlags),
// brings the window back by a second launch (the mappings' advice undone),
// and checks that the reopened window draws what the first one drew.
func TestDesktopReopen(t *testing.T) {
	for _, bin := range []string{"Xvfb", "dbus-daemon", "xwd", "xdotool"} {
		_, err := exec.LookPath(bin)
		dockertest.Require(t, err == nil, bin+" is not installed (apt-get install xvfb dbus x11-apps xdotool)")
	}
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		dockertest.SkipDeliberately(t, "no /proc/PID/smaps: the memory given back is Linux's")
	}
	real := dockertest.Client(t)
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	display := startXvfb(t)
	bus := startBus(t, dir)
	home := filepath.Join(dir, "home")
	id := installID(t, home)
	seedChat(t, home, 20)
	env := []string{"BERTH_HOME=" + home, "BERTH_IMAGE=" + dockertest.TestImage, "DOCKER_HOST=" + real.Endpoint().Host}
	// The pointer off where the window opens (960×640 at the top left of the
	// 1280×800 screen), before it opens: a row under it is drawn hovered,
	// and Fyne does not undo that when the pointer leaves.
	pointer := exec.Command("xdotool", "mousemove", "1270", "790")
	pointer.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := pointer.CombinedOutput(); err != nil {
		t.Fatalf("xdotool mousemove: %v: %s", err, out)
	}
	app := startApp(t, bin, dir, display, bus, append(env, racelog.Env(t))...)
	var logs bytes.Buffer
	t.Cleanup(func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	})
	waitReady(t, app, bus)
	xdo := func(args ...string) { t.Helper(); xdotool(t, display, args...) }
	pid := fmt.Sprint(app.Process.Pid)
	xdo("search", "--sync", "--onlyvisible", "--pid", pid, "--name", "^Berth$", "windowfocus", "--sync")
	before := settled(t, display)

	// Ctrl+W closes the window to the tray (a key of its own, as in
	// TestPerfDesktop).
	xdo("key", "ctrl+w")
	waitFor(t, 30*time.Second, "the closed window's memory given back", func() bool { return randomMapped(t, app.Process.Pid) })

	second := exec.Command(bin)
	second.Env = app.Env
	second.Stdout, second.Stderr = &logs, &logs
	if err := second.Run(); err != nil || !strings.Contains(logs.String(), "its window was brought forward") {
		t.Fatalf("second launch: %v %q", err, logs.String())
	}
	xdo("search", "--sync", "--onlyvisible", "--pid", pid, "--name", "^Berth$", "windowfocus", "--sync")
	if randomMapped(t, app.Process.Pid) {
		t.Error("the reopened window's file mappings are still marked random (no read-ahead)")
	}
	after := settled(t, display)
	changed, text := compare(t, before, after)
	t.Logf("%d text pixels differ; the first window drew %d", changed, text)
	if text < 2000 {
		t.Fatalf("the first window drew little text (%d pixels): nothing to compare", text)
	}
	// The composer's cursor blinks: allow that much, not a glyph's worth
	// of text drawn differently.
	if changed > 400 {
		t.Errorf("the reopened window draws %d text pixels otherwise than the first (of %d)", changed, text)
		out := t.TempDir()
		savePNG(t, before, filepath.Join(out, "before.png"))
		savePNG(t, after, filepath.Join(out, "after.png"))
	}
}

// settled is a screenshot taken once two in a row are alike (the window
// drawn, its layout done).
func settled(t *testing.T, display string) []byte {
	t.Helper()
	var shot []byte
	waitFor(t, 30*time.Second, "the window drawn", func() bool {
		prev := shot
		shot = screenshot(t, display)
		if prev == nil {
			return false
		}
		changed, text := compare(t, prev, shot)
		return text > 0 && changed <= 400
	})
	return shot
}

// compare counts the text pixels that differ between two screenshots, and
// the text pixels of the first: the window is dark, its text light. A row
// drawn hovered or focused lightens only its background, which is not
// counted; text drawn otherwise (or not at all) is.
func compare(t *testing.T, a, b []byte) (changed, text int) {
	t.Helper()
	atA, w, h := xwdPixels(t, a)
	atB, _, _ := xwdPixels(t, b)
	light := func(c color.RGBA) bool { return int(c.R)+int(c.G)+int(c.B) > 3*160 }
	apart := func(x, y uint8) bool { return max(x, y)-min(x, y) > 48 }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ca, cb := atA(x, y), atB(x, y)
			if (light(ca) || light(cb)) && (apart(ca.R, cb.R) || apart(ca.G, cb.G) || apart(ca.B, cb.B)) {
				changed++
			}
			if light(ca) {
				text++
			}
		}
	}
	return changed, text
}

// randomMapped reports whether the app's own binary is mapped with
// MADV_RANDOM ("rr" in smaps' VmFlags): what it advises while only the tray
// runs.
func randomMapped(t *testing.T, pid int) bool {
	t.Helper()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	mine := false
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 6 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			mine = f[5] == exe && !strings.Contains(f[1], "w")
		}
		if v, ok := strings.CutPrefix(l, "VmFlags:"); ok && mine && strings.Contains(" "+v+" ", " rr ") {
			return true
		}
	}
	return false
}
