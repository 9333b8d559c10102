package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/assistant"
)

// AuditQuery is what the audit viewer filters by; "" matches everything.
type AuditQuery struct {
	Group   string
	Session string
	Kind    string // a kind and every kind below it: "exec" matches "exec.start"
}

func (q AuditQuery) filter(since int64, limit int, newest bool) assistant.AuditFilter {
	return assistant.AuditFilter{Group: strings.TrimSpace(q.Group), Session: strings.TrimSpace(q.Session),
		Kind: strings.TrimSpace(q.Kind), Since: since, Limit: limit, Newest: newest}
}

// Default paging of the audit viewer.
const (
	AuditPageSize = 200
	AuditWindow   = 5 // pages kept in memory
)

// AuditPager feeds the audit viewer's list from the store a page at a
// time, so that it stays fast with any number of events. Pages are read by
// seq (Since the last event of the page before, Limit PageSize); only the
// page boundaries are kept for every page seen, and the events of at most
// Window pages. Rows are numbered from the first event after Base, oldest
// first; Len grows as the list is scrolled towards the end.
type AuditPager struct {
	Fetch    func(assistant.AuditFilter) ([]assistant.AuditEvent, error)
	PageSize int
	Window   int // at least 2
	// Fetches counts the store reads made.
	Fetches int

	query  AuditQuery
	starts []int64 // starts[k] is the Since of page k; starts[0] is the base
	count  int     // rows known: every page in starts was read once
	done   bool    // no events after the last known page
	pages  map[int][]assistant.AuditEvent
	used   []int // loaded pages, least recently used first
}

// minWindow keeps the last known page in memory while the next is read.
const minWindow = 2

// NewAuditPager pages through fetch with the default page size and window.
func NewAuditPager(fetch func(assistant.AuditFilter) ([]assistant.AuditEvent, error)) *AuditPager {
	return &AuditPager{Fetch: fetch, PageSize: AuditPageSize, Window: AuditWindow}
}

// Query is the filter in use.
func (p *AuditPager) Query() AuditQuery { return p.query }

// Len is the number of rows known so far.
func (p *AuditPager) Len() int { return p.count }

// Done reports whether the last row is known.
func (p *AuditPager) Done() bool { return p.done }

// Loaded is how many events are in memory.
func (p *AuditPager) Loaded() int {
	n := 0
	for _, pg := range p.pages {
		n += len(pg)
	}
	return n
}

// Base is the seq the rows start after.
func (p *AuditPager) Base() int64 {
	if len(p.starts) == 0 {
		return 0
	}
	return p.starts[0]
}

// From starts the rows after seq base, with a new filter.
func (p *AuditPager) From(q AuditQuery, base int64) error {
	p.query, p.starts, p.count, p.done = q, []int64{max(base, 0)}, 0, false
	p.pages, p.used = map[int][]assistant.AuditEvent{}, nil
	evs, err := p.load(0)
	if err != nil {
		p.done = true
		return err
	}
	p.count, p.done = len(evs), len(evs) < p.size()
	return nil
}

// Latest starts the rows at the newest page of events matching q.
func (p *AuditPager) Latest(q AuditQuery) error {
	p.Fetches++
	evs, err := p.Fetch(q.filter(0, p.size(), true))
	if err != nil {
		p.query, p.starts, p.count, p.done, p.pages, p.used = q, []int64{0}, 0, true, map[int][]assistant.AuditEvent{}, nil
		return fmt.Errorf("read audit events: %w", err)
	}
	base := int64(0)
	if len(evs) > 0 {
		base = evs[0].Seq - 1
	}
	return p.From(q, base)
}

// Earlier moves the base back so that about a page of earlier events
// shows; it reports false at the start of the log. The store pages only
// forward, so the span to step back doubles until it holds a match.
func (p *AuditPager) Earlier() (bool, error) {
	base := p.Base()
	if base <= 0 {
		return false, nil
	}
	for span := int64(p.size()); ; span *= 2 {
		from := max(base-span, 0)
		p.Fetches++
		evs, err := p.Fetch(p.query.filter(from, 1, false))
		if err != nil {
			return false, fmt.Errorf("read audit events: %w", err)
		}
		if (len(evs) > 0 && evs[0].Seq <= base) || from == 0 {
			return true, p.From(p.query, from)
		}
	}
}

// Row is the event at row i, reading its page when it is not in memory.
// Reaching the last known page reads the next one, so that Len grows.
func (p *AuditPager) Row(i int) (assistant.AuditEvent, error) {
	size := p.size()
	k, off := i/size, i%size
	if i < 0 || k >= len(p.starts) {
		return assistant.AuditEvent{}, fmt.Errorf("no audit row %d", i)
	}
	evs, err := p.page(k)
	if err != nil {
		return assistant.AuditEvent{}, err
	}
	if off >= len(evs) {
		return assistant.AuditEvent{}, fmt.Errorf("no audit row %d", i)
	}
	ev := evs[off]
	if k == len(p.starts)-1 && !p.done {
		if err := p.extend(evs); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// extend reads the page after the last known one.
func (p *AuditPager) extend(last []assistant.AuditEvent) error {
	if len(last) < p.size() {
		p.done = true
		return nil
	}
	k := len(p.starts)
	p.starts = append(p.starts, last[len(last)-1].Seq)
	evs, err := p.load(k)
	if err != nil {
		p.starts = p.starts[:k]
		return err
	}
	if len(evs) == 0 {
		p.starts, p.done = p.starts[:k], true
		p.drop(k)
		return nil
	}
	p.count += len(evs)
	p.done = len(evs) < p.size()
	return nil
}

// page returns page k from memory or the store.
func (p *AuditPager) page(k int) ([]assistant.AuditEvent, error) {
	if evs, ok := p.pages[k]; ok {
		p.touch(k)
		return evs, nil
	}
	return p.load(k)
}

// load reads page k and keeps it, dropping the least recently used page
// beyond the window.
func (p *AuditPager) load(k int) ([]assistant.AuditEvent, error) {
	p.Fetches++
	evs, err := p.Fetch(p.query.filter(p.starts[k], p.size(), false))
	if err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	p.pages[k] = evs
	p.touch(k)
	for len(p.used) > max(p.Window, minWindow) {
		p.drop(p.used[0])
	}
	return evs, nil
}

func (p *AuditPager) touch(k int) {
	for i, u := range p.used {
		if u == k {
			p.used = append(p.used[:i], p.used[i+1:]...)
			break
		}
	}
	p.used = append(p.used, k)
}

func (p *AuditPager) drop(k int) {
	delete(p.pages, k)
	for i, u := range p.used {
		if u == k {
			p.used = append(p.used[:i], p.used[i+1:]...)
			return
		}
	}
}

func (p *AuditPager) size() int {
	if p.PageSize <= 0 {
		return AuditPageSize
	}
	return p.PageSize
}

// EventLine is an event's row in the list.
func EventLine(ev assistant.AuditEvent) string {
	where := ev.Group
	if where == "" {
		where = "—"
	}
	return fmt.Sprintf("#%d  %s  %s  %s  %s", ev.Seq, ev.Time.UTC().Format("2006-01-02 15:04:05"), ev.Kind, where, ev.Summary)
}

// eventJSON is an event as the details pane shows it.
type eventJSON struct {
	Seq      int64           `json:"seq"`
	Time     string          `json:"time"`
	Group    string          `json:"group"`
	Session  string          `json:"session"`
	Kind     string          `json:"kind"`
	Actor    assistant.Actor `json:"actor"`
	Summary  string          `json:"summary"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// EventJSON is an event pretty-printed for the details pane.
func EventJSON(ev assistant.AuditEvent) string {
	rec := eventJSON{ev.Seq, ev.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"), ev.Group, ev.Session, ev.Kind,
		ev.Actor, ev.Summary, ev.Detail, ev.PrevHash, ev.Hash}
	if !json.Valid(rec.Detail) {
		rec.Detail, _ = json.Marshal(string(ev.Detail))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		return err.Error()
	}
	return strings.TrimRight(b.String(), "\n")
}

// VerifyText is what the audit viewer says about a verification.
func VerifyText(r assistant.AuditReport) string {
	if r.OK {
		return "Intact — " + plural(int(r.Events), "event", "events")
	}
	at := ""
	if r.FirstBad > 0 {
		at = fmt.Sprintf(" at #%d", r.FirstBad)
	}
	return fmt.Sprintf("BROKEN%s (%s): %s", at, r.Problem, r.Reason)
}

// ExportFormats are the formats Export writes, as the viewer names them.
var ExportFormats = []string{"JSONL", "CSV"}

// ExportName is the suggested file name and store format for a format.
func ExportName(format string) (name, storeFormat string) {
	if format == "CSV" {
		return "berth-audit.csv", "csv"
	}
	return "berth-audit.jsonl", "jsonl"
}
