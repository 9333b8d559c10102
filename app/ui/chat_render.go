package ui

import (
	"cmp"
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// EmptyTitle is what an empty chat says first.
const EmptyTitle = "Start a chat — the assistant works only inside a sandbox"

// untitled is what a chat without a title is called.
const untitled = "Untitled chat"

// render brings the right side up to date with the open conversation: the
// frame, and the transcript's changed items only.
func (v *ChatView) render() {
	v.renderFrame()
	v.list.sync()
	v.showTitle()
	if len(v.conv.Items) == 0 {
		if key := fmt.Sprint(v.groupName(v.conv.Group), v.setupOn); key != v.emptyKey || len(v.empty.Objects) == 0 {
			v.emptyKey = key
			var setup fyne.CanvasObject
			if v.setupOn {
				setup = v.setupObject()
			}
			v.empty.Objects = []fyne.CanvasObject{container.NewVScroll(emptyState(v.groupName(v.conv.Group), setup))}
			v.empty.Refresh()
		}
		v.empty.Show()
		v.list.box.Hide()
	} else if v.empty.Visible() {
		v.empty.Objects, v.emptyKey = nil, ""
		v.empty.Hide()
		v.list.box.Show()
	}
}

// setupObject is the first-run panel, built once.
func (v *ChatView) setupObject() fyne.CanvasObject {
	if v.setupObj == nil {
		v.setupObj = v.Setup.build()
		v.Setup.ShowGate(v.conv.Gate)
	}
	return v.setupObj
}

// checkSetup decides, off Fyne's thread, whether the first-run panel shows.
func (v *ChatView) checkSetup() {
	if v.Setup == nil {
		return
	}
	v.work(func() {
		c, err := v.Setup.store.Load()
		key, _, _ := v.Setup.store.Key(cmp.Or(c.Provider, assistant.ProviderAnthropic))
		v.do(func() {
			v.setupOn = err == nil && SetupNeeded(c, key)
			v.render()
		})
	})
}

// renderFrame updates what surrounds the transcript: the header, the
// banner, the input and Stop.
func (v *ChatView) renderFrame() {
	c := v.conv
	title := "New chat in " + v.groupName(c.Group)
	if ss, ok := v.session(c.Session); ok {
		title = cmp.Or(ss.Title, untitled) + " · " + v.groupName(c.Group)
	}
	if u, ok := v.usage[c.Session]; ok && u.InputTokens+u.OutputTokens > 0 {
		title += fmt.Sprintf(" · %d tokens", u.InputTokens+u.OutputTokens)
	}
	v.header.SetText(title)

	b := BannerFor(c.Gate)
	if v.OnBannerAction == nil {
		b.Action = ""
	}
	if b != v.shownBanner {
		v.shownBanner = b
		v.banner.Objects = nil
		if b.Show {
			v.banner.Objects = []fyne.CanvasObject{bannerBox(b, v.OnBannerAction)}
		}
		v.banner.Refresh()
		v.right.Refresh()
		if v.list.follow {
			v.list.list.ScrollToBottom() // the banner took room from the transcript
		}
	}

	if c.InputEnabled() {
		v.input.Enable()
	} else {
		v.input.Disable()
	}
	if c.InputEnabled() && !v.sending {
		v.sendBtn.Enable()
	} else {
		v.sendBtn.Disable()
	}
	if c.Busy() != 0 {
		v.stopBtn.Show()
	} else {
		v.stopBtn.Hide()
	}
}

func emptyState(group string, setup fyne.CanvasObject) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(EmptyTitle, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	body := widget.NewLabelWithStyle(
		"Messages go to the group "+group+". Every command the assistant runs, every file it reads or writes, "+
			"happens in a Docker sandbox that sees only this group's folder and the folders you mounted — and each call is in the audit log.",
		fyne.TextAlignCenter, fyne.TextStyle{})
	body.Wrapping = fyne.TextWrapWord
	if setup != nil {
		return container.NewVBox(title, body, setup)
	}
	return container.NewVBox(title, body)
}

// Banner colours: a blocked assistant is an error, a pause the user chose
// is not.
var (
	blockedTint = color.NRGBA{R: 0xdc, G: 0x4a, B: 0x26, A: 0x30}
	pausedTint  = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0x28}
)

func bannerBox(b Banner, onAction func(action string)) fyne.CanvasObject {
	tint := blockedTint
	if b.Kind != BannerBlocked {
		tint = pausedTint
	}
	bg := canvas.NewRectangle(tint)
	bg.CornerRadius = theme.InputRadiusSize()
	title := widget.NewLabelWithStyle(b.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	box := container.NewVBox(title)
	if b.Reason != "" {
		reason := widget.NewLabel(b.Reason)
		reason.Wrapping = fyne.TextWrapWord
		box.Add(reason)
	}
	if b.Hint != "" {
		hint := widget.NewRichText(HintSegments(b.Hint)...)
		hint.Wrapping = fyne.TextWrapWord
		box.Add(hint)
	}
	box.Add(widget.NewLabel(b.Typing))
	if b.Action != "" && onAction != nil {
		action := b.Action
		box.Add(container.NewHBox(widget.NewButton(action, func() { onAction(action) })))
	}
	return container.NewStack(bg, box)
}

// itemObject makes the object that shows one item.
func (v *ChatView) itemObject(it *Item) fyne.CanvasObject {
	switch it.Kind {
	case ItemUser:
		return v.userObject(it)
	case ItemAssistant:
		rt := widget.NewRichTextFromMarkdown(it.Text)
		rt.Wrapping = fyne.TextWrapWord
		return rt
	case ItemTool:
		return v.cardObject(it.Card)
	case ItemTurnEnd:
		return v.turnEndObject(it)
	case ItemNet:
		return v.netCardObject(it.Net)
	}
	l := widget.NewLabelWithStyle(it.Text, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

// userTint sets the user's messages apart from the assistant's.
var userTint = color.NRGBA{R: 0x3d, G: 0x7e, B: 0xd6, A: 0x22}

func (v *ChatView) userObject(it *Item) fyne.CanvasObject {
	who := widget.NewLabelWithStyle("You", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text := widget.NewLabel(it.Text)
	text.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(who, text)
	if it.Note != "" {
		note := widget.NewLabelWithStyle(it.Note, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		box.Add(note)
	}
	bg := canvas.NewRectangle(userTint)
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, box)
}

// turnEndObject says how a turn ended, after its last item, with Retry.
func (v *ChatView) turnEndObject(it *Item) fyne.CanvasObject {
	note := widget.NewLabelWithStyle(it.Text, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.WarningImportance
	buttons := container.NewHBox()
	if it.CanRetry() {
		id := it.MessageID
		buttons.Add(widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { v.onRetry(id) }))
	}
	if KeyProblem(it.Text) && v.OnOpenSettings != nil {
		buttons.Add(widget.NewButtonWithIcon("Open Settings", theme.SettingsIcon(), v.OnOpenSettings))
	}
	if len(buttons.Objects) == 0 {
		return note
	}
	return container.NewVBox(note, buttons)
}

// KeyProblem reports whether a failed turn's reason is a missing or
// refused API key, which Settings fixes.
func KeyProblem(reason string) bool {
	return strings.Contains(reason, assistant.ErrNoKey.Error()) || strings.Contains(reason, assistant.ErrAuth.Error())
}

// Window titles: the task bar says when the chat in view waits for an
// approval (and a keyboard-only user, or a test, knows the card is there).
const (
	TitleIdle   = "Berth"
	TitleAsking = "Berth — approval needed"
)

// WindowTitle is the chat window's title for the chat in view.
func (v *ChatView) WindowTitle() string {
	if v.conv.Asking() != nil {
		return TitleAsking
	}
	return TitleIdle
}

func (v *ChatView) showTitle() {
	if v.win != nil && v.win.Title() != v.WindowTitle() {
		v.win.SetTitle(v.WindowTitle())
	}
}
