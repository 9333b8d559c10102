package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/assets"
)

// AppName is Berth's name as the user sees it: window titles, the tray,
// the sender of notifications.
const AppName = "Berth"

// DockerState is Docker's health as the tray shows it.
type DockerState int

// The Docker states.
const (
	DockerChecking DockerState = iota
	DockerReady
	DockerDown
	DockerMisconfigured
)

// TrayGroup is a group as the tray's "New chat in" menu lists it.
type TrayGroup struct {
	Slug, Name string
}

// TrayState is everything the tray menu and icon are built from.
type TrayState struct {
	Docker    DockerState
	Reason    string // why Docker is not ready, one line ("" when ready)
	Paused    bool   // the user paused the assistant
	Sandboxes int    // sandboxes running now
	Groups    []TrayGroup
	NextTask  string                  // "Next task: Morning notes · Wed 08:00", "" when none
	Tasks     []TrayTask              // the "Run task now" submenu
	Net       []assistant.NetQuestion // network questions waiting, oldest first (network_tray.go)
}

// TrayTask is a task as the tray's "Run task now" menu lists it.
type TrayTask struct {
	ID, Title string
}

// TrayStateFrom turns the runtime's gate, the running sandbox count and the
// groups into a TrayState.
func TrayStateFrom(g assistant.GateState, sandboxes int, groups []assistant.Group) TrayState {
	st := TrayState{Paused: g.Paused != "", Sandboxes: sandboxes, Reason: g.Reason}
	switch g.Docker {
	case assistant.DockerReady:
		st.Docker, st.Reason = DockerReady, ""
	case assistant.DockerDown:
		st.Docker = DockerDown
	case assistant.DockerMisconfigured:
		st.Docker = DockerMisconfigured
	default:
		st.Docker = DockerChecking
	}
	for _, gr := range groups {
		st.Groups = append(st.Groups, TrayGroup{Slug: gr.Slug, Name: gr.Name})
	}
	return st
}

// TrayActions are what the tray's items do. A nil func makes its item do
// nothing.
type TrayActions struct {
	OnOpenChat func()
	OnNewChat  func(group string)
	OnPause    func()
	OnResume   func()
	OnRotate   func()
	OnStopAll  func()
	OnMounts   func()
	OnAudit    func()
	OnSettings func()
	OnTasks    func()
	OnRunTask  func(id string)
	// OnAnswerNet answers a waiting network question.
	OnAnswerNet func(id string, ans assistant.NetAnswer)
	// OnOpenNetChat opens the chat whose sandbox asks a network question.
	OnOpenNetChat func(group, session string)
}

// StatusLine is the tray's first, disabled line: Docker's state and the
// running sandboxes, or why the assistant is blocked.
func StatusLine(st TrayState) string {
	switch {
	case st.Paused:
		return "Paused by you"
	case st.Docker == DockerReady:
		return "Docker ready · " + sandboxCount(st.Sandboxes)
	case st.Docker == DockerDown:
		return "Docker is not running — assistant blocked"
	case st.Docker == DockerMisconfigured:
		return "Docker needs attention — assistant blocked"
	}
	return "Checking Docker…"
}

// Tooltip is the tray icon's tooltip: the status line, and why Docker is
// not ready when it is not.
func Tooltip(st TrayState) string {
	line := "Berth — " + StatusLine(st)
	if !st.Paused && st.Docker != DockerReady && st.Reason != "" {
		line += "\n" + st.Reason
	}
	return line
}

func sandboxCount(n int) string {
	switch n {
	case 0:
		return "no sandboxes"
	case 1:
		return "1 sandbox"
	}
	return fmt.Sprintf("%d sandboxes", n)
}

// TrayMenu builds the whole tray menu from the state; Fyne appends Quit.
// The menu is never edited in place: a changed state builds a new one.
func TrayMenu(st TrayState, act TrayActions) *fyne.Menu {
	items := []*fyne.MenuItem{{Label: StatusLine(st), Disabled: true}}
	if !st.Paused && (st.Docker == DockerDown || st.Docker == DockerMisconfigured) && st.Reason != "" {
		items = append(items, &fyne.MenuItem{Label: st.Reason, Disabled: true})
	}
	items = append(items, netTrayItems(st.Net, act)...)
	items = append(items,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open chat", call(act.OnOpenChat)),
		&fyne.MenuItem{Label: "New chat in", ChildMenu: newChatMenu(st.Groups, act.OnNewChat)},
		fyne.NewMenuItemSeparator(),
	)
	items = append(items, taskItems(st, act)...)
	if st.Paused {
		items = append(items, fyne.NewMenuItem("Resume assistant", call(act.OnResume)))
	} else {
		items = append(items, fyne.NewMenuItem("Pause assistant", call(act.OnPause)))
	}
	items = append(items,
		fyne.NewMenuItem("Rotate sandboxes", call(act.OnRotate)),
		&fyne.MenuItem{Label: "Stop all sandboxes", Action: call(act.OnStopAll), Disabled: st.Sandboxes == 0},
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Mounts…", call(act.OnMounts)),
		fyne.NewMenuItem("Audit log", call(act.OnAudit)),
		fyne.NewMenuItem("Settings", call(act.OnSettings)),
	)
	return fyne.NewMenu(AppName, items...)
}

// taskItems are the tray's lines about scheduled tasks: the next one due,
// the Tasks window, and "Run task now" with one item per task.
func taskItems(st TrayState, act TrayActions) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	if st.NextTask != "" {
		items = append(items, &fyne.MenuItem{Label: st.NextTask, Disabled: true})
	}
	items = append(items, fyne.NewMenuItem("Tasks…", call(act.OnTasks)))
	if len(st.Tasks) > 0 {
		m := fyne.NewMenu("")
		for _, t := range st.Tasks {
			id := t.ID
			m.Items = append(m.Items, fyne.NewMenuItem(t.Title, func() {
				if act.OnRunTask != nil {
					act.OnRunTask(id)
				}
			}))
		}
		items = append(items, &fyne.MenuItem{Label: "Run task now", ChildMenu: m})
	}
	return append(items, fyne.NewMenuItemSeparator())
}

func newChatMenu(groups []TrayGroup, onNew func(string)) *fyne.Menu {
	if len(groups) == 0 {
		return fyne.NewMenu("", &fyne.MenuItem{Label: "No groups yet", Disabled: true})
	}
	m := fyne.NewMenu("")
	for _, g := range groups {
		slug, label := g.Slug, g.Name
		if label == "" {
			label = slug
		}
		m.Items = append(m.Items, fyne.NewMenuItem(label, func() {
			if onNew != nil {
				onNew(slug)
			}
		}))
	}
	return m
}

// call returns f, or a func doing nothing when f is nil.
func call(f func()) func() {
	if f == nil {
		return func() {}
	}
	return f
}

// IconKind is which of the tray icons shows.
type IconKind int

// The tray icons.
const (
	IconReady  IconKind = iota // green: the assistant can work
	IconDown                   // red: Docker is down or misconfigured
	IconPaused                 // grey: paused by the user, or Docker still being checked
)

// TrayIcon picks the icon for a state. A pause wins over Docker's state:
// it is what the user chose and what Resume undoes.
func TrayIcon(st TrayState) IconKind {
	switch {
	case st.Paused:
		return IconPaused
	case st.Docker == DockerReady:
		return IconReady
	case st.Docker == DockerDown || st.Docker == DockerMisconfigured:
		return IconDown
	}
	return IconPaused
}

var (
	appIcon    = fyne.NewStaticResource("berth.png", assets.IconApp)
	readyIcon  = fyne.NewStaticResource("berth-ready.png", assets.IconReady)
	downIcon   = fyne.NewStaticResource("berth-down.png", assets.IconDown)
	pausedIcon = fyne.NewStaticResource("berth-paused.png", assets.IconPaused)
)

// Resource is the icon's image, for desktop.App's SetSystemTrayIcon.
func (k IconKind) Resource() fyne.Resource {
	switch k {
	case IconReady:
		return readyIcon
	case IconDown:
		return downIcon
	}
	return pausedIcon
}

// AppIcon is Berth's app icon, for fyne.App's SetIcon and windows.
func AppIcon() fyne.Resource { return appIcon }
