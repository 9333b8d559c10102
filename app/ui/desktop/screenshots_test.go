package desktop_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/berth-app/berth/app/agent"
	berthhome "github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/llm/llmtest"
	"github.com/berth-app/berth/app/ui/desktop"
	"github.com/berth-app/berth/docker/dockertest"
)

// TestScreenshots regenerates the README's screenshots from the real app
// (`make screenshots` sets BERTH_SCREENSHOTS to assets/screenshots): a chat
// with tool calls against a fake model and a sample group with a mount, then
// the same window while Docker is down.
func TestScreenshots(t *testing.T) {
	out := os.Getenv("BERTH_SCREENSHOTS")
	if out == "" {
		dockertest.SkipDeliberately(t, "a generator, not a test: run `make screenshots`")
	}
	real := dockertest.Client(t)
	proxy := dockertest.NewProxy(t, real.Endpoint().Host)
	dir := t.TempDir()
	bin := berthBinary(t, dir)
	fake := llmtest.NewAnthropic(t)
	fake.Queue(
		llmtest.Reply{Text: []string{"I'll look at the project first."}, ToolCalls: []llmtest.ToolCall{{ID: "a", Name: "list_files", Input: `{"path":"/workspace/extra/project"}`}}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "b", Name: "bash", Input: `{"command":"wc -l /workspace/extra/project/*.go"}`}}},
		llmtest.Reply{ToolCalls: []llmtest.ToolCall{{ID: "c", Name: "write_file", Input: `{"path":"/workspace/group/notes.md","content":"# Project notes\n- main.go is the entry point\n"}`}}},
		llmtest.Reply{Text: []string{"The project has **one Go file**, `main.go` (3 lines). ", "I wrote a summary to `notes.md` in the group folder.\n\n", "- the project folder is mounted **read-only**\n- `.env` is masked, so I never saw it"}},
	)
	project := filepath.Join(dir, "project")
	os.MkdirAll(project, 0o755)
	os.WriteFile(filepath.Join(project, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	os.WriteFile(filepath.Join(project, ".env"), []byte("TOKEN=secret\n"), 0o600)
	home := filepath.Join(dir, "home")
	id := installID(t, home)
	env := append(os.Environ(), "BERTH_HOME="+home, "BERTH_IMAGE="+dockertest.TestImage, "DOCKER_HOST="+proxy.Host(),
		"ANTHROPIC_BASE_URL="+fake.URL, "ANTHROPIC_API_KEY=sk-screenshots")
	run := func(args ...string) {
		c := exec.Command(bin, args...)
		c.Env = env
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	firstRun(t, bin, out, dir)
	run("mount", "add", "-g", "main", project)
	run("chat", "--yes", "What is in my project? Write me a short note.")

	display := startXvfb(t)
	bus := startBus(t, dir)
	for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	app := exec.Command(bin)
	app.Env = append(env, "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus, "XDG_CONFIG_HOME="+dir+"/xdg-config",
		"XDG_CACHE_HOME="+dir+"/xdg-cache", "XDG_DATA_HOME="+dir+"/xdg-data", "XDG_RUNTIME_DIR="+dir)
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	})
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", app.Process.Pid), "/StatusNotifierItem/menu")
	eventually(t, 30*time.Second, "Docker ready", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready")
	})
	time.Sleep(1500 * time.Millisecond) // let the window settle
	savePNG(t, screenshot(t, display), filepath.Join(out, "chat.png"))

	proxy.Cut()
	eventually(t, 5*time.Second, "Docker down", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.Contains(items[0].label, "not running")
	})
	time.Sleep(1500 * time.Millisecond)
	savePNG(t, screenshot(t, display), filepath.Join(out, "blocked.png"))
	proxy.Restore()
	approvalShot(t, bin, out, dir)
	mountsShot(t, bin, out, dir)
}

// mountsShot screenshots the mount picker: a folder mounted before, and a
// folder just picked in the real folder dialog — its validation result and
// the secrets it masks shown before anything is saved. The chat window is
// closed first, so that the picker is alone on the screen; the clicks
// (xdotool) find their buttons there by colour, at any scale.
func mountsShot(t *testing.T, bin, out, dir string) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Log("no mount picker screenshot: xdotool is not installed")
		return
	}
	real := dockertest.Client(t)
	root := filepath.Join(dir, "mounts")
	home := filepath.Join(root, "home")
	id := installID(t, home)
	user := filepath.Join(root, "user") // HOME
	files := map[string]string{
		"user/project/main.go":    "package main\n\nfunc main() {}\n",
		"user/project/.env":       "TOKEN=secret\n",
		"user/project/deploy.pem": "-----BEGIN PRIVATE KEY-----\n",
		"notes/todo.md":           "# todo\n",
		"notes/.npmrc":            "//npm.example.org/:_authToken=secret\n",
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"BERTH_HOME=" + home, "BERTH_IMAGE=" + dockertest.TestImage, "DOCKER_HOST=" + real.Endpoint().Host, "HOME=" + user}
	c := exec.Command(bin, "mount", "add", "-g", "main", filepath.Join(root, "notes"))
	c.Env = append(os.Environ(), env...)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("berth mount add: %v\n%s", err, b)
	}
	// The folder dialog opens in the folder last opened in it: the project,
	// as if the user had been there before (Fyne keeps that in its
	// preferences, under BERTH_HOME).
	prefs := filepath.Join(home, "config", "desktop", "fyne", desktop.AppID, "preferences.json")
	os.MkdirAll(filepath.Dir(prefs), 0o700)
	last, _ := json.Marshal(map[string]string{"fyne:fileDialogLastFolder": "file://" + filepath.Join(user, "project")})
	if err := os.WriteFile(prefs, last, 0o600); err != nil {
		t.Fatal(err)
	}
	display := startXvfb(t)
	bus := startBus(t, root)
	app := startApp(t, bin, root, display, bus, env...)
	defer func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	}()
	waitReady(t, app, bus)
	xdo := func(args ...string) { t.Helper(); xdotool(t, display, args...) }
	xdo("search", "--sync", "--onlyvisible", "--name", "^Berth$", "windowfocus", "--sync")
	xdo("key", "ctrl+w")
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", app.Process.Pid), "/StatusNotifierItem/menu")
	// The tray menu is rebuilt every few seconds, with new item ids: click
	// again until the picker is open.
	waitFor(t, 30*time.Second, "the mount picker", func() bool {
		items, err := layout(tray)
		if err != nil {
			return false
		}
		click(t, tray, find(t, items, "Mounts"))
		time.Sleep(500 * time.Millisecond)
		c := exec.Command("xdotool", "search", "--onlyvisible", "--name", "Mounts")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		return c.Run() == nil
	})
	xdo("search", "--sync", "--onlyvisible", "--name", "Mounts", "windowfocus", "--sync")
	// The clicks find their targets on the screen, so that they land at any
	// scale: the picker's only primary (blue) button is "Add folder…"; the
	// folder dialog's is Open, which picks the folder it shows (the
	// project); then the check's Add appears.
	buttons := func() []image.Rectangle { return blueButtons(t, screenshot(t, display)) }
	var add image.Rectangle
	waitFor(t, 30*time.Second, "the picker's Add folder… button", func() bool {
		b := buttons()
		if len(b) == 1 {
			add = b[0]
		}
		return len(b) == 1
	})
	// Each click waits for what it opens to be drawn; a click that was lost
	// (the window not yet taking input) is made again.
	clickUntil := func(what string, at image.Point, drawn func([]image.Rectangle) bool) {
		t.Helper()
		waitFor(t, 30*time.Second, what, func() bool {
			// Fyne reads a click's position from the last move it
			// processed: move, let a frame pass, click.
			xdo("mousemove", fmt.Sprint(at.X), fmt.Sprint(at.Y))
			time.Sleep(300 * time.Millisecond)
			xdo("click", "1")
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if drawn(buttons()) {
					return true
				}
				time.Sleep(200 * time.Millisecond)
			}
			return false
		})
	}
	var open image.Rectangle
	clickUntil("the folder dialog", centre(add), func(b []image.Rectangle) bool {
		for _, r := range b {
			if r != add {
				open = r
				return true
			}
		}
		return false
	})
	clickUntil("the checked folder", centre(open), func(b []image.Rectangle) bool {
		// The dialog gone and a new button: the check's Add (the picker
		// scrolls it into view, which may move Add folder… too).
		for _, r := range b {
			if r == open {
				return false
			}
		}
		return len(b) == 2 || len(b) == 1 && b[0] != add
	})
	time.Sleep(time.Second) // the rest of the check's result is drawn
	savePNG(t, screenshot(t, display), filepath.Join(out, "mounts.png"))
}

// firstRun screenshots a fresh install with no API key: the setup panel.
func firstRun(t *testing.T, bin, out, dir string) {
	t.Helper()
	real := dockertest.Client(t)
	root := filepath.Join(dir, "first")
	home := filepath.Join(root, "home")
	id := installID(t, home)
	os.MkdirAll(root, 0o700)
	display := startXvfb(t)
	bus := startBus(t, root)
	app := startApp(t, bin, root, display, bus, "BERTH_HOME="+home, "BERTH_IMAGE="+dockertest.TestImage,
		"DOCKER_HOST="+real.Endpoint().Host, "ANTHROPIC_API_KEY=")
	defer func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	}()
	waitReady(t, app, bus)
	time.Sleep(1500 * time.Millisecond) // let the window settle
	savePNG(t, screenshot(t, display), filepath.Join(out, "first-run.png"))
}

// approvalShot screenshots an edit_file approval with its diff, in a group
// that asks before every call; the message is typed with xdotool.
func approvalShot(t *testing.T, bin, out, dir string) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Log("no approval screenshot: xdotool is not installed")
		return
	}
	real := dockertest.Client(t)
	fake := llmtest.NewAnthropic(t)
	fake.Queue(llmtest.Reply{Text: []string{"I'll fix the greeting."}, ToolCalls: []llmtest.ToolCall{{ID: "e", Name: "edit_file",
		Input: `{"path":"/workspace/group/hello.go","old_string":"fmt.Println(\"helo\")","new_string":"fmt.Println(\"hello\")"}`}}})
	root := filepath.Join(dir, "approval")
	home := filepath.Join(root, "home")
	id := installID(t, home)
	seedAskingGroup(t, home)
	os.MkdirAll(root, 0o700)
	display := startXvfb(t)
	bus := startBus(t, root)
	app := startApp(t, bin, root, display, bus, "BERTH_HOME="+home, "BERTH_IMAGE="+dockertest.TestImage,
		"DOCKER_HOST="+real.Endpoint().Host, "ANTHROPIC_BASE_URL="+fake.URL, "ANTHROPIC_API_KEY=sk-screenshots")
	defer func() {
		app.Process.Signal(syscall.SIGKILL)
		app.Wait()
		real.Reap(context.Background(), id, time.Now().Add(100*365*24*time.Hour))
	}()
	waitReady(t, app, bus)
	for _, args := range [][]string{{"search", "--sync", "--onlyvisible", "--name", "^Berth$", "windowfocus", "--sync"},
		{"type", "--delay", "20", "Fix the typo in hello.go"}, {"key", "Return"}} {
		xdotool(t, display, args...)
	}
	p, err := berthhome.Resolve() // BERTH_HOME is this home (installID)
	if err != nil {
		t.Fatal(err)
	}
	db := p.DB
	waitFor(t, 30*time.Second, "the approval", func() bool { return hasEvent(t, db, agent.AuditApprovalAsk) })
	time.Sleep(1500 * time.Millisecond) // let the window settle
	savePNG(t, screenshot(t, display), filepath.Join(out, "approval.png"))
}

// startApp starts berth under display and bus with XDG folders in root.
func startApp(t *testing.T, bin, root, display, bus string, env ...string) *exec.Cmd {
	t.Helper()
	for _, d := range []string{"xdg-config", "xdg-cache", "xdg-data"} {
		os.MkdirAll(filepath.Join(root, d), 0o700)
	}
	app := exec.Command(bin)
	app.Env = append(append(os.Environ(), env...), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus,
		"XDG_CONFIG_HOME="+root+"/xdg-config", "XDG_CACHE_HOME="+root+"/xdg-cache", "XDG_DATA_HOME="+root+"/xdg-data", "XDG_RUNTIME_DIR="+root)
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	return app
}

// waitReady waits for the app's tray to say Docker is ready.
func waitReady(t *testing.T, app *exec.Cmd, bus string) {
	t.Helper()
	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tray := conn.Object(fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", app.Process.Pid), "/StatusNotifierItem/menu")
	eventually(t, 30*time.Second, "Docker ready", func() ([]menuItem, bool) {
		items, err := layout(tray)
		return items, err == nil && len(items) > 0 && strings.HasPrefix(items[0].label, "Docker ready")
	})
}

// savePNG turns an XWD screen dump (ZPixmap, BGR, 24 or 32 bits per pixel:
// Xvfb's depth-24 screen here packs 3 bytes a pixel) into a PNG cropped to
// what is not black: the app's window.
func savePNG(t *testing.T, xwd []byte, path string) {
	t.Helper()
	at, w, h := xwdPixels(t, xwd)
	minX, minY, maxX, maxY := w, h, 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if c := at(x, y); c.R|c.G|c.B != 0 {
				minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
			}
		}
	}
	if maxX < minX {
		t.Fatalf("%s: the screen is black", path)
	}
	img := image.NewRGBA(image.Rect(0, 0, maxX-minX+1, maxY-minY+1))
	for y := minY; y <= maxY; y++ {
		for x := minX; x <= maxX; x++ {
			img.SetRGBA(x-minX, y-minY, at(x, y))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%dx%d)", path, maxX-minX+1, maxY-minY+1)
}

// xwdPixels reads an XWD screen dump's pixels.
func xwdPixels(t *testing.T, xwd []byte) (at func(x, y int) color.RGBA, w, h int) {
	t.Helper()
	be := binary.BigEndian
	hdr, w, h := int(be.Uint32(xwd[0:])), int(be.Uint32(xwd[16:])), int(be.Uint32(xwd[20:]))
	bpp, bpl, ncolors := int(be.Uint32(xwd[44:])), int(be.Uint32(xwd[48:])), int(be.Uint32(xwd[76:]))
	if bpp != 24 && bpp != 32 {
		t.Fatalf("xwd: %d bits per pixel, want 24 or 32", bpp)
	}
	px := xwd[hdr+ncolors*12:]
	return func(x, y int) color.RGBA {
		i := y*bpl + x*bpp/8
		return color.RGBA{px[i+2], px[i+1], px[i], 255}
	}, w, h
}

// blueButtons finds the primary (blue) buttons on a screenshot: the
// bounding boxes of the blue areas at least a button's size, top to
// bottom, left to right.
func blueButtons(t *testing.T, xwd []byte) []image.Rectangle {
	at, w, h := xwdPixels(t, xwd)
	blue := func(x, y int) bool { c := at(x, y); return c.B > 200 && c.R < 100 }
	seen := make([]bool, w*h)
	var found []image.Rectangle
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if seen[y*w+x] || !blue(x, y) {
				continue
			}
			r := image.Rect(x, y, x+1, y+1)
			stack := []image.Point{{x, y}}
			seen[y*w+x] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				r = r.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
				for _, q := range []image.Point{{p.X + 1, p.Y}, {p.X - 1, p.Y}, {p.X, p.Y + 1}, {p.X, p.Y - 1}} {
					if q.In(image.Rect(0, 0, w, h)) && !seen[q.Y*w+q.X] && blue(q.X, q.Y) {
						seen[q.Y*w+q.X] = true
						stack = append(stack, q)
					}
				}
			}
			// A button, not a radio's dot or a focus line.
			if r.Dx() >= 40 && r.Dy() >= 20 {
				found = append(found, r)
			}
		}
	}
	return found
}

func centre(r image.Rectangle) image.Point { return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2) }
