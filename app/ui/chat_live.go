package ui

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2/widget"
)

// LiveBytes is how much of a running command's output its card keeps: the
// tail, as a terminal's scrollback does.
const LiveBytes = 64 << 10

// liveLines is how many of the last lines of a running command's output a
// collapsed card shows.
const liveLines = 8

// addLive appends the next piece of a running command's output to its
// card, keeping the last LiveBytes (cut at a line start where one is near,
// never inside a character).
func (card *ToolCard) addLive(text string) {
	s := card.Live + text
	if len(s) > LiveBytes {
		cut := len(s) - LiveBytes
		if i := strings.IndexByte(s[cut:], '\n'); i >= 0 && i < 256 {
			cut += i + 1
		}
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		s = s[cut:]
		card.LiveCut = true
	}
	card.Live = s
}

// LiveShown is what a running card shows of its output: the last liveLines
// lines collapsed, all it keeps expanded.
func LiveShown(c ToolCard) string {
	s := strings.TrimSuffix(c.Live, "\n")
	if !c.Expanded {
		if lines := strings.Split(s, "\n"); len(lines) > liveLines {
			return "…\n" + strings.Join(lines[len(lines)-liveLines:], "\n")
		}
	}
	if c.LiveCut {
		return "…" + s
	}
	return s
}

// liveMore reports whether a running card has more output than it shows
// collapsed (and so offers Show).
func liveMore(c ToolCard) bool {
	return strings.Count(strings.TrimSuffix(c.Live, "\n"), "\n") >= liveLines || c.LiveCut
}

// patchCard updates a running card's output in place when that is all
// that changed since it was built (old): a command's streaming output
// touches one label, not the card, and never the transcript. It reports
// whether it did.
func (v *ChatView) patchCard(old ToolCard, card *ToolCard) bool {
	if !card.Running || card.Asking || old.Live == card.Live {
		return false
	}
	o := old
	o.Live, o.LiveCut = card.Live, card.LiveCut
	if o != *card || liveMore(old) != liveMore(*card) {
		return false
	}
	l := v.live[card.CallID]
	if l == nil {
		return false
	}
	l.SetText(LiveShown(*card))
	l.Show()
	return true
}

// liveObject is the label a running card streams its output into.
func (v *ChatView) liveObject(card *ToolCard) *widget.Label {
	l := mono(LiveShown(*card)).(*widget.Label)
	if card.Live == "" {
		l.Hide()
	}
	if v.live == nil {
		v.live = map[string]*widget.Label{}
	}
	v.live[card.CallID] = l
	return l
}
