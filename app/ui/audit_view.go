package ui

import (
	"context"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// AuditView is the audit viewer: a filtered, paged list of the log's
// events, the selected event's JSON, and Verify and Export.
type AuditView struct {
	log   AuditLog
	ctx   context.Context
	win   fyne.Window
	pager *AuditPager
	// do runs a func on Fyne's thread, async runs one off it; fyne.Do and
	// a goroutine unless a test swaps them. later runs a func on Fyne's
	// thread after the current layout (fyne.Do).
	do, async, later func(func())
	// Save asks where to write an export and calls write with the file;
	// the app's default is a save dialog. The name is a suggestion.
	Save func(name string, write func(io.Writer) error)

	group, session *widget.Entry
	kind           *widget.SelectEntry
	list           *widget.List
	details        *widget.Label
	verify         *widget.Label
	status         *widget.Label
	format         *widget.Select
	selected       int64 // seq of the selected event, 0 for none
	refreshQueued  bool
	gen            int          // counts moves: a read for an earlier one is dropped
	reading        map[int]bool // pages being read for the list
}

// NewAuditView makes the audit viewer over the log; ctx bounds its reads.
func NewAuditView(ctx context.Context, log AuditLog) *AuditView {
	v := &AuditView{log: log, ctx: ctx, do: fyne.Do, later: fyne.Do, async: func(f func()) { go f() }}
	v.pager = NewAuditPager(func(f assistant.AuditFilter) ([]assistant.AuditEvent, error) { return log.Events(v.ctx, f) })
	v.Save = v.saveDialog
	return v
}

// NewAuditWindow opens a window on the audit viewer.
func NewAuditWindow(app fyne.App, v *AuditView) fyne.Window {
	w := app.NewWindow("Berth — Audit log")
	w.SetIcon(AppIcon())
	v.win = w
	w.SetContent(v.build())
	w.Resize(fyne.NewSize(1000, 640))
	return w
}

func (v *AuditView) build() fyne.CanvasObject {
	v.group, v.session, v.kind = widget.NewEntry(), widget.NewEntry(), widget.NewSelectEntry(nil)
	v.group.SetPlaceHolder("group")
	v.session.SetPlaceHolder("session")
	v.kind.SetPlaceHolder("kind, e.g. exec")
	for _, e := range []*widget.Entry{v.group, v.session, &v.kind.Entry} {
		e.OnSubmitted = func(string) { v.onFilter() }
	}
	filter := widget.NewButtonWithIcon("Filter", theme.SearchIcon(), v.onFilter)
	filters := container.NewBorder(nil, nil, nil, filter, container.NewGridWithColumns(3, v.group, v.session, v.kind))

	v.list = widget.NewList(v.pager.Len,
		func() fyne.CanvasObject {
			l := widget.NewLabelWithStyle("#000000  2006-01-02 15:04:05  kind  group  summary", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		v.updateRow)
	v.list.OnSelected = v.onSelect

	v.details = widget.NewLabelWithStyle("Select an event to see all of it.", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.details.Wrapping = fyne.TextWrapBreak
	split := container.NewHSplit(v.list, container.NewVScroll(v.details))
	split.Offset = 0.6

	earlier := widget.NewButtonWithIcon("Earlier", theme.MoveUpIcon(), v.onEarlier)
	latest := widget.NewButtonWithIcon("Latest", theme.MoveDownIcon(), v.onLatest)
	verify := widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), v.onVerify)
	v.format = widget.NewSelect(ExportFormats, nil)
	v.format.SetSelected(ExportFormats[0])
	// The export is of the whole log, whatever the filter: a part of the
	// chain could not be verified on its own.
	export := widget.NewButtonWithIcon("Export all…", theme.DocumentSaveIcon(), v.onExport)
	v.verify = widget.NewLabel("")
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	bar := container.NewHBox(earlier, latest, verify, v.format, export)
	bottom := container.NewVBox(container.NewBorder(nil, nil, bar, nil, v.verify), v.status)

	v.moveLatest(AuditQuery{})
	return container.NewBorder(filters, bottom, nil, nil, split)
}

// load shows the pager's rows after it moved, or why it could not: from
// the newest when newest (the viewer opens there), else from the top.
func (v *AuditView) load(err error, newest bool) {
	if err != nil {
		v.status.SetText("Could not read the audit log: " + err.Error())
	} else {
		v.status.SetText(v.countText())
	}
	v.list.UnselectAll()
	v.selected = 0
	v.details.SetText("Select an event to see all of it.")
	v.list.Refresh()
	v.kind.SetOptions(AuditKinds(v.pager.loadedEvents()))
	if newest {
		v.list.ScrollToBottom()
	} else {
		v.list.ScrollToTop()
	}
}

func (v *AuditView) countText() string {
	n := plural(v.pager.Len(), "event", "events")
	if !v.pager.Done() {
		n += " so far (more load as you scroll)"
	}
	if v.pager.Base() > 0 {
		n += ", after #" + thousands(v.pager.Base())
	}
	return n
}

// updateRow fills a list row from the pages in memory; a page that is not
// (or the next one, for the last rows) is read off Fyne's thread and the
// list refreshed for it.
func (v *AuditView) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	ev, ok, want := v.pager.cached(i)
	l := o.(*widget.Label)
	switch {
	case ok:
		l.SetText(EventLine(ev))
	case want >= 0:
		l.SetText("…")
	default:
		l.SetText("")
	}
	if want >= 0 {
		v.readPage(want)
	}
}

// readPage reads page k of the rows off Fyne's thread and shows it.
func (v *AuditView) readPage(k int) {
	f, ok := v.pager.wantFilter(k)
	if !ok || v.reading[k] {
		return
	}
	if v.reading == nil {
		v.reading = map[int]bool{}
	}
	v.reading[k] = true
	gen, fetch := v.gen, v.pager.Fetch
	v.async(func() {
		evs, err := fetch(f)
		v.do(func() {
			if gen != v.gen {
				return
			}
			delete(v.reading, k)
			err := v.pager.put(k, f, evs, err)
			v.refreshLater(err)
		})
	})
}

// refreshLater refreshes the list once the current layout is done.
func (v *AuditView) refreshLater(err error) {
	if err != nil {
		v.status.SetText("Could not read the audit log: " + err.Error())
	}
	if v.refreshQueued {
		return
	}
	v.refreshQueued = true
	v.later(func() {
		v.refreshQueued = false
		v.list.Refresh()
		if err == nil {
			v.status.SetText(v.countText())
		}
	})
}

// move reads the rows of a move off Fyne's thread, then shows them.
func (v *AuditView) move(read func() auditStart, newest bool) {
	v.gen++
	gen := v.gen
	v.reading = nil
	v.status.SetText("Reading the audit log…")
	v.async(func() {
		s := read()
		v.do(func() {
			if gen == v.gen {
				v.load(v.pager.start(s), newest)
			}
		})
	})
}

func (v *AuditView) moveLatest(q AuditQuery) {
	fetch, size := v.pager.Fetch, v.pager.size()
	v.move(func() auditStart { return readLatest(fetch, q, size) }, true)
}

func (v *AuditView) onSelect(i widget.ListItemID) {
	ev, ok, _ := v.pager.cached(i)
	if !ok {
		v.details.SetText("…")
		return
	}
	v.selected = ev.Seq
	v.details.SetText(EventJSON(ev))
}

// Query is the filter the fields describe.
func (v *AuditView) Query() AuditQuery {
	return AuditQuery{Group: v.group.Text, Session: v.session.Text, Kind: v.kind.Text}
}

func (v *AuditView) onFilter() { v.moveLatest(v.Query()) }

func (v *AuditView) onLatest() { v.moveLatest(v.Query()) }

func (v *AuditView) onEarlier() {
	base := v.pager.Base()
	if base <= 0 {
		v.status.SetText(v.countText() + " — this is the start of the log.")
		return
	}
	fetch, q, size := v.pager.Fetch, v.pager.Query(), v.pager.size()
	v.move(func() auditStart { return readEarlier(fetch, q, base, size) }, false)
}

func (v *AuditView) onVerify() {
	v.verify.Importance = widget.MediumImportance
	v.verify.SetText("Verifying…")
	v.async(func() {
		r, err := v.log.Verify(v.ctx)
		v.do(func() {
			switch {
			case err != nil:
				v.verify.Importance = widget.DangerImportance
				v.verify.SetText("Could not verify: " + err.Error())
			case r.OK:
				v.verify.Importance = widget.SuccessImportance
				v.verify.SetText(VerifyText(r))
			default:
				v.verify.Importance = widget.DangerImportance
				v.verify.SetText(VerifyText(r))
			}
		})
	})
}

func (v *AuditView) onExport() {
	name, format := ExportName(v.format.Selected)
	v.status.SetText("The export holds every event of the log, not only those the filter shows, so that its chain can be verified.")
	v.Save(name, func(w io.Writer) error { return v.log.Export(v.ctx, w, format) })
}

// saveDialog asks for a file, then writes the export off Fyne's thread.
func (v *AuditView) saveDialog(name string, write func(io.Writer) error) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			v.status.SetText("Could not export: " + err.Error())
			return
		}
		if wc == nil {
			return
		}
		v.status.SetText("Exporting to " + wc.URI().Path() + "…")
		v.async(func() {
			err := write(wc)
			if cerr := wc.Close(); err == nil {
				err = cerr
			}
			v.do(func() {
				if err != nil {
					v.status.SetText("Could not export: " + err.Error())
					return
				}
				v.status.SetText("Exported to " + wc.URI().Path() + ".")
			})
		})
	}, v.win)
	d.SetFileName(name)
	// Start in Downloads or the home folder, never in a folder another
	// dialog left behind (the mount picker's .ssh, say).
	if dir, err := storage.ListerForURI(storage.NewFileURI(ExportFolder())); err == nil {
		d.SetLocation(dir)
	}
	d.Show()
}
