package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// ChatView is the chat window's content: groups and their chats on the
// left, the open chat on the right. Its state is a Conversation per chat;
// the transcript shows it and rebuilds only the items that change. Calls to
// the assistant (store, runtime) never run on Fyne's thread: they run
// through work and their results come back through do.
type ChatView struct {
	asst      Assistant
	ctx       context.Context
	approvals Approvals
	// do runs a func on Fyne's thread; fyne.Do unless a test swaps it.
	do func(func())
	// work runs a call to the assistant off Fyne's thread; a goroutine
	// unless a test swaps it.
	work func(func())

	groups   []assistant.Group
	sessions map[string][]assistant.Session // by group
	chats    map[string]*Conversation       // by session, as they were seen
	conv     *Conversation                  // the open one
	// asked holds the input of an approval asked before its card was
	// made: the approval broker and the event stream are two paths, and
	// either may arrive first.
	asked map[string]string // by call id

	nav         *widget.List
	navRows     []ChatRow // the chat list's rows: date headings and chats
	groupSel    *widget.Select
	search      *widget.Entry
	chatMenu    *widget.Button
	navSync     bool   // the selection is being set to the chat in view
	navSelected string // the chat list's selected node, "" for none
	header      *widget.Label
	banner      *fyne.Container
	list        *transcript
	empty       *fyne.Container
	status      *widget.Label
	sending     bool // a message is being stored
	shownBanner Banner
	input       *messageEntry
	sendBtn     *widget.Button
	right       *fyne.Container // laid out again after each render: the banner and Stop come and go
	stopBtn     *widget.Button

	// OnBannerAction, when set, runs the closed gate's banner button
	// (ActionResume, ActionBuild, ActionRetry); without it there is none.
	OnBannerAction func(action string)
	// Usage, when set, reads a chat's token usage for the header.
	Usage func(ctx context.Context, session string) (assistant.Usage, error)
	usage map[string]assistant.Usage // by session, refreshed on open and after each turn

	// Admin, when set, renames and deletes chats and makes, renames and
	// deletes groups; without it those menus are empty.
	Admin ChatAdmin
	// OnCloseWindow, when set, closes the window to the tray (Ctrl+W).
	OnCloseWindow func()
	// OnOpenSettings, when set, opens the settings (from a turn that failed
	// for want of a working API key).
	OnOpenSettings func()
	win            fyne.Window // the window it is in, for dialogs
	switcher       *switcher   // the open chat switcher, nil for none
	// Setup, when set, is the first-run panel the empty chat shows while
	// no provider is set up.
	Setup    *SetupView
	setupOn  bool
	setupObj fyne.CanvasObject
	emptyKey string
	live     map[string]*widget.Label // running cards' output, by call, for patchCard
	root     fyne.CanvasObject        // the content, built once
	NetFaces                          // network questions and the Network window (network_card.go)
}

// refreshUsage reads a chat's token usage again, off Fyne's thread.
func (v *ChatView) refreshUsage(session string) {
	if v.Usage == nil || session == "" {
		return
	}
	v.work(func() {
		u, err := v.Usage(v.ctx, session)
		if err != nil {
			return
		}
		v.do(func() {
			if v.usage == nil {
				v.usage = map[string]assistant.Usage{}
			}
			v.usage[session] = u
			if v.conv.Session == session {
				v.renderFrame()
			}
		})
	})
}

// NewChatView makes the chat window's content for the assistant; ctx bounds
// the calls it makes.
func NewChatView(ctx context.Context, a Assistant) *ChatView {
	v := &ChatView{asst: a, ctx: ctx, do: fyne.Do, work: func(f func()) { go f() },
		sessions: map[string][]assistant.Session{}, chats: map[string]*Conversation{}, asked: map[string]string{}}
	v.conv = &Conversation{Gate: a.Gate()}
	v.approvals.OnAsk = func(req assistant.ApprovalRequest) {
		input := string(req.Input)
		v.do(func() { v.onAsk(req.CallID, input) })
	}
	return v
}

// onAsk gives the card of a call waiting for approval the call's input, so
// that it shows what it approves.
func (v *ChatView) onAsk(callID, input string) {
	for _, c := range v.chats {
		if card := c.card(callID); card != nil {
			card.Input = input
			if c == v.conv {
				v.render()
			}
			return
		}
	}
	v.asked[callID] = input // its card is not there yet: Handle gives it
}

// giveAskedInput gives a card made since its approval was asked the input
// onAsk kept for it.
func (v *ChatView) giveAskedInput() bool {
	given := false
	for id, input := range v.asked {
		for _, c := range v.chats {
			if card := c.card(id); card != nil {
				card.Input = input
				delete(v.asked, id)
				given = given || c == v.conv
				break
			}
		}
	}
	return given
}

// NewChatWindow opens a window on the chat view, with its shortcuts. The
// view's content is built once: a window made after the last one was
// closed (and destroyed, which frees its GL context) shows the same chats.
func NewChatWindow(app fyne.App, v *ChatView) fyne.Window {
	w := app.NewWindow(TitleIdle)
	w.SetIcon(AppIcon())
	v.win = w
	if v.root == nil {
		v.root = v.build()
	}
	w.SetContent(v.root)
	v.addShortcuts(w.Canvas())
	w.Canvas().Focus(v.input) // typing starts at once
	w.Resize(fyne.NewSize(960, 640))
	return w
}

func (v *ChatView) build() fyne.CanvasObject {
	left := v.buildNav()

	v.header = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.header.Truncation = fyne.TextTruncateEllipsis
	v.banner = container.NewVBox()
	v.list = newTranscript(func() []Item { return v.conv.Items }, v.itemObject)
	v.list.patch = v.patchCard
	v.empty = container.NewStack()
	v.status = widget.NewLabel("")
	v.status.Importance = widget.DangerImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.input = newMessageEntry(v.onSend, v.onStop, v.shortcuts())
	v.sendBtn = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), v.onSend)
	v.sendBtn.Importance = widget.HighImportance
	v.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), v.onStop)
	bottom := container.NewVBox(v.status, container.NewBorder(nil, nil, nil, container.NewHBox(v.stopBtn, v.sendBtn), v.input))
	help := widget.NewButtonWithIcon("", theme.HelpIcon(), v.ShowHelp)
	help.Importance = widget.LowImportance
	v.chatMenu = widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), func() { v.showChatMenu(v.conv.Session, v.chatMenu) })
	v.chatMenu.Importance = widget.LowImportance
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(v.chatMenu, help), v.header), v.banner)
	center := container.NewStack(v.list.box, v.empty)
	v.right = container.NewBorder(top, bottom, nil, nil, center)
	// Tab follows the order of the objects: from the message box to
	// Stop/Send, the transcript, the chat's menu, then (the left side) the
	// chat list. The border lays them out by identity, whatever the order.
	v.right.Objects = []fyne.CanvasObject{bottom, center, top}

	split := container.NewHSplit(left, v.right)
	split.Offset = 0.25
	v.reload()
	v.checkSetup()
	v.render()
	return split
}

// reload reads the groups and their chats for the left side, off Fyne's
// thread.
func (v *ChatView) reload() {
	v.work(func() {
		groups, err := v.asst.Groups(v.ctx)
		if err != nil {
			v.do(func() { v.status.SetText("Could not read the groups: " + err.Error()) })
			return
		}
		sessions := map[string][]assistant.Session{}
		var problems []string
		for _, g := range groups {
			ss, err := v.asst.Sessions(v.ctx, g.Slug)
			if err != nil {
				problems = append(problems, "Could not read the chats of "+g.Name+": "+err.Error())
				continue
			}
			sessions[g.Slug] = ss
		}
		v.do(func() {
			v.groups, v.sessions = groups, sessions
			if len(problems) > 0 {
				v.status.SetText(strings.Join(problems, "\n"))
			}
			if v.conv.Group == "" {
				v.conv.Group = v.defaultGroup()
			}
			v.refreshNav()
			v.renderFrame()
		})
	})
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

// Open shows a chat: as last seen when it is live, else from its history,
// read off Fyne's thread.
func (v *ChatView) Open(ss assistant.Session) {
	v.status.SetText("")
	if c, ok := v.chats[ss.ID]; ok {
		v.show(c)
		return
	}
	c := &Conversation{Group: ss.Group, Session: ss.ID, Gate: v.conv.Gate}
	v.chats[ss.ID] = c
	v.show(c)
	v.refreshUsage(ss.ID)
	v.pendingNet(c)
	v.work(func() {
		msgs, err := v.asst.Messages(v.ctx, ss.ID)
		v.do(func() {
			if err != nil {
				v.status.SetText("Could not read this chat: " + err.Error())
			}
			// Events that arrived meanwhile stay after the history.
			c.Items = append(HistoryItems(msgs), c.Items...)
			if v.conv == c {
				v.list.reset()
				v.render()
			}
		})
	})
}

// show puts a conversation in view.
func (v *ChatView) show(c *Conversation) {
	v.conv = c
	v.list.reset()
	v.refreshNav()
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
	v.status.SetText("")
	v.show(&Conversation{Group: group, Gate: v.conv.Gate})
	v.input.SetText("")
	if c := fyne.CurrentApp().Driver().CanvasForObject(v.input); c != nil {
		c.Focus(v.input)
	}
}

func (v *ChatView) onNewChat() { v.NewChat("") }

func (v *ChatView) onSend() {
	text := strings.TrimSpace(v.input.Text)
	if text == "" || !v.conv.InputEnabled() || v.sending {
		return
	}
	typed := v.input.Text
	v.send(text, func() {
		if v.input.Text == typed { // not what the user typed since
			v.input.SetText("")
		}
	})
}

// send stores text in the open chat off Fyne's thread and queues its turn;
// sent runs (on Fyne's thread) once it is stored. If it cannot be stored
// the reason is shown and nothing is lost.
func (v *ChatView) send(text string, sent func()) {
	c := v.conv
	v.sending = true
	v.sendBtn.Disable()
	req := assistant.ChatRequest{Group: c.Group, Session: c.Session, Text: text, Approve: v.approvals.Ask}
	v.work(func() {
		msg, err := v.asst.Send(v.ctx, req)
		v.do(func() {
			v.sending = false
			if err != nil {
				v.status.SetText("Not sent: " + err.Error())
				v.renderFrame()
				return
			}
			v.status.SetText("")
			fresh := c.Session == ""
			c.Sent(msg.ID, msg.Session, text)
			v.chats[c.Session] = c
			if sent != nil {
				sent()
			}
			if fresh {
				v.reload() // the new chat joins the list and is selected there
			}
			if v.conv == c {
				v.render()
			}
		})
	})
}

func (v *ChatView) onStop() {
	id := v.conv.Busy()
	if id == 0 {
		return
	}
	v.conv.Stopping(id)
	v.render()
	v.work(func() {
		if err := v.asst.Cancel(v.ctx, id); err != nil {
			v.do(func() { v.status.SetText("Could not stop: " + err.Error()) })
		}
	})
}

// onRetry sends an ended turn's message again in place of that turn.
func (v *ChatView) onRetry(id int64) {
	if !v.conv.InputEnabled() || v.sending {
		return
	}
	c := v.conv
	text, ok := c.Retry(id)
	if !ok {
		return
	}
	v.render()
	v.send(text, nil)
}

func (v *ChatView) onAnswer(card *ToolCard, ans assistant.Approval) {
	v.approvals.Answer(card.CallID, ans)
	card.Asking, card.Answer = false, ans.String()
	v.render()
}

func (v *ChatView) onExpand(card *ToolCard) {
	card.Expanded = !card.Expanded
	v.render()
}

// SetupDone hides the first-run panel (the provider checked out).
func (v *ChatView) SetupDone() {
	v.setupOn = false
	v.render()
}

// Group is the group of the chat on screen ("main" before any).
func (v *ChatView) Group() string {
	if v.conv != nil && v.conv.Group != "" {
		return v.conv.Group
	}
	return assistant.DefaultGroup
}
