package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/llm"
)

// handle runs one tool call through the boundary: check, audit, approval,
// sandbox, audit again. Failures of the call itself become error results;
// the error it returns (audit, approval, interrupt) ends the turn.
func (t *turn) handle(ctx context.Context, c llm.ToolCall) (llm.Part, error) {
	parsed, perr := t.parse(c)
	summary := c.Name
	if parsed != nil {
		summary = parsed.summary()
	}
	detail := map[string]any{"tool": c.Name, "call_id": c.ID}
	auditInput(detail, c.Input)
	if err := t.cfg.Record.record(ctx, AuditEvent{Kind: AuditToolCall, Summary: summary, Actor: ActorAgent, Detail: detail}); err != nil {
		return llm.ToolResult(c.ID, "not run: the audit log could not be written", true), err
	}
	t.emit(Event{Kind: EventToolStart, Tool: c.Name, CallID: c.ID, Summary: summary})

	var o outcome
	var stop error // ends the turn once the result is recorded
	denied := false
	if perr != nil {
		o = failed(perr.Error())
	} else {
		allowed, err := t.approve(ctx, c, summary)
		switch {
		case errors.Is(err, errInterrupted):
			o, stop = failed("not run: the user stopped the turn"), err
		case err != nil:
			o, stop = failed("not run: "+err.Error()), err
		case allowed:
			o = t.exec(ctx, c, parsed)
			if errors.Is(o.execErr, ErrBlocked) {
				stop = o.execErr
			}
		default:
			o, denied = failed(deniedMessage), true
		}
	}
	o.output = capText(o.output, t.cfg.OutputCap)
	t.emit(Event{Kind: EventToolEnd, Tool: c.Name, CallID: c.ID, Summary: summary, ExitCode: o.exitCode,
		Duration: o.duration, Output: preview(o.output), IsError: o.isError})
	part := llm.ToolResult(c.ID, o.output, o.isError)
	var audit *auditError
	if errors.As(stop, &audit) {
		return part, stop // the log cannot take the result either
	}
	if err := t.recordResult(ctx, c, summary, o, denied); err != nil {
		return part, err
	}
	if stop != nil {
		return part, stop
	}
	if ctx.Err() != nil {
		return part, errInterrupted
	}
	return part, nil
}

// exec runs an allowed call in the sandbox.
func (t *turn) exec(ctx context.Context, c llm.ToolCall, parsed call) outcome {
	x := t.x
	if t.cfg.OnEvent != nil {
		live := *t.x
		live.live = func(text string) {
			t.emit(Event{Kind: EventToolOutput, Tool: c.Name, CallID: c.ID, Text: text})
		}
		x = &live
	}
	o := parsed.run(ctx, x)
	switch {
	case ctx.Err() != nil:
		why, byUser := stopCause(ctx)
		o.output = "interrupted while this call ran: " + why
		if byUser {
			o.output = "interrupted: the user stopped the turn while this call ran; it was killed"
		}
		o.isError, o.stopped = true, why
		if !errors.Is(o.execErr, ErrBlocked) {
			o.execErr = nil // a killed call, not a sandbox error; a blocked one is kept for the audit log
		}
	case errors.Is(o.execErr, ErrBlocked):
		// Not the call's own failure: the turn ends here (see handle), and
		// the next turn's model reads this in the history.
		o.output = "interrupted while this call ran: " + o.execErr.Error()
		o.isError, o.stopped = true, o.execErr.Error()
		t.emit(Event{Kind: EventSandboxError, Tool: c.Name, CallID: c.ID, Err: o.execErr})
	case o.execErr != nil:
		t.res.SandboxErrors++
		t.emit(Event{Kind: EventSandboxError, Tool: c.Name, CallID: c.ID, Err: o.execErr})
	}
	return o
}

// stopCause says why ctx ended: the cause its canceler gave (the gate
// closed, Berth is stopping, the user's Stop), or, for a plain cancel
// (Ctrl-C), that the user stopped the turn (byUser).
func stopCause(ctx context.Context) (why string, byUser bool) {
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c.Error(), false
	}
	return "the user stopped the turn", true
}

// approve asks the user about c when the group's approval mode says so. It
// reports whether c may run; its error ends the turn.
func (t *turn) approve(ctx context.Context, c llm.ToolCall, summary string) (bool, error) {
	if !t.mustAsk(c.Name) && !needsApproval(t.cfg.ApprovalMode, c.Name, t.always) {
		return true, nil
	}
	req := ApprovalRequest{Tool: c.Name, CallID: c.ID, Input: c.Input, Summary: summary}
	detail := map[string]any{"tool": c.Name, "call_id": c.ID, "mode": string(t.cfg.ApprovalMode)}
	if err := t.cfg.Record.record(ctx, AuditEvent{Kind: AuditApprovalAsk, Summary: summary, Actor: ActorAgent, Detail: detail}); err != nil {
		return false, err
	}
	t.emit(Event{Kind: EventApproval, Tool: c.Name, CallID: c.ID, Summary: summary})

	answer, actor := Deny, ActorUser
	if t.cfg.Approve == nil {
		actor = ActorSystem
		detail = map[string]any{"tool": c.Name, "call_id": c.ID, "reason": "no one to ask"}
	} else {
		var err error
		answer, err = t.cfg.Approve(ctx, req)
		if ctx.Err() != nil {
			return false, errInterrupted
		}
		if err != nil {
			return false, fmt.Errorf("approval: %w", err)
		}
		detail = map[string]any{"tool": c.Name, "call_id": c.ID, "answer": answer.String()}
	}
	t.emit(Event{Kind: EventApprovalAnswer, Tool: c.Name, CallID: c.ID, Summary: summary, Approval: answer})
	kind := AuditApprovalGrant
	switch answer {
	case AllowAlways:
		detail["always"] = true
	case AllowOnce:
	default:
		answer, kind = Deny, AuditApprovalDeny
	}
	if err := t.cfg.Record.record(ctx, AuditEvent{Kind: kind, Summary: summary, Actor: actor, Detail: detail}); err != nil {
		return false, err
	}
	if answer == AllowAlways && !t.mustAsk(c.Name) {
		t.always = append(t.always, c.Name)
		t.res.AlwaysAllowed = append(t.res.AlwaysAllowed, c.Name)
		t.emit(Event{Kind: EventAlwaysAllowed, Tool: c.Name, CallID: c.ID})
	}
	return answer != Deny, nil
}

// recordResult writes the tool.result event and, for a file the call wrote,
// the file.write event.
func (t *turn) recordResult(ctx context.Context, c llm.ToolCall, summary string, o outcome, denied bool) error {
	detail := map[string]any{
		"tool": c.Name, "call_id": c.ID, "exit_code": o.exitCode, "duration_ms": o.duration.Milliseconds(),
		"bytes": o.bytes, "output_bytes": len(o.output), "truncated": o.truncated, "is_error": o.isError,
	}
	if o.timedOut {
		detail["timed_out"] = true
	}
	if denied {
		detail["denied"] = true
	}
	if o.execErr != nil {
		detail["sandbox_error"] = o.execErr.Error()
	}
	if o.stopped != "" {
		detail["stopped"] = o.stopped
	}
	if o.isError {
		detail["error"] = oneLine(o.output, 300)
	}
	if o.file != nil {
		detail["path"], detail["size"], detail["sha256"] = o.file.path, o.file.size, o.file.sha256
	}
	if err := t.cfg.Record.record(ctx, AuditEvent{Kind: AuditToolResult, Summary: summary, Actor: ActorAgent, Detail: detail}); err != nil {
		return err
	}
	if o.file == nil {
		return nil
	}
	return t.cfg.Record.record(ctx, AuditEvent{
		Kind:    AuditFileWrite,
		Summary: fmt.Sprintf("%s: %s (%d bytes)", c.Name, o.file.path, o.file.size),
		Actor:   ActorAgent,
		Detail:  map[string]any{"tool": c.Name, "call_id": c.ID, "path": o.file.path, "size": o.file.size, "sha256": o.file.sha256},
	})
}

// recordRequest writes the model.request event of one model request.
func (t *turn) recordRequest(ctx context.Context, purpose string, messages int, resp llm.Response, err error, start time.Time) error {
	// The model is the one the server says answered: an alias or a local
	// server's default may differ from the one asked for.
	model := cmp.Or(resp.Model, t.cfg.Model)
	detail := map[string]any{
		"provider": t.cfg.Provider.Name(), "model": model, "requested_model": t.cfg.Model, "purpose": purpose, "messages": messages,
		"input_tokens": resp.Usage.InputTokens, "output_tokens": resp.Usage.OutputTokens,
		"stop_reason": string(resp.StopReason), "duration_ms": t.cfg.Now().Sub(start).Milliseconds(),
	}
	if resp.Usage.CacheRead > 0 || resp.Usage.CacheWrite > 0 {
		detail["cache_read_tokens"], detail["cache_write_tokens"] = resp.Usage.CacheRead, resp.Usage.CacheWrite
	}
	if purpose == "turn" {
		detail["tools"] = len(t.tools)
	}
	summary := fmt.Sprintf("%s %s: %d messages", t.cfg.Provider.Name(), model, messages)
	if err != nil {
		detail["error"] = err.Error()
		summary += " (failed)"
	}
	return t.cfg.Record.record(ctx, AuditEvent{Kind: AuditModelRequest, Summary: summary, Actor: ActorAgent, Detail: detail})
}
