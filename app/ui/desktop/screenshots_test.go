package desktop_test

import (
	"context"
	"encoding/binary"
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

	"github.com/berth-app/berth/app/llm/llmtest"
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
}

// savePNG turns an XWD screen dump (ZPixmap, 32 bits per pixel, as Xvfb
// gives) into a PNG cropped to what is not black: the app's window.
func savePNG(t *testing.T, xwd []byte, path string) {
	t.Helper()
	be := binary.BigEndian
	hdr, w, h := int(be.Uint32(xwd[0:])), int(be.Uint32(xwd[16:])), int(be.Uint32(xwd[20:]))
	bpl, ncolors := int(be.Uint32(xwd[48:])), int(be.Uint32(xwd[76:]))
	px := xwd[hdr+ncolors*12:]
	at := func(x, y int) color.RGBA {
		i := y*bpl + x*4
		return color.RGBA{px[i+2], px[i+1], px[i], 255}
	}
	maxX, maxY := 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if c := at(x, y); c.R|c.G|c.B != 0 {
				maxX, maxY = max(maxX, x), max(maxY, y)
			}
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, maxX+1, maxY+1))
	for y := 0; y <= maxY; y++ {
		for x := 0; x <= maxX; x++ {
			img.SetRGBA(x, y, at(x, y))
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
	t.Logf("wrote %s (%dx%d)", path, maxX+1, maxY+1)
}
