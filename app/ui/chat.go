package ui

import (
	"cmp"
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/llm"
)

// ChatView is the chat window's content: groups and their chats on the
// left, the open chat on the right. Its state is a Conversation per chat;
// the widgets are rebuilt from it after every change.
type ChatView struct {
	asst      Assistant
	ctx       context.Context
	approvals Approvals
	// do runs a func on Fyne's thread; fyne.Do unless a test swaps it.
	do func(func())

	groups   []assistant.Group
	sessions map[string][]assistant.Session // by group
	chats    map[string]*Conversation       // by session, as they were seen
	conv     *Conversation                  // the open one

	nav     *widget.Tree
	header  *widget.Label
	banner  *fyne.Container
	items   *fyne.Container
	scroll  *container.Scroll
	status  *widget.Label
	input   *messageEntry
	sendBtn *widget.Button
	right   *fyne.Container // laid out again after each render: the banner and Stop come and go
	stopBtn *widget.Button

	// OnBannerAction, when set, runs the closed gate's banner button
	// (ActionResume, ActionBuild, ActionRetry); without it there is none.
	OnBannerAction func(action string)
	// Usage, when set, reads a chat's token usage for the header.
	Usage func(ctx context.Context, session string) (llm.Usage, error)
	usage map[string]llm.Usage // by session, refreshed on open and after each turn
}

// refreshUsage reads a chat's token usage again.
func (v *ChatView) refreshUsage(session string) {
	if v.Usage == nil || session == "" {
		return
	}
	if u, err := v.Usage(v.ctx, session); err == nil {
		if v.usage == nil {
			v.usage = map[string]llm.Usage{}
		}
		v.usage[session] = u
	}
}

// NewChatView makes the chat window's content for the assistant; ctx bounds
// the calls it makes.
func NewChatView(ctx context.Context, a Assistant) *ChatView {
	v := &ChatView{asst: a, ctx: ctx, do: fyne.Do, sessions: map[string][]assistant.Session{}, chats: map[string]*Conversation{}}
	v.conv = &Conversation{Gate: a.Gate()}
	return v
}

// NewChatWindow opens a window on the chat view, with its shortcuts.
func NewChatWindow(app fyne.App, v *ChatView) fyne.Window {
	w := app.NewWindow("Berth")
	w.SetIcon(AppIcon())
	w.SetContent(v.build())
	w.Canvas().AddShortcut(newChatShortcut, func(fyne.Shortcut) { v.onNewChat() })
	w.Resize(fyne.NewSize(960, 640))
	return w
}

func (v *ChatView) build() fyne.CanvasObject {
	v.nav = widget.NewTree(v.navChildren, v.navIsBranch,
		func(bool) fyne.CanvasObject { return widget.NewLabel("group or chat title") },
		v.navUpdate)
	v.nav.OnSelected = v.onSelect
	newBtn := widget.NewButtonWithIcon("New chat", theme.ContentAddIcon(), v.onNewChat)
	left := container.NewBorder(newBtn, nil, nil, nil, v.nav)

	v.header = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.banner = container.NewVBox()
	v.items = container.NewVBox()
	v.scroll = container.NewVScroll(v.items)
	v.status = widget.NewLabel("")
	v.status.Importance = widget.DangerImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.input = newMessageEntry(v.onSend, v.onNewChat)
	v.sendBtn = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), v.onSend)
	v.sendBtn.Importance = widget.HighImportance
	v.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), v.onStop)
	bottom := container.NewVBox(v.status, container.NewBorder(nil, nil, nil, container.NewHBox(v.stopBtn, v.sendBtn), v.input))
	v.right = container.NewBorder(container.NewVBox(v.header, v.banner), bottom, nil, nil, v.scroll)

	split := container.NewHSplit(left, v.right)
	split.Offset = 0.25
	v.reload()
	v.render()
	return split
}

// reload reads the groups and their chats for the left side.
func (v *ChatView) reload() {
	groups, err := v.asst.Groups(v.ctx)
	if err != nil {
		v.status.SetText("Could not read the groups: " + err.Error())
		return
	}
	v.groups = groups
	for _, g := range groups {
		ss, err := v.asst.Sessions(v.ctx, g.Slug)
		if err != nil {
			v.status.SetText("Could not read the chats of " + g.Name + ": " + err.Error())
			continue
		}
		v.sessions[g.Slug] = ss
	}
	if v.conv.Group == "" {
		v.conv.Group = v.defaultGroup()
	}
	v.nav.Refresh()
	v.nav.OpenAllBranches()
}

func (v *ChatView) defaultGroup() string {
	if len(v.groups) > 0 {
		return v.groups[0].Slug
	}
	return assistant.DefaultGroup // created on the first message
}

func (v *ChatView) groupName(slug string) string {
	for _, g := range v.groups {
		if g.Slug == slug && g.Name != "" {
			return g.Name
		}
	}
	return slug
}

// Tree node ids: "" is the root, "g:SLUG" a group, "s:ID" a chat.
func (v *ChatView) navChildren(uid widget.TreeNodeID) []widget.TreeNodeID {
	var out []widget.TreeNodeID
	if uid == "" {
		for _, g := range v.groups {
			out = append(out, "g:"+g.Slug)
		}
		return out
	}
	if slug, ok := strings.CutPrefix(uid, "g:"); ok {
		for _, ss := range v.sessions[slug] {
			out = append(out, "s:"+ss.ID)
		}
	}
	return out
}

func (v *ChatView) navIsBranch(uid widget.TreeNodeID) bool {
	return uid == "" || strings.HasPrefix(uid, "g:")
}

func (v *ChatView) navUpdate(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if slug, ok := strings.CutPrefix(uid, "g:"); ok {
		l.TextStyle.Bold = true
		l.SetText(v.groupName(slug))
		return
	}
	l.TextStyle.Bold = false
	if ss, ok := v.session(strings.TrimPrefix(uid, "s:")); ok {
		l.SetText(cmp.Or(ss.Title, "Untitled chat"))
	}
}

func (v *ChatView) session(id string) (assistant.Session, bool) {
	for _, list := range v.sessions {
		for _, ss := range list {
			if ss.ID == id {
				return ss, true
			}
		}
	}
	return assistant.Session{}, false
}

func (v *ChatView) onSelect(uid widget.TreeNodeID) {
	if slug, ok := strings.CutPrefix(uid, "g:"); ok {
		v.NewChat(slug)
		return
	}
	if ss, ok := v.session(strings.TrimPrefix(uid, "s:")); ok {
		v.Open(ss)
	}
}

// Open shows a chat: as last seen when it is live, else from its history.
func (v *ChatView) Open(ss assistant.Session) {
	v.status.SetText("")
	if c, ok := v.chats[ss.ID]; ok {
		v.conv = c
		v.render()
		return
	}
	c := &Conversation{Group: ss.Group, Session: ss.ID, Gate: v.conv.Gate}
	msgs, err := v.asst.Messages(v.ctx, ss.ID)
	if err != nil {
		v.status.SetText("Could not read this chat: " + err.Error())
	}
	c.Items = HistoryItems(msgs)
	v.chats[ss.ID] = c
	v.conv = c
	v.refreshUsage(ss.ID)
	v.render()
}

// NewChat shows an empty chat in a group ("" for the current one); it is
// stored when the first message is sent.
func (v *ChatView) NewChat(group string) {
	if group == "" {
		group = v.conv.Group
	}
	if group == "" {
		group = v.defaultGroup()
	}
	v.conv = &Conversation{Group: group, Gate: v.conv.Gate}
	v.status.SetText("")
	v.render()
	v.input.SetText("")
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.input); c != nil {
		c.Focus(v.input)
	}
}

func (v *ChatView) onNewChat() { v.NewChat("") }

func (v *ChatView) onSend() {
	text := strings.TrimSpace(v.input.Text)
	if text == "" || !v.conv.InputEnabled() {
		return
	}
	if v.send(text) {
		v.input.SetText("")
	}
}

// send sends text in the open chat; false (and the reason shown) if it
// could not be stored.
func (v *ChatView) send(text string) bool {
	c := v.conv
	fresh := c.Session == ""
	msg, err := v.asst.Send(v.ctx, assistant.ChatRequest{Group: c.Group, Session: c.Session, Text: text, Approve: v.approvals.Ask})
	if err != nil {
		v.status.SetText("Not sent: " + err.Error())
		return false
	}
	v.status.SetText("")
	c.Sent(msg.ID, msg.Session, text)
	v.chats[c.Session] = c
	if fresh {
		v.reload()
	}
	v.render()
	return true
}

func (v *ChatView) onStop() {
	id := v.conv.Busy()
	if id == 0 {
		return
	}
	if err := v.asst.Cancel(v.ctx, id); err != nil {
		v.status.SetText("Could not stop: " + err.Error())
	}
}

func (v *ChatView) onRetry(text string) {
	if v.conv.InputEnabled() {
		v.send(text)
	}
}

func (v *ChatView) onAnswer(card *ToolCard, ans agent.Approval) {
	v.approvals.Answer(card.CallID, ans)
	card.Asking, card.Answer = false, ans.String()
	v.render()
}

func (v *ChatView) onExpand(card *ToolCard) {
	card.Expanded = !card.Expanded
	v.render()
}

// Group is the group of the chat on screen ("main" before any).
func (v *ChatView) Group() string {
	if v.conv != nil && v.conv.Group != "" {
		return v.conv.Group
	}
	return assistant.DefaultGroup
}

// Watch applies the runtime's events on Fyne's thread until ctx ends.
func (v *ChatView) Watch(ctx context.Context) {
	ch, cancel := v.asst.Subscribe()
	// The gate may have changed between building the view and subscribing:
	// start from the state as it is now.
	g := v.asst.Gate()
	v.do(func() { v.Handle(assistant.Event{Kind: assistant.EventGate, Gate: &g}) })
	go func() {
		defer cancel()
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					return
				}
				v.do(func() { v.Handle(ev) })
			case <-ctx.Done():
				return
			}
		}
	}()
}

// Handle applies one runtime event; call it on Fyne's thread.
func (v *ChatView) Handle(ev assistant.Event) {
	changed := false
	for _, c := range v.chats {
		if c != v.conv {
			c.Apply(ev)
		}
	}
	if v.conv.Apply(ev) {
		changed = true
	}
	if ev.Kind == assistant.EventGate {
		changed = true
	}
	if ev.Kind == assistant.EventTurnEnd {
		v.refreshUsage(ev.Session)
		changed = changed || ev.Session == v.conv.Session
	}
	if changed {
		v.render()
	}
}
