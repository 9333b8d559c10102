package assistant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// ChatRequest is one user message to answer.
type ChatRequest struct {
	Group    string
	Session  string // "" starts a new chat
	Text     string
	Provider string // overrides the settings for this turn
	Model    string
	Approve  agent.Approver    // asks a human; nil denies every call that needs approval
	OnEvent  func(agent.Event) // live progress for the face
}

// ChatResult is how the turn ended.
type ChatResult struct {
	Session   string
	MessageID int64 // the user's stored message
	Text      string
	Turn      agent.Result
}

// ProviderError wraps a model provider's failure (the CLI exits 4).
type ProviderError struct{ Err error }

func (e *ProviderError) Error() string { return e.Err.Error() }
func (e *ProviderError) Unwrap() error { return e.Err }

// NewProvider builds the model provider from the settings (and overrides).
// The key comes from the OS keyring or the environment, never from settings.
func NewProvider(cfg config.Config, name, model string) (llm.Provider, string, error) {
	if name == "" {
		name = cfg.Provider
	}
	if model == "" {
		model = cfg.Model
		if model == "" || name != cfg.Provider {
			model = config.DefaultModel(name)
		}
	}
	key, _, err := llm.GetKey(name)
	if err != nil && !errors.Is(err, llm.ErrNoKey) {
		return nil, "", err
	}
	p, err := llm.New(name, llm.Config{APIKey: key, BaseURL: cfg.BaseURL, Model: model,
		MaxTokens: cfg.Limits(name, model).MaxTokens, StallTimeout: time.Duration(cfg.StallTimeout)})
	return p, model, err
}

// Chat answers one message now: Submit, then Answer. When the gate is
// closed the message stays pending and *GateClosedError is returned.
func (s *Service) Chat(ctx context.Context, req ChatRequest) (ChatResult, error) {
	msg, err := s.Submit(ctx, &req)
	res := ChatResult{Session: req.Session, MessageID: msg.ID}
	if err != nil {
		return res, err
	}
	return s.Answer(ctx, req, msg)
}

// Submit stores the user's message as pending — before anything else
// happens, so nothing typed is lost — starting a new chat when req.Session
// is empty (req.Session is then set).
func (s *Service) Submit(ctx context.Context, req *ChatRequest) (store.Message, error) {
	if strings.TrimSpace(req.Text) == "" {
		return store.Message{}, errors.New("empty message")
	}
	g, err := s.ensureGroup(ctx, req.Group)
	if err != nil {
		return store.Message{}, err
	}
	if req.Session == "" {
		ss, err := s.NewSession(ctx, g.Slug, title(req.Text))
		if err != nil {
			return store.Message{}, err
		}
		req.Session = ss.ID
	} else if ss, err := s.Session(ctx, req.Session); err != nil {
		return store.Message{}, err
	} else if ss.Group != g.Slug {
		return store.Message{}, fmt.Errorf("chat %s belongs to group %s, not %s", ss.ID, ss.Group, g.Slug)
	}
	msg, err := s.Store.AddMessage(ctx, store.Message{Session: req.Session, Role: roleUser, Content: req.Text, Status: StatusPending})
	if err != nil {
		return msg, err
	}
	_ = s.Store.TouchSession(ctx, req.Session, "")
	return msg, s.record(ctx, store.Event{Group: g.Slug, Session: req.Session, Kind: "message.user", Actor: store.ActorUser,
		Summary: "said: " + title(req.Text), Detail: mustJSON(map[string]any{"message_id": msg.ID, "sha256": msg.SHA256, "bytes": len(req.Text)})})
}

// Answer runs the agent's turn for a stored user message: the gate is
// checked, the turn runs with its tools in the chat's sandbox, and what it
// produced is stored whatever happens. A canceled ctx leaves the message
// interrupted with the partial answer kept.
func (s *Service) Answer(ctx context.Context, req ChatRequest, msg store.Message) (ChatResult, error) {
	res := ChatResult{Session: req.Session, MessageID: msg.ID}
	g, err := s.Group(ctx, req.Group)
	if err != nil {
		return res, err
	}
	if _, err := s.Gate(ctx); err != nil {
		return res, err // the message stays pending until the gate opens
	}
	if err := s.Store.SetMessageStatus(ctx, msg.ID, StatusRunning); err != nil {
		return res, err
	}
	provider, model, err := NewProvider(s.Config, req.Provider, req.Model)
	if err != nil {
		_ = s.Store.SetMessageStatus(ctx, msg.ID, StatusFailed)
		return res, &ProviderError{Err: err}
	}
	fail := func(err error) (ChatResult, error) {
		_ = s.Store.SetMessageStatus(context.WithoutCancel(ctx), msg.ID, StatusFailed)
		return res, err
	}
	hist, err := s.readHistory(ctx, req.Session, msg.ID)
	if err != nil {
		return fail(err)
	}
	if err := s.reportUnreadable(ctx, g.Slug, req.Session, hist.unreadable, req.OnEvent); err != nil {
		return fail(err)
	}
	history := hist.msgs
	limits := s.modelLimits(ctx, provider, model)
	s.warnServer(ctx, g.Slug, req.Session, limits, history, req.OnEvent)
	system, err := s.systemPrompt(ctx, g)
	if err != nil {
		return fail(err)
	}
	sb := &lazySandbox{svc: s, group: g.Slug, session: req.Session}
	cfg := agent.Config{
		Provider: provider, Model: model,
		Tools: g.Settings.Tools, ApprovalMode: agent.ApprovalMode(or(g.Settings.Approval, ApprovalAuto)), AlwaysAllowed: g.Settings.AlwaysAllow,
		Approve: req.Approve, OnEvent: req.OnEvent, Now: s.Now, HostTools: s.taskTools(g.Slug, g.Settings.Tools),
		ContextTokens: limits.contextTokens, MaxTokens: limits.maxTokens,
		Record: func(ctx context.Context, ev agent.AuditEvent) error {
			return s.record(ctx, store.Event{Group: g.Slug, Session: req.Session, Kind: ev.Kind, Actor: store.Actor(or(ev.Actor, "agent")),
				Summary: ev.Summary, Detail: mustJSON(ev.Detail)})
		},
	}
	turn, turnErr := agent.RunTurn(ctx, cfg, sb, system, history)
	if sb.err != nil && turnErr == nil && turn.SandboxErrors > 0 && turn.ToolCalls == turn.SandboxErrors {
		turnErr = sb.err // not one tool call could run: say why (e.g. the gate closed)
	}
	res.Turn, res.Text = turn, turn.Text

	// Whatever happened, what the turn produced is kept.
	wctx := context.WithoutCancel(ctx)
	ids, err := s.storeTurn(wctx, req.Session, turn)
	if err != nil {
		return res, errors.Join(turnErr, err)
	}
	status := StatusDone
	switch {
	case turn.Interrupted || errors.Is(turnErr, context.Canceled) || ctx.Err() != nil:
		status = StatusInterrupted
	case turnErr != nil:
		status = StatusFailed
	}
	_ = s.Store.SetMessageStatus(wctx, msg.ID, status)
	if len(turn.AlwaysAllowed) > 0 {
		s.rememberAlways(wctx, g.Slug, turn.AlwaysAllowed)
	}
	detail := map[string]any{"status": status, "messages": ids, "tool_calls": turn.ToolCalls, "model": model, "provider": provider.Name(),
		"input_tokens": turn.Usage.InputTokens, "output_tokens": turn.Usage.OutputTokens, "stop_reason": turn.StopReason}
	if turnErr != nil {
		detail["error"] = turnErr.Error()
	}
	if err := s.record(wctx, store.Event{Group: g.Slug, Session: req.Session, Kind: "turn.end", Actor: store.ActorAgent,
		Summary: fmt.Sprintf("turn %s: %d tool calls, %d+%d tokens", status, turn.ToolCalls, turn.Usage.InputTokens, turn.Usage.OutputTokens),
		Detail:  mustJSON(detail)}); err != nil {
		return res, errors.Join(turnErr, err)
	}
	turnErr = interruptedErr(status, turnErr)
	if turnErr != nil && !errors.Is(turnErr, context.Canceled) && isProviderErr(turnErr) {
		return res, &ProviderError{Err: turnErr}
	}
	return res, turnErr
}

func isProviderErr(err error) bool {
	var le *llm.Error
	return errors.As(err, &le) || errors.Is(err, llm.ErrAuth) || errors.Is(err, llm.ErrModel) || errors.Is(err, llm.ErrUnreachable) ||
		errors.Is(err, llm.ErrRateLimited) || errors.Is(err, llm.ErrOverloaded) || errors.Is(err, llm.ErrServer) ||
		errors.Is(err, llm.ErrMalformed) || errors.Is(err, llm.ErrStreamCut) || errors.Is(err, llm.ErrRequest)
}

// rememberAlways adds tools the user allowed "always for this group".
func (s *Service) rememberAlways(ctx context.Context, group string, tools []string) {
	g, err := s.Group(ctx, group)
	if err != nil {
		return
	}
	for _, t := range tools {
		if !slices.Contains(g.Settings.AlwaysAllow, t) {
			g.Settings.AlwaysAllow = append(g.Settings.AlwaysAllow, t)
		}
	}
	_ = s.saveSettings(ctx, g, "always allow "+strings.Join(tools, ", "))
}

// systemPrompt tells the model who it is, what it remembers and what it can see.
func (s *Service) systemPrompt(ctx context.Context, g Group) (string, error) {
	memory, err := s.Memory(g.Slug)
	if err != nil {
		memory = "(the memory file could not be read: " + err.Error() + ")"
	}
	ms, err := s.Store.Mounts(ctx, g.Slug)
	if err != nil {
		return "", err
	}
	var infos []agent.MountInfo
	for _, m := range ms {
		infos = append(infos, agent.MountInfo{Path: docker.ExtraDir + "/" + m.Name, ReadOnly: m.ReadOnly, Masked: m.Masks})
	}
	tools := g.Settings.Tools
	if len(tools) == 0 {
		tools = ToolNames
	}
	return agent.SystemPrompt(agent.PromptInput{Now: s.now(), Group: g.Name, Memory: memory, Mounts: infos, Tools: tools,
		Network: or(g.Settings.Network, or(s.Config.Network, "none")) == "bridge"}), nil
}

func title(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	if r := []rune(t); len(r) > 60 {
		t = string(r[:57]) + "…"
	}
	return t
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// lazySandbox gives the agent the session's sandbox, started on the first
// tool call (a chat that needs no tools never starts one). If the sandbox
// dies, the call fails with a clear error and the next call gets a fresh one.
type lazySandbox struct {
	svc            *Service
	group, session string

	mu  sync.Mutex
	sb  *docker.Sandbox
	err error // the last reason a call could not run
}

func (l *lazySandbox) Exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	r, err := l.exec(ctx, req)
	if err != nil && r.Duration == 0 && req.Stdin == nil && isGone(err) {
		// The sandbox died between calls and the command never started:
		// run it once in a fresh sandbox.
		r, err = l.exec(ctx, req)
	}
	return r, err
}

func isGone(err error) bool {
	return errors.Is(err, docker.ErrSandboxGone) || errors.Is(err, docker.ErrSandboxNotRunning)
}

func (l *lazySandbox) exec(ctx context.Context, req agent.ExecRequest) (agent.ExecResult, error) {
	l.mu.Lock()
	if l.sb == nil {
		if _, err := l.svc.Gate(ctx); err != nil {
			l.err = err
			l.mu.Unlock()
			return agent.ExecResult{}, err
		}
		sb, _, err := l.svc.Sandbox(ctx, l.group, l.session)
		if err != nil {
			l.err = err
			l.mu.Unlock()
			return agent.ExecResult{}, err
		}
		l.sb = &sb
	}
	id := l.sb.ID
	l.mu.Unlock()
	dreq := docker.ExecRequest{Argv: req.Argv, WorkDir: req.WorkDir, Timeout: req.Timeout, OutputCap: req.OutputCap}
	if req.Stdin != nil {
		dreq.Stdin = strings.NewReader(string(req.Stdin))
	}
	if l.svc.OnUse != nil {
		l.svc.OnUse(id, true)
		defer l.svc.OnUse(id, false)
	}
	r, err := l.svc.guardedExec(ctx, l.group, l.session, id, dreq)
	if isGone(err) {
		l.mu.Lock()
		l.sb = nil // the next call starts a fresh sandbox
		l.mu.Unlock()
		_ = l.svc.record(context.WithoutCancel(ctx), store.Event{Group: l.group, Session: l.session, Kind: "sandbox.lost",
			Summary: "the sandbox stopped; the next tool call gets a fresh one", Detail: mustJSON(map[string]any{"id": id, "error": err.Error()})})
		if r.Duration > 0 {
			err = fmt.Errorf("the sandbox stopped while the command ran (%w); the next tool call starts a fresh one", err)
		}
	}
	return agent.ExecResult{ExitCode: r.ExitCode, Stdout: r.Stdout.Data, Stderr: r.Stderr.Data, StdoutTotal: r.Stdout.Total, StderrTotal: r.Stderr.Total,
		Truncated: r.Stdout.Truncated || r.Stderr.Truncated, TimedOut: r.TimedOut, Duration: r.Duration}, err
}
