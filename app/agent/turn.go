package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-app/berth/app/llm"
)

// errInterrupted ends the turn as interrupted (ctx canceled), not as failed.
var errInterrupted = errors.New("interrupted")

// turn is one run of RunTurn.
type turn struct {
	cfg    Config
	x      *executor
	system string
	tools  []llm.Tool
	msgs   []llm.Message // what the model sees: the history, maybe compacted, and this turn's messages
	added  []llm.Message // the messages this turn added, whole
	always []string      // tools not to ask about: the group's and those allowed "always" this turn
	calls  int           // tool calls run or refused so far
	atEnd  bool          // the limit of tool calls was reached: the model was told to answer
	// refitted is set once a context overflow was answered by compacting
	// and retrying: a second one ends the turn.
	refitted bool
	// scale corrects the token estimate once a server said how big a request
	// really was (1: the estimate stands).
	scale   float64
	slimmed bool // the tool definitions were shortened for a small context
	hard    bool // compact all but the current turn: the server refused a request as too big
	res     Result
}

func newTurn(cfg Config, sb Sandbox, system string, history []llm.Message) *turn {
	return &turn{
		cfg:    cfg,
		x:      &executor{sb: sb, callTimeout: cfg.CallTimeout, maxTimeout: cfg.MaxCallTimeout, outputCap: cfg.OutputCap},
		system: system,
		tools:  append(Tools(cfg.Tools), hostToolDefs(cfg.HostTools)...),
		msgs:   slices.Clone(history),
		always: slices.Clone(cfg.AlwaysAllowed),
	}
}

// emit hands ev to the faces.
func (t *turn) emit(ev Event) {
	if t.cfg.OnEvent != nil {
		t.cfg.OnEvent(ev)
	}
}

// add appends m to the conversation and to what the turn added.
func (t *turn) add(m llm.Message) {
	t.msgs = append(t.msgs, m)
	t.added = append(t.added, m)
}

// run asks the model and runs its tool calls until it answers in text.
func (t *turn) run(ctx context.Context) error {
	for {
		if err := t.fit(ctx); err != nil {
			return t.stop(ctx, err)
		}
		resp, err := t.ask(ctx)
		if len(resp.Message.Parts) > 0 {
			t.add(resp.Message)
		}
		if err == nil || resp.Text() != "" {
			t.res.Text = resp.Text()
		}
		calls := resp.ToolCalls()
		t.res.ToolCalls += len(calls)
		if err != nil {
			t.refuse(calls, "not run: the model's reply did not complete")
			return t.stop(ctx, err)
		}
		t.res.StopReason = string(resp.StopReason)
		if resp.StopReason == llm.StopMaxTokens {
			markCut(calls)
		}
		if len(calls) == 0 {
			return nil
		}
		if t.atEnd {
			t.refuse(calls, fmt.Sprintf("not run: the limit of %d tool calls per turn was reached", t.cfg.MaxToolCalls))
			t.res.StopReason = StopToolLimit
			return nil
		}
		if err := t.runCalls(ctx, calls); err != nil {
			return t.stop(ctx, err)
		}
	}
}

// errCutOff marks tool input that is malformed because the reply was cut at
// the output limit.
var errCutOff = errors.New("the reply was cut at the output limit")

// markCut marks the malformed calls of a reply that was cut at the output
// limit, so that the model is told why their input is incomplete.
func markCut(calls []llm.ToolCall) {
	for i := range calls {
		if calls[i].Err != nil {
			calls[i].Err = errors.Join(calls[i].Err, errCutOff)
		}
	}
}

// stop ends the turn on err: as interrupted when ctx was canceled or no
// tool can run now (ErrBlocked, returned), else as failed.
func (t *turn) stop(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, errInterrupted) {
		t.res.Interrupted = true
		t.res.StopReason = StopInterrupted
		return nil
	}
	if errors.Is(err, ErrBlocked) {
		t.res.Interrupted = true
		t.res.StopReason = StopInterrupted
		return err
	}
	t.res.StopReason = StopError
	return err
}

// refuse answers calls that will not run with error results, so that every
// tool call in the history has its result.
func (t *turn) refuse(calls []llm.ToolCall, why string) {
	if len(calls) == 0 {
		return
	}
	results := llm.Message{Role: llm.RoleUser}
	for _, c := range calls {
		results.Parts = append(results.Parts, llm.ToolResult(c.ID, why, true))
	}
	t.add(results)
}

// runCalls runs the calls of one reply in order and adds their results. Its
// error (audit, approval, interrupt) ends the turn; the calls not run then
// get error results too.
func (t *turn) runCalls(ctx context.Context, calls []llm.ToolCall) error {
	results := llm.Message{Role: llm.RoleUser}
	defer func() { t.add(results) }()
	for i, c := range calls {
		if ctx.Err() != nil {
			t.refuseRest(&results, calls[i:], "not run: the user stopped the turn")
			return errInterrupted
		}
		if t.calls >= t.cfg.MaxToolCalls {
			t.atEnd = true
			t.refuseRest(&results, calls[i:], fmt.Sprintf(
				"not run: the limit of %d tool calls per turn was reached. Answer the user now with what you have, and say what is left to do.",
				t.cfg.MaxToolCalls))
			return nil
		}
		t.calls++
		part, err := t.handle(ctx, c)
		if t.calls == t.cfg.MaxToolCalls && err == nil {
			t.atEnd = true
			part.Text += fmt.Sprintf("\n[this was the last tool call allowed this turn (limit %d): answer the user now with what you have]", t.cfg.MaxToolCalls)
		}
		results.Parts = append(results.Parts, part)
		if err != nil {
			why := "not run: the turn stopped (" + err.Error() + ")"
			if errors.Is(err, errInterrupted) {
				why = "not run: the user stopped the turn"
			}
			t.refuseRest(&results, calls[i+1:], why)
			return err
		}
	}
	if ctx.Err() != nil {
		return errInterrupted
	}
	return nil
}

// refuseRest adds error results for calls to results.
func (t *turn) refuseRest(results *llm.Message, calls []llm.ToolCall, why string) {
	for _, c := range calls {
		results.Parts = append(results.Parts, llm.ToolResult(c.ID, why, true))
	}
}

// ask sends the conversation to the model, streaming its reply to the faces,
// and records the request. A request the server refuses for not fitting its
// context is compacted harder and sent once more (see refit).
func (t *turn) ask(ctx context.Context) (llm.Response, error) {
	resp, err := t.askOnce(ctx)
	if errors.Is(err, llm.ErrContextFull) && !t.refitted {
		t.refitted = true
		if ok, ferr := t.refit(ctx, err); ferr != nil {
			return resp, errors.Join(err, ferr)
		} else if ok {
			return t.askOnce(ctx)
		}
	}
	return resp, err
}

// askOnce makes one model request of the turn.
func (t *turn) askOnce(ctx context.Context) (llm.Response, error) {
	start := t.cfg.Now()
	var streamed strings.Builder
	resp, err := t.cfg.Provider.Stream(ctx, llm.Request{
		Model: t.cfg.Model, System: t.system, Messages: t.msgs, Tools: t.tools, MaxTokens: t.cfg.MaxTokens,
	}, func(ev llm.Event) {
		switch ev.Kind {
		case llm.EventText:
			streamed.WriteString(ev.Text)
			t.emit(Event{Kind: EventText, Text: ev.Text})
		case llm.EventToolInput:
			if ev.ToolCall != nil {
				t.emit(Event{Kind: EventToolProgress, Tool: ev.ToolCall.Name, CallID: ev.ToolCall.ID, Bytes: ev.Bytes})
			}
		case llm.EventUsage:
			if ev.Usage != nil {
				t.emit(Event{Kind: EventUsage, Usage: *ev.Usage})
			}
		case llm.EventRetry:
			t.emit(Event{Kind: EventRetry, Err: ev.Err, Attempt: ev.Attempt, Wait: ev.Wait})
		}
	})
	if err != nil && resp.Text() == "" && streamed.Len() > 0 {
		// Keep what the user already saw of a reply that broke off.
		resp.Message.Role = llm.RoleAssistant
		resp.Message.Parts = append([]llm.Part{{Kind: llm.PartText, Text: streamed.String()}}, resp.Message.Parts...)
	}
	if err == nil && resp.StopReason == llm.StopMaxTokens {
		t.emit(Event{Kind: EventNotice, Text: cutNotice(resp, t.cfg.MaxTokens)})
	}
	t.res.Usage.Add(resp.Usage)
	recErr := t.recordRequest(ctx, "turn", len(t.msgs), resp, err, start)
	return resp, errors.Join(err, recErr)
}

// cutNotice says that a reply was cut at the output limit.
func cutNotice(resp llm.Response, maxTokens int) string {
	limit := "the output limit"
	if maxTokens > 0 {
		limit = fmt.Sprintf("the output limit of %d tokens", maxTokens)
	}
	msg := "The model's reply was cut at " + limit
	if len(resp.ToolCalls()) > 0 {
		return msg + " while it wrote a tool call; its arguments are incomplete, and the model is told so."
	}
	return msg + "; raise max_tokens in Settings for longer replies."
}

// result returns what the turn did.
func (t *turn) result() Result {
	r := t.res
	r.Messages = t.added
	if r.Compacted {
		r.Context = t.msgs
	}
	return r
}
