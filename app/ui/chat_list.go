package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// transcript shows a conversation's items in a widget.List: only the rows
// in view exist as widgets, and a change rebuilds only the items it touched —
// a streamed token re-parses one answer, not the transcript. Each item's
// object is kept until the item changes; its height is measured at the
// list's width and given to the list.
type transcript struct {
	list  *widget.List
	box   *fyne.Container // the list inside a layout that notices width changes
	build func(it *Item) fyne.CanvasObject
	// patch, when set, updates a card's object in place from the card it
	// was built from and reports whether it could.
	patch func(old ToolCard, card *ToolCard) bool
	items func() []Item

	rows   []row
	width  float32
	follow bool // keep the newest item in view
	// Builds counts item objects made, for tests and the benchmark.
	Builds int
}

// row is one item as last shown.
type row struct {
	seen   Item
	card   ToolCard // a copy of seen.Card, to notice changes to the card
	obj    fyne.CanvasObject
	text   *widget.RichText // an assistant answer, updated in place while it streams
	width  float32          // the width obj was measured at
	height float32
}

// rowMin is the height assumed for an item not measured yet.
const rowMin = 40

func newTranscript(items func() []Item, build func(*Item) fyne.CanvasObject) *transcript {
	t := &transcript{items: items, build: build, follow: true}
	t.list = widget.NewList(
		func() int { return len(t.rows) },
		func() fyne.CanvasObject {
			spacer := canvas.NewRectangle(nil)
			spacer.SetMinSize(fyne.NewSize(0, rowMin))
			return container.NewStack(spacer)
		},
		t.update)
	t.list.HideSeparators = true
	// The transcript is read, not picked from: a click selects nothing.
	t.list.OnSelected = func(id widget.ListItemID) { t.list.Unselect(id) }
	t.box = container.New(&widthLayout{onWidth: t.onWidth}, t.list)
	return t
}

// reset forgets every row: another conversation is shown.
func (t *transcript) reset() {
	t.rows = nil
	t.follow = true
	t.list.UnselectAll()
	t.sync()
}

// sync brings the rows up to date with the items: new and changed items get
// a new (or updated) object and a measured height; unchanged ones keep
// theirs. It reports whether anything changed.
func (t *transcript) sync() bool {
	items := t.items()
	changed := len(items) != len(t.rows)
	if len(t.rows) > len(items) {
		t.rows = t.rows[:len(items)]
	}
	for i := range items {
		if i == len(t.rows) {
			t.rows = append(t.rows, row{})
		}
		r := &t.rows[i]
		if r.obj != nil && same(r, &items[i]) {
			continue
		}
		changed = true
		t.refresh(i, &items[i])
	}
	if len(items) > 0 {
		t.measureTail()
	}
	if changed {
		t.list.Refresh()
		if t.follow {
			t.list.ScrollToBottom()
		}
	}
	return changed
}

// same reports whether an item still looks as its row shows it.
func same(r *row, it *Item) bool {
	if r.seen != *it {
		return false
	}
	return it.Card == nil || r.card == *it.Card
}

// refresh makes row i show it: a streaming answer's text is parsed into the
// same widget; anything else gets a new object.
func (t *transcript) refresh(i int, it *Item) {
	r := &t.rows[i]
	switch {
	case r.text != nil && it.Kind == ItemAssistant && r.seen.Kind == ItemAssistant:
		r.text.ParseMarkdown(it.Text)
	case r.obj != nil && it.Card != nil && r.seen.Card == it.Card && t.patch != nil && t.patch(r.card, it.Card):
		// a running command's output, updated in place
	default:
		r.obj = t.build(it)
		r.text = nil
		if rt, ok := r.obj.(*widget.RichText); ok {
			r.text = rt
		}
		t.Builds++
	}
	r.seen = *it
	if it.Card != nil {
		r.card = *it.Card
	}
	r.width = 0 // measure again
}

// measureTail measures the last items up to two screens high, so that the
// bottom of the transcript is where the list thinks it is; the others are
// measured when they come into view.
func (t *transcript) measureTail() {
	if t.width <= 0 {
		return
	}
	limit := 2 * max(t.list.Size().Height, 400)
	var sum float32
	for i := len(t.rows) - 1; i >= 0 && sum < limit; i-- {
		t.measure(i)
		sum += t.rows[i].height
	}
}

// measure gives row i its height at the list's width (building its object
// first if it has none).
func (t *transcript) measure(i int) {
	r := &t.rows[i]
	if r.obj == nil {
		it := t.items()[i]
		t.refresh(i, &it)
	}
	if r.width == t.width && r.height > 0 {
		return
	}
	r.obj.Resize(fyne.NewSize(t.width, r.obj.MinSize().Height))
	h := r.obj.MinSize().Height
	r.width = t.width
	if h != r.height {
		r.height = h
		t.list.SetItemHeight(i, h)
	}
}

// update is the list's UpdateItem: put row id's object in the recycled row.
func (t *transcript) update(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(t.rows) {
		return
	}
	t.measure(id)
	c := o.(*fyne.Container)
	if len(c.Objects) != 1 || c.Objects[0] != t.rows[id].obj {
		c.Objects = []fyne.CanvasObject{t.rows[id].obj}
		c.Refresh()
	}
}

// onWidth re-measures the rows in view when the list's width changes.
func (t *transcript) onWidth(w float32) {
	t.width = w - 2*theme.Padding() // the list's scroll bar and inset
	if len(t.rows) > 0 {
		t.measureTail()
		t.list.Refresh()
		if t.follow {
			t.list.ScrollToBottom()
		}
	}
}

// widthLayout fills its one object and reports width changes.
type widthLayout struct {
	onWidth func(float32)
	last    float32
}

func (l *widthLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
	if size.Width != l.last && size.Width > 0 {
		l.last = size.Width
		l.onWidth(size.Width)
	}
}

func (l *widthLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, 0)
}
