package ui

import (
	"strings"

	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// BannerKind is what a banner is about, which sets its colour: a pause the
// user chose is calm, a blocked assistant is an error.
type BannerKind int

// The kinds of banner.
const (
	BannerBlocked  BannerKind = iota // Docker is down or needs attention (red)
	BannerPaused                     // the user paused the assistant (neutral)
	BannerChecking                   // Docker is being checked (neutral)
)

// Banner is what the chat window says about a closed gate.
type Banner struct {
	Show   bool
	Kind   BannerKind
	Title  string // what is wrong, in a few words
	Reason string // the one-line reason
	Hint   string // what to do; `backticks` mark commands
	Action string // a button that may fix it: "Resume", "Build image", "Retry"; "" for none
	Typing string // what happens to typing and waiting messages
}

// Banner actions.
const (
	ActionResume = "Resume"
	ActionBuild  = "Build image"
	ActionRetry  = "Retry"
)

// The words for the two ways the assistant stops working, used by the
// banner, the tray and the notifications alike.
const (
	PausedTitle     = "Paused by you"
	DownTitle       = "Docker is not running — the assistant is blocked"
	AttentionTitle  = "Docker needs attention — the assistant is blocked"
	typingOffPaused = "Typing is off while paused; messages you sent wait and run when you resume."
	typingOffDocker = "Typing is off until Docker is back; messages you sent wait and run then."
)

// BannerFor says why the gate is closed and what to do; Show is false
// while it is open.
func BannerFor(g assistant.GateState) Banner {
	if g.Open {
		return Banner{}
	}
	reason, hint := g.Reason, g.Hint
	b := Banner{Show: true, Reason: reason, Hint: hint, Typing: typingOffDocker}
	switch {
	case g.Paused != "":
		b.Kind, b.Title, b.Action, b.Typing = BannerPaused, PausedTitle, ActionResume, typingOffPaused
		if hint == "" {
			b.Hint = "Resume it from the tray menu."
		}
	case g.Docker == assistant.DockerDown:
		b.Title, b.Action = DownTitle, ActionRetry
		if hint == "" {
			b.Hint = "Start Docker; waiting messages run as soon as it is ready."
		}
	case g.Docker == assistant.DockerMisconfigured:
		b.Title, b.Action = AttentionTitle, ActionRetry
		if g.Image != "" && !g.ImagePresent && strings.Contains(g.Reason, "is missing") {
			b.Action = ActionBuild
		}
	default:
		b.Kind, b.Title = BannerChecking, "Checking Docker…"
		if reason == "checking Docker…" {
			b.Reason = ""
		}
	}
	return b
}

// HintSegments renders a hint's `backticks` as inline code.
func HintSegments(hint string) []widget.RichTextSegment {
	var segs []widget.RichTextSegment
	for i, part := range strings.Split(hint, "`") {
		if part == "" {
			continue
		}
		style := widget.RichTextStyleInline
		if i%2 == 1 {
			style = widget.RichTextStyleCodeInline
		}
		segs = append(segs, &widget.TextSegment{Text: part, Style: style})
	}
	return segs
}

// PlainHint is a hint for places that cannot show code (notifications, the
// tray): the backticks dropped.
func PlainHint(hint string) string { return strings.ReplaceAll(hint, "`", "") }
