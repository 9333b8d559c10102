// Package desktop is Berth's desktop shell: the Fyne app with its tray and
// chat window over the assistant runtime. It is the only package that needs
// Fyne's GL driver; the screens and their logic live in app/ui and test
// without a display.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	fynedesktop "fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/systray"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/ui"
)

// AppID is Berth's application id (FyneApp.toml, preferences, the tray).
const AppID = "dev.berth.app"

// Main runs the desktop app: the tray, which always shows Docker's state,
// and the chat window, over the assistant runtime that open starts. It
// returns the process exit code when the user quits.
func Main(open func(context.Context) (*assistant.Instance, error)) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inst, err := open(ctx)
	if errors.Is(err, assistant.ErrShownExisting) {
		fmt.Fprintln(os.Stderr, "berth:", err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		return 1
	}
	app.SetMetadata(fyne.AppMetadata{ID: AppID, Name: ui.AppName})
	userConfig := os.Getenv("XDG_CONFIG_HOME") // launch at login writes there
	if os.Getenv("BERTH_HOME") != "" {
		// Fyne keeps its preferences under the user's config folder
		// (XDG_CONFIG_HOME/fyne/ID); BERTH_HOME promises everything under it.
		os.Setenv("XDG_CONFIG_HOME", filepath.Join(inst.ConfigDir, "desktop"))
	}
	a := app.NewWithID(AppID)
	a.SetIcon(ui.AppIcon())
	d := &desktopApp{app: a, inst: inst, ui: ui.Connect(inst.Runtime, inst.Service), userConfig: userConfig}
	d.view = ui.NewChatView(ctx, d.ui)
	d.view.Usage = inst.Service.Usage
	d.view.OnOpenSettings = d.showSettings
	d.view.Admin = inst.Service
	d.view.Net, d.view.Network = inst.Runtime, inst.Service
	d.view.OnNetQuestion = func(q assistant.NetQuestion, inView bool) {
		if note, ok := ui.NetNote(q, inView, d.hidden.Load()); ok {
			go d.notify(note)
		}
	}
	setup := ui.NewSetupView(ui.ConfigFiles(inst.ConfigDir))
	setup.BuildImage = inst.BuildImage
	setup.OnSettings = d.showSettings
	setup.OnAddFolder = func() { d.showMounts(ctx) }
	setup.OnDone = d.view.SetupDone
	d.view.Setup = setup
	d.tasks = ui.ConnectTasks(inst.Service, inst.Scheduler)
	if inst.Scheduler != nil {
		inst.Scheduler.Approve = d.view.AskForTask
	}
	d.view.OnBannerAction = func(action string) {
		switch action {
		case ui.ActionResume:
			go func() { _ = d.ui.Resume(ctx) }()
		case ui.ActionRetry:
			inst.Runtime.Recheck()
		case ui.ActionBuild:
			d.showSettings() // the Build button there shows the build's progress
		}
	}
	// Closing the window destroys it: the assistant lives in the tray.
	d.win = d.newChatWindow()
	if ss, ok := latestChat(ctx, d.ui); ok {
		d.view.Open(ss) // pick up where the user left off
	}
	a.Lifecycle().SetOnStopped(d.saveChatPlace)
	d.view.OnCloseWindow = d.hide
	inst.Runtime.OnShow = func() { fyne.Do(d.show) }
	d.view.Watch(ctx)
	// Fyne starts its system tray only if the menu is set before Run.
	if desk, ok := a.(fynedesktop.App); ok {
		menu, icon := d.trayContent(ctx)
		desk.SetSystemTrayMenu(menu)
		desk.SetSystemTrayIcon(icon)
	}
	go d.watchTray(ctx)
	d.show()
	a.Run()
	cancel()
	if err := inst.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "berth: stopping:", err)
		return 1
	}
	return 0
}

// latestChat is the most recently active chat in any group.
func latestChat(ctx context.Context, a ui.Assistant) (assistant.Session, bool) {
	groups, err := a.Groups(ctx)
	if err != nil {
		return assistant.Session{}, false
	}
	var best assistant.Session
	for _, g := range groups {
		ss, err := a.Sessions(ctx, g.Slug)
		if err == nil && len(ss) > 0 && ss[0].Updated.After(best.Updated) {
			best = ss[0]
		}
	}
	return best, best.ID != ""
}

type desktopApp struct {
	app  fyne.App
	inst *assistant.Instance
	ui   ui.Assistant
	view *ui.ChatView
	win  fyne.Window // the chat window, nil while closed to the tray

	userConfig string              // XDG_CONFIG_HOME as Berth was started with
	hidden     atomic.Bool         // the chat window is closed to the tray
	gcPercent  int                 // the GC's target before the window closed
	memory     sync.Mutex          // held while memory is given back or restored
	was        assistant.GateState // the gate as last seen, for notifications
	openedOnce bool                // the gate has opened since start-up

	trayMu    sync.Mutex
	trayLast  ui.TrayState // what the tray menu shows
	trayShown bool         // trayLast has been set

	// The other windows are made on first use and kept: closing hides them
	// (they are small; the chat window's content is what costs).
	mountsWin, auditWin, settingsWin, tasksWin fyne.Window
	mounts                                     *ui.MountsView
	settings                                   *ui.SettingsView
	tasks                                      ui.TaskService
	tasksView                                  *ui.TasksView
}

func (d *desktopApp) showTasks(ctx context.Context) {
	group := d.view.Group()
	if d.tasksWin == nil {
		d.tasksView = ui.NewTasksView(ctx, d.tasks, group)
		d.tasksWin = d.keep(ui.WindowTasks, ui.NewTasksWindow(d.app, d.tasksView), fyne.NewSize(720, 680))
	} else {
		d.tasksView.SetGroup(group)
	}
	d.open(d.tasksWin)
}

func (d *desktopApp) showMounts(ctx context.Context) {
	group := d.view.Group()
	if d.mountsWin == nil {
		d.mounts = ui.NewMountsView(ctx, d.inst.Service, group)
		d.mountsWin = d.keep(ui.WindowMounts, ui.NewMountsWindow(d.app, d.mounts), fyne.NewSize(720, 640))
	} else {
		d.mounts.SetGroup(group)
	}
	d.open(d.mountsWin)
}

func (d *desktopApp) showAudit(ctx context.Context) {
	if d.auditWin == nil {
		d.auditWin = d.keep(ui.WindowAudit, ui.NewAuditWindow(d.app, ui.NewAuditView(ctx, d.inst.Store)), fyne.NewSize(1000, 640))
	}
	d.open(d.auditWin)
}

func (d *desktopApp) showSettings() {
	if d.settingsWin == nil {
		v := ui.NewSettingsView(ui.RuntimeSettings(d.inst.Runtime, d.inst.ConfigDir))
		v.BuildImage = d.inst.BuildImage
		if exe, err := os.Executable(); err == nil {
			home, _ := os.UserHomeDir()
			as := ui.Autostart{GOOS: runtime.GOOS, Home: home, ConfigDir: d.userConfig, Exec: exe}
			v.LaunchAtLogin = as.Enabled()
			v.OnLaunchAtLogin = as.Set
		}
		d.settings = v
		d.settingsWin = d.keep(ui.WindowSettings, ui.NewSettingsWindow(d.app, v), fyne.NewSize(720, 760))
	} else {
		d.settings.Reload() // the saved settings, not edits left unsaved
	}
	d.open(d.settingsWin)
}

// watchTray rebuilds the whole tray menu and icon from the current state
// whenever something it shows may have changed, and every few seconds for
// the sandbox count.
func (d *desktopApp) watchTray(ctx context.Context) {
	events, unsub := d.ui.Subscribe()
	defer unsub()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	d.was = d.ui.Gate()
	d.openedOnce = d.was.Open
	d.refreshTray(ctx)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return // the runtime stopped
			}
			// The gate opening at start-up is not news; later changes are.
			starting := ev.Kind == assistant.EventGate && ev.Gate != nil && ev.Gate.Open && !d.openedOnce
			if note, ok := ui.NoteFor(ev, d.was, d.hidden.Load()); ok && !starting {
				d.notify(note)
			}
			if ev.Kind == assistant.EventGate && ev.Gate != nil {
				d.was = *ev.Gate
				d.openedOnce = d.openedOnce || ev.Gate.Open
			}
			switch ev.Kind {
			case assistant.EventGate, assistant.EventTurnStart, assistant.EventTurnEnd, assistant.EventSandboxStop,
				assistant.EventTaskStart, assistant.EventTaskEnd, assistant.EventNetAsk, assistant.EventNetAnswer:
				d.refreshTray(ctx)
			}
		case <-tick.C:
			d.refreshTray(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// refreshTray rebuilds the tray menu when what it shows has changed. A
// rebuild gives every item a new id, so a click that was on its way (read
// from the menu before) would be lost: unchanged, the menu stays.
func (d *desktopApp) refreshTray(ctx context.Context) {
	desk, ok := d.app.(fynedesktop.App)
	if !ok {
		return // no system tray on this platform
	}
	st := d.trayState(ctx)
	d.trayMu.Lock()
	same := d.trayShown && reflect.DeepEqual(st, d.trayLast)
	d.trayLast, d.trayShown = st, true
	d.trayMu.Unlock()
	if same {
		return
	}
	menu, icon := d.trayMenu(ctx, st)
	fyne.Do(func() {
		desk.SetSystemTrayMenu(menu)
		desk.SetSystemTrayIcon(icon)
	})
}

// trayContent is the whole tray menu and icon for the current state.
func (d *desktopApp) trayContent(ctx context.Context) (*fyne.Menu, fyne.Resource) {
	st := d.trayState(ctx)
	d.trayMu.Lock()
	d.trayLast, d.trayShown = st, true
	d.trayMu.Unlock()
	return d.trayMenu(ctx, st)
}

// trayState is what the tray shows now.
func (d *desktopApp) trayState(ctx context.Context) ui.TrayState {
	n, _ := d.ui.RunningSandboxes(ctx)
	groups, _ := d.ui.Groups(ctx)
	st := ui.TrayStateFrom(d.ui.Gate(), n, groups)
	st.Net = d.inst.Runtime.PendingNet()
	if ts, err := d.tasks.Tasks(ctx, ""); err == nil {
		st.NextTask = ui.NextTaskLine(ts)
		for _, t := range ts {
			st.Tasks = append(st.Tasks, ui.TrayTask{ID: t.ID, Title: t.Title})
		}
	}
	return st
}

// trayMenu is the whole tray menu and icon for st; it sets the tray's
// tooltip to the status line too.
func (d *desktopApp) trayMenu(ctx context.Context, st ui.TrayState) (*fyne.Menu, fyne.Resource) {
	// Fyne has no tooltip API; its tray is fyne.io/systray, whose tooltip
	// is safe to set at any time.
	systray.SetTooltip(ui.Tooltip(st))
	menu := ui.TrayMenu(st, d.trayActions(ctx))
	// Fyne 2.8.1 appends its own Quit only after building the tray from the
	// menu, so a rebuilt menu would lose it; bring our own, last, with
	// IsQuit so that Fyne adds none.
	quit := fyne.NewMenuItem(lang.L("Quit"), d.app.Quit)
	quit.IsQuit = true
	menu.Items = append(menu.Items, fyne.NewMenuItemSeparator(), quit)
	return menu, ui.TrayIcon(st).Resource()
}

func (d *desktopApp) trayActions(ctx context.Context) ui.TrayActions {
	act := func(f func() error) func() {
		return func() {
			go func() {
				if err := f(); err != nil {
					fyne.Do(func() { d.notify(ui.Note{Title: "Berth", Body: err.Error()}) })
				}
				d.refreshTray(ctx)
			}()
		}
	}
	return ui.TrayActions{
		OnOpenChat: d.show,
		OnNewChat: func(group string) {
			d.view.NewChat(group)
			d.show()
		},
		OnPause:    act(func() error { return d.ui.Pause(ctx, "paused from the tray") }),
		OnResume:   act(func() error { return d.ui.Resume(ctx) }),
		OnRotate:   act(func() error { _, err := d.ui.Rotate(ctx, ""); return err }),
		OnStopAll:  act(func() error { return d.ui.StopAll(ctx) }),
		OnMounts:   func() { d.showMounts(ctx) },
		OnAudit:    func() { d.showAudit(ctx) },
		OnSettings: d.showSettings,
		OnTasks:    func() { d.showTasks(ctx) },
		OnRunTask: func(id string) {
			act(func() error { return d.tasks.RunTask(ctx, id) })()
		},
		OnAnswerNet: func(id string, ans assistant.NetAnswer) {
			act(func() error { return d.inst.Runtime.AnswerNet(id, ans) })()
		},
		OnOpenNetChat: func(group, session string) {
			d.view.OpenChat(group, session)
			d.show()
		},
	}
}

// notify shows a desktop notification from "Berth" (Fyne's own sends the
// app id as the sender's name), with its buttons; where that cannot be
// done, Fyne's (without them).
func (d *desktopApp) notify(note ui.Note) {
	if sendNotification(ui.AppName, note, func(key string) { d.onNoteButton(note, key) }) == nil {
		return
	}
	d.app.SendNotification(fyne.NewNotification(note.Title, note.Body))
}

// onNoteButton does what a notification's button asks: answer its network
// question, or open its chat.
func (d *desktopApp) onNoteButton(note ui.Note, key string) {
	ans, answer, open := note.Response(key)
	switch {
	case answer:
		go func() {
			if err := d.inst.Runtime.AnswerNet(note.NetID, ans); err != nil {
				d.notify(ui.Note{Title: "Berth", Body: err.Error()})
			}
		}()
	case open:
		fyne.Do(func() {
			d.view.OpenChat(note.Group, note.Session)
			d.show()
		})
	}
}
