//go:build linux

package desktop

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <stdlib.h>

static int ignoreXError(Display *d, XErrorEvent *e) { return 0; }

// berthWindowPos reads an X11 window's position on the screen (its content
// area's top left, as glfwSetWindowPos takes it) and the screen's size; 0
// when it cannot. An X error (a window gone meanwhile) is ignored, not fatal.
static Display *berthDisplay(void) {
	static Display *d;
	if (!d) d = XOpenDisplay(NULL);
	return d;
}

static int berthScreenSize(int *sw, int *sh) {
	Display *d = berthDisplay();
	if (!d) return 0;
	*sw = DisplayWidth(d, DefaultScreen(d));
	*sh = DisplayHeight(d, DefaultScreen(d));
	return 1;
}

static int berthWindowPos(unsigned long win, int *x, int *y, int *sw, int *sh) {
	Display *d = berthDisplay();
	if (!d || !win) return 0;
	int (*old)(Display *, XErrorEvent *) = XSetErrorHandler(ignoreXError);
	Window child;
	int ok = XTranslateCoordinates(d, (Window)win, DefaultRootWindow(d), 0, 0, x, y, &child);
	XSync(d, False);
	XSetErrorHandler(old);
	*sw = DisplayWidth(d, DefaultScreen(d));
	*sh = DisplayHeight(d, DefaultScreen(d));
	return ok;
}
*/
import "C"

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// windowPlace reads where w is on the screen and the screen's size, in
// pixels. Fyne 2.8 can move a window (desktop.Window.RequestPosition) but
// cannot tell where it is, so Berth asks the X server; on Wayland, where
// no app may know or choose its position, it reports false.
func windowPlace(w fyne.Window) (x, y, screenW, screenH int, ok bool) {
	nw, isNative := w.(driver.NativeWindow)
	if !isNative {
		return 0, 0, 0, 0, false
	}
	nw.RunNative(func(ctx any) {
		x11, isX11 := ctx.(driver.X11WindowContext)
		if !isX11 || x11.WindowHandle == 0 {
			return
		}
		var cx, cy, sw, sh C.int
		if C.berthWindowPos(C.ulong(x11.WindowHandle), &cx, &cy, &sw, &sh) != 0 {
			x, y, screenW, screenH, ok = int(cx), int(cy), int(sw), int(sh), true
		}
	})
	return x, y, screenW, screenH, ok
}

// screenSize is the X screen's size in pixels; false without an X server
// (Wayland).
func screenSize() (w, h int, ok bool) {
	var sw, sh C.int
	if C.berthScreenSize(&sw, &sh) == 0 {
		return 0, 0, false
	}
	return int(sw), int(sh), true
}
