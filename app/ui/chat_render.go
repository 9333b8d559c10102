package ui

import (
	"cmp"
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/agent"
)

// EmptyTitle is what an empty chat says first.
const EmptyTitle = "Start a chat — the assistant works only inside a sandbox"

// render rebuilds the right side from the open conversation.
func (v *ChatView) render() {
	c := v.conv
	title := "New chat in " + v.groupName(c.Group)
	if ss, ok := v.session(c.Session); ok {
		title = cmp.Or(ss.Title, "Untitled chat") + " · " + v.groupName(c.Group)
	}
	if u, ok := v.usage[c.Session]; ok && u.InputTokens+u.OutputTokens > 0 {
		title += fmt.Sprintf(" · %d tokens", u.InputTokens+u.OutputTokens)
	}
	v.header.SetText(title)

	v.banner.Objects = nil
	if b := BannerFor(c.Gate); b.Show {
		if v.OnBannerAction == nil {
			b.Action = ""
		}
		v.banner.Objects = []fyne.CanvasObject{bannerBox(b, v.OnBannerAction)}
	}

	var objs []fyne.CanvasObject
	if len(c.Items) == 0 {
		objs = append(objs, emptyState(v.groupName(c.Group)))
	}
	for i := range c.Items {
		objs = append(objs, v.itemObject(&c.Items[i]))
	}
	v.items.Objects = objs

	if c.InputEnabled() {
		v.input.Enable()
		v.sendBtn.Enable()
	} else {
		v.input.Disable()
		v.sendBtn.Disable()
	}
	if c.Busy() != 0 {
		v.stopBtn.Show()
	} else {
		v.stopBtn.Hide()
	}
	v.right.Refresh()
	v.scroll.ScrollToBottom()
}

func emptyState(group string) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(EmptyTitle, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	body := widget.NewLabelWithStyle(
		"Messages go to the group "+group+". Every command the assistant runs, every file it reads or writes, "+
			"happens in a Docker sandbox that sees only this group's folder and the folders you mounted — and each call is in the audit log.",
		fyne.TextAlignCenter, fyne.TextStyle{})
	body.Wrapping = fyne.TextWrapWord
	return container.NewVBox(title, body)
}

func bannerBox(b Banner, onAction func(action string)) fyne.CanvasObject {
	bg := canvas.NewRectangle(color.NRGBA{R: 0xdc, G: 0x4a, B: 0x26, A: 0x30})
	bg.CornerRadius = theme.InputRadiusSize()
	title := widget.NewLabelWithStyle(b.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	box := container.NewVBox(title)
	if b.Reason != "" {
		reason := widget.NewLabel(b.Reason)
		reason.Wrapping = fyne.TextWrapWord
		box.Add(reason)
	}
	if b.Hint != "" {
		hint := widget.NewLabelWithStyle(b.Hint, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		hint.Wrapping = fyne.TextWrapWord
		box.Add(hint)
	}
	box.Add(widget.NewLabel("Typing is off until the assistant can work; messages you sent wait and run then."))
	if b.Action != "" && onAction != nil {
		action := b.Action
		box.Add(container.NewHBox(widget.NewButton(action, func() { onAction(action) })))
	}
	return container.NewStack(bg, box)
}

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
	}
	l := widget.NewLabelWithStyle(it.Text, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.LowImportance
	return l
}

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
	if it.CanRetry() {
		again := it.Text
		box.Add(container.NewHBox(widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() { v.onRetry(again) })))
	}
	return box
}

func (v *ChatView) cardObject(card *ToolCard) fyne.CanvasObject {
	content := container.NewVBox()
	if card.Output != "" {
		out, more := PreviewOf(card.Output)
		if card.Expanded {
			out = card.Output
		}
		l := widget.NewLabelWithStyle(out, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		l.Wrapping = fyne.TextWrapBreak
		content.Add(l)
		if more {
			label := "Show full output"
			if card.Expanded {
				label = "Show less"
			}
			content.Add(container.NewHBox(widget.NewButton(label, func() { v.onExpand(card) })))
		}
	}
	if card.Asking {
		allow := widget.NewButton("Allow once", func() { v.onAnswer(card, agent.AllowOnce) })
		allow.Importance = widget.HighImportance
		always := widget.NewButton("Always for this group", func() { v.onAnswer(card, agent.AllowAlways) })
		deny := widget.NewButton("Deny", func() { v.onAnswer(card, agent.Deny) })
		deny.Importance = widget.DangerImportance
		content.Add(widget.NewLabel("The assistant wants to run this in the sandbox. Allow it?"))
		content.Add(container.NewHBox(allow, always, deny))
	}
	return widget.NewCard("", "", container.NewVBox(
		widget.NewLabelWithStyle(card.Summary, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}),
		widget.NewLabel(CardStatus(*card)),
		content,
	))
}

// CardStatus is the one line under a tool call: what state it is in, or
// how it ended.
func CardStatus(c ToolCard) string {
	switch {
	case c.Asking:
		return "Waiting for your approval"
	case c.Running:
		if c.Answer != "" && c.Answer != agent.Deny.String() {
			return "Running in the sandbox… (you chose " + c.Answer + ")"
		}
		return "Running in the sandbox…"
	case c.Err != "":
		return "Could not run: " + c.Err
	case c.Answer == agent.Deny.String():
		return "Denied by you — not run"
	case c.Past && c.IsError:
		return "Failed"
	case c.Past:
		return "Done"
	case c.ExitCode < 0:
		return "Not run"
	}
	return fmt.Sprintf("exit %d · %s", c.ExitCode, roundDuration(c.Duration))
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
