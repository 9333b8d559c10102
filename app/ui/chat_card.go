package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// cardObject is a tool call as a compact card: a status icon, the call's
// one-line summary (ellipsised, so that a long command never widens the
// window) and how it ended; expanded, its whole input and output, wrapped.
// An approval shows what it approves and the buttons.
func (v *ChatView) cardObject(card *ToolCard) fyne.CanvasObject {
	summary := widget.NewLabelWithStyle(card.Summary, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	summary.Truncation = fyne.TextTruncateEllipsis
	status := widget.NewLabel(CardStatus(*card))
	icon := widget.NewIcon(cardIcon(*card))
	var right fyne.CanvasObject = status
	if DetailOf(card.Tool, card.Input).Full != "" || ShownOutput(*card) != "" || card.Running && liveMore(*card) {
		label, ic := "Show", theme.MenuExpandIcon()
		if card.Expanded {
			label, ic = "Hide", theme.MenuDropUpIcon()
		}
		toggle := widget.NewButtonWithIcon(label, ic, func() { v.onExpand(card) })
		toggle.Importance = widget.LowImportance
		right = container.NewHBox(status, toggle)
	}
	body := container.NewVBox(container.NewBorder(nil, nil, icon, right, summary))
	if card.Expanded {
		if d := DetailOf(card.Tool, card.Input); d.Body != "" {
			body.Add(mono(d.Full))
		}
		if out := ShownOutput(*card); out != "" && !card.Running {
			body.Add(mono(out))
		}
	}
	if card.Running && !card.Asking {
		body.Add(v.liveObject(card))
	} else {
		delete(v.live, card.CallID)
	}
	if card.Asking {
		body.Add(v.approvalObject(card))
	}
	return widget.NewCard("", "", body)
}

// approvalObject shows what an approval approves — the whole command, the
// content to be written (the first lines, then "Show all"), or a diff — and
// the three answers, the second naming the tool it covers.
func (v *ChatView) approvalObject(card *ToolCard) fyne.CanvasObject {
	box := container.NewVBox()
	d := DetailOf(card.Tool, card.Input)
	if d.Label != "" {
		box.Add(widget.NewLabelWithStyle(d.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		text := d.Body
		if card.Expanded {
			text = d.Full
		}
		box.Add(mono(text))
		if d.Body != d.Full && !card.Expanded {
			more := widget.NewButton("Show all", func() { v.onExpand(card) })
			more.Importance = widget.LowImportance
			box.Add(container.NewHBox(more))
		}
	}
	allow := widget.NewButton("Allow once", func() { v.onAnswer(card, assistant.AllowOnce) })
	allow.Importance = widget.HighImportance
	always := widget.NewButton(AlwaysLabel(card.Tool), func() { v.onAnswer(card, assistant.AllowAlways) })
	deny := widget.NewButton("Deny", func() { v.onAnswer(card, assistant.Deny) })
	deny.Importance = widget.DangerImportance
	ask := widget.NewLabel("The assistant wants to do this in the sandbox. Allow it?")
	ask.Wrapping = fyne.TextWrapWord
	box.Add(ask)
	box.Add(container.NewHBox(allow, always, deny))
	return box
}

// AlwaysLabel is the "always" button of an approval: it names the tool it
// allows from now on in this group.
func AlwaysLabel(tool string) string {
	return "Always allow " + cmp.Or(tool, "this tool") + " in this group"
}

func mono(s string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Wrapping = fyne.TextWrapBreak // long lines break inside the card
	return l
}

func cardIcon(c ToolCard) fyne.Resource {
	switch {
	case c.Asking:
		return theme.QuestionIcon()
	case c.Running:
		return theme.MediaPlayIcon()
	case c.Answer == assistant.Deny.String() || c.Cut != "" || c.ExitCode < 0 && !c.Past:
		return theme.CancelIcon()
	case c.IsError || c.Err != "" || c.ExitCode > 0:
		return theme.ErrorIcon()
	}
	return theme.ConfirmIcon()
}

// ShownOutput is the output a card shows: what the call printed, but not
// the words written for the model when the user denied or stopped it.
func ShownOutput(c ToolCard) string {
	if c.Answer == assistant.Deny.String() || (c.Cut != "" && c.IsError) {
		return ""
	}
	return c.Output
}

// CallDetail is what an approval shows of a call.
type CallDetail struct {
	Label string // "Command", "Write /path", "Change /path"; "" when nothing more than the summary
	Body  string // what shows at first: at most detailLines lines
	Full  string // all of it
}

// detailLines is how many lines of a file's content an approval shows
// before "Show all".
const detailLines = 12

// DetailOf reads a call's input for its approval: bash's whole command,
// write_file's content, edit_file's change as a diff.
func DetailOf(tool, input string) CallDetail {
	var in struct {
		Command    string `json:"command"`
		Path       string `json:"path"`
		Content    string `json:"content"`
		OldString  string `json:"old_string"`
		NewString  string `json:"new_string"`
		ReplaceAll bool   `json:"replace_all"`
	}
	if input == "" || json.Unmarshal([]byte(input), &in) != nil {
		return CallDetail{}
	}
	var d CallDetail
	switch tool {
	case assistant.ToolBash:
		d = CallDetail{Label: "Command", Full: in.Command}
	case assistant.ToolWriteFile:
		d = CallDetail{Label: fmt.Sprintf("Write %s (%d bytes)", in.Path, len(in.Content)), Full: in.Content}
	case assistant.ToolEditFile:
		label := "Change " + in.Path
		if in.ReplaceAll {
			label += " (every occurrence)"
		}
		d = CallDetail{Label: label, Full: Diff(in.OldString, in.NewString)}
	default:
		return CallDetail{}
	}
	d.Body = firstLines(d.Full, detailLines)
	return d
}

// Diff shows an edit as removed and added lines.
func Diff(old, new string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(old, "\n"), "\n") {
		b.WriteString("- " + l + "\n")
	}
	for _, l := range strings.Split(strings.TrimSuffix(new, "\n"), "\n") {
		b.WriteString("+ " + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + "…"
}

// CardStatus is the one line of a tool call: what state it is in, or how
// it ended.
func CardStatus(c ToolCard) string {
	switch {
	case c.Asking:
		return "Waiting for your approval"
	case c.Running:
		if c.Answer != "" && c.Answer != assistant.Deny.String() {
			return "Running in the sandbox… (you chose " + c.Answer + ")"
		}
		return "Running in the sandbox…"
	case c.Answer == assistant.Deny.String():
		return "You denied this — not run"
	case c.Cut == CutByUser && c.IsError:
		return "Stopped by you"
	case c.Cut != "" && c.IsError:
		return "Cut short — " + c.Cut
	case c.Err != "":
		return "Could not run: " + c.Err
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
