package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/egress"
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
	// AskNet answers the network questions of this turn's sandbox (allowlist
	// mode); nil leaves them to the faces listening to the runtime's events.
	AskNet NetAsker
}

// ChatResult is how the turn ended.
type ChatResult struct {
	Session   string
	MessageID int64 // the user's stored message
	Text      string
	// Status is the message's status after the turn (StatusDone,
	// StatusInterrupted, StatusFailed; StatusPending when the gate was
	// closed; StatusCanceled when it was taken off its queue).
	Status string
	Err    error // why the turn did not end well; nil when done
	Turn   agent.Result
}

// ProviderError wraps a model provider's failure (the CLI exits 4).
type ProviderError struct{ Err error }

func (e *ProviderError) Error() string { return e.Err.Error() }
func (e *ProviderError) Unwrap() error { return e.Err }

// NewProvider builds the model provider from the settings (and overrides).
// The key comes from the OS keyring or the environment, never from settings.
func NewProvider(cfg config.Config, name, model string) (llm.Provider, string, error) {
	return newProvider(cfg, name, model, llm.GetKey)
}

// newProvider is NewProvider with the key from getKey.
func newProvider(cfg config.Config, name, model string, getKey func(string) (string, llm.KeySource, error)) (llm.Provider, string, error) {
	if name == "" {
		name = cfg.Provider
	}
	if model == "" {
		model = cfg.Model
		if model == "" || name != cfg.Provider {
			model = config.DefaultModel(name)
		}
	}
	key, _, err := getKey(name)
	if err != nil && !errors.Is(err, llm.ErrNoKey) {
		return nil, "", err
	}
	p, err := llm.New(name, llm.Config{APIKey: key, BaseURL: cfg.BaseURL, Model: model,
		MaxTokens: cfg.Limits(name, model).MaxTokens, StallTimeout: time.Duration(cfg.StallTimeout)})
	return p, model, err
}

// key is the provider's API key: from apiKey when a test set it, else
// from llm.GetKey.
func (s *Service) key(provider string) (string, llm.KeySource, error) {
	if s.apiKey != "" {
		return s.apiKey, llm.SourceNone, nil
	}
	return llm.GetKey(provider)
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
	g, err := s.Group(ctx, req.Group)
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
	msg, err := s.Store.AddMessage(ctx, store.Message{Session: req.Session, Role: RoleUser, Content: req.Text, Status: StatusPending})
	if err != nil {
		return msg, err
	}
	_ = s.Store.TouchSession(ctx, req.Session)
	return msg, s.record(ctx, store.Event{Group: g.Slug, Session: req.Session, Kind: AuditMessageUser, Actor: store.ActorUser,
		Summary: "said: " + title(req.Text), Detail: mustJSON(map[string]any{"message_id": msg.ID, "sha256": msg.SHA256, "bytes": len(req.Text)})})
}

// Answer runs the agent's turn for a stored user message: the gate is
// checked, the turn runs with its tools in the chat's sandbox, and what it
// produced is stored whatever happens. A canceled ctx leaves the message
// interrupted with the partial answer kept. The result's Status is the
// message's status afterwards.
func (s *Service) Answer(ctx context.Context, req ChatRequest, msg store.Message) (ChatResult, error) {
	res := ChatResult{Session: req.Session, MessageID: msg.ID, Status: StatusPending}
	if _, err := s.gate().Check(ctx); err != nil {
		return res, err // the message stays pending until the gate opens
	}
	t, err := s.startTurn(ctx, req, msg)
	if err != nil {
		res.Status = StatusFailed
		_ = s.Store.SetMessageStatus(context.WithoutCancel(ctx), msg.ID, StatusFailed)
		return res, err
	}
	turn, turnErr := agent.RunTurn(ctx, t.cfg, t.sb, t.system, t.history)
	if t.sb.err != nil && turnErr == nil && turn.SandboxErrors > 0 && turn.ToolCalls == turn.SandboxErrors {
		turnErr = t.sb.err // not one tool call could run: say why (e.g. the gate closed)
	}
	res.Turn, res.Text = turn, turn.Text
	res.Status = turnStatus(ctx, turn, turnErr)
	if err := s.keepTurn(context.WithoutCancel(ctx), t, turn, res.Status, turnErr); err != nil {
		return res, errors.Join(turnErr, err)
	}
	turnErr = interruptedErr(res.Status, turnErr)
	if turnErr != nil && !errors.Is(turnErr, context.Canceled) && isProviderErr(turnErr) {
		return res, &ProviderError{Err: turnErr}
	}
	return res, turnErr
}

// turnStatus is the one rule for how a turn ended.
func turnStatus(ctx context.Context, turn agent.Result, err error) string {
	switch {
	case turn.Interrupted || errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return StatusInterrupted
	case err != nil:
		return StatusFailed
	}
	return StatusDone
}

// turnSetup is what a turn runs with.
type turnSetup struct {
	group   Group
	session string
	msg     store.Message
	model   string
	prov    string
	cfg     agent.Config
	sb      *lazySandbox
	system  string
	history []llm.Message
}

// startTurn marks the message running and gathers what its turn needs: the
// provider, the history, the system prompt and a sandbox made on first use.
func (s *Service) startTurn(ctx context.Context, req ChatRequest, msg store.Message) (turnSetup, error) {
	t := turnSetup{session: req.Session, msg: msg}
	g, err := s.Group(ctx, req.Group)
	if err != nil {
		return t, err
	}
	t.group = g
	if err := s.Store.SetMessageStatus(ctx, msg.ID, StatusRunning); err != nil {
		return t, err
	}
	provider, model, err := newProvider(s.Settings(), req.Provider, req.Model, s.key)
	if err != nil {
		return t, &ProviderError{Err: err}
	}
	t.model, t.prov = model, provider.Name()
	hist, err := s.readHistory(ctx, req.Session, msg.ID)
	if err != nil {
		return t, err
	}
	if err := s.reportUnreadable(ctx, g.Slug, req.Session, hist.unreadable, req.OnEvent); err != nil {
		return t, err
	}
	t.history = hist.msgs
	limits := s.modelLimits(ctx, provider, model)
	s.warnServer(ctx, g.Slug, req.Session, limits, t.history, req.OnEvent)
	if t.system, err = s.systemPrompt(ctx, g); err != nil {
		return t, err
	}
	t.sb = &lazySandbox{svc: s, group: g.Slug, session: req.Session}
	t.cfg = agent.Config{
		Provider: provider, Model: model,
		Tools: g.Settings.Tools, ApprovalMode: agent.ApprovalMode(cmp.Or(g.Settings.Approval, ApprovalAuto)), AlwaysAllowed: g.Settings.AlwaysAllow,
		Approve: req.Approve, OnEvent: req.OnEvent, Now: s.Now, HostTools: s.taskTools(g.Slug, g.Settings.Tools),
		ContextTokens: limits.contextTokens, MaxTokens: limits.maxTokens,
		Record: func(ctx context.Context, ev agent.AuditEvent) error {
			return s.record(ctx, store.Event{Group: g.Slug, Session: req.Session, Kind: ev.Kind, Actor: store.Actor(cmp.Or(ev.Actor, agent.ActorAgent)),
				Summary: ev.Summary, Detail: mustJSON(ev.Detail)})
		},
	}
	return t, nil
}

// keepTurn stores what the turn produced, the message's status and the
// turn's audit event, in one transaction.
func (s *Service) keepTurn(ctx context.Context, t turnSetup, turn agent.Result, status string, turnErr error) error {
	var msgs []store.Message
	var errs []error
	for _, m := range turn.Messages {
		role, content, err := encodeMessage(m)
		if err != nil {
			errs = append(errs, err) // never store what cannot be read back
			continue
		}
		msgs = append(msgs, store.Message{Session: t.session, Role: role, Content: content, Status: StatusDone})
	}
	if turn.Compacted && len(turn.Context) > 0 {
		// The model sees the compacted context from now on; the full history
		// stays in the database.
		content, err := encodeContext(turn.Context)
		if err != nil {
			errs = append(errs, err)
		} else {
			msgs = append(msgs, store.Message{Session: t.session, Role: roleContext, Content: content, Status: StatusDone})
		}
	}
	detail := map[string]any{"status": status, "tool_calls": turn.ToolCalls, "model": t.model, "provider": t.prov,
		"input_tokens": turn.Usage.InputTokens, "output_tokens": turn.Usage.OutputTokens, "stop_reason": turn.StopReason}
	if turnErr != nil {
		detail["error"] = turnErr.Error()
	}
	if _, _, err := s.Store.FinishTurn(ctx, store.TurnEnd{MessageID: t.msg.ID, Status: status, Messages: msgs,
		Event: store.Event{Group: t.group.Slug, Session: t.session, Kind: AuditTurnEnd, Actor: store.ActorAgent,
			Summary: fmt.Sprintf("turn %s: %d tool calls, %d+%d tokens", status, turn.ToolCalls, turn.Usage.InputTokens, turn.Usage.OutputTokens),
			Detail:  mustJSON(detail)}}); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if len(turn.AlwaysAllowed) > 0 {
		s.rememberAlways(ctx, t.group.Slug, turn.AlwaysAllowed)
	}
	return errors.Join(errs...)
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
	in := agent.PromptInput{Now: s.now(), Group: g.Name, Memory: memory, Mounts: infos, Tools: tools, Network: s.NetMode(g)}
	if in.Network == egress.ModeAllowlist {
		for _, r := range g.Settings.NetAllow {
			in.NetHosts = append(in.NetHosts, r.Rule)
		}
	}
	return agent.SystemPrompt(in), nil
}

func title(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	if r := []rune(t); len(r) > 60 {
		t = string(r[:57]) + "…"
	}
	return t
}
