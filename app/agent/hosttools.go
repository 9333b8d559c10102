package agent

import (
	"context"
	"encoding/json"
	"time"

	"github.com/berth-app/berth/app/llm"
)

// HostTool is a tool that acts on Berth itself rather than in the sandbox —
// scheduling a task, for one. It crosses the same boundary as the sandbox
// tools (audit before and after, limits), and when Ask is set it waits for
// the user whatever the group's approval mode, and "always" is never
// remembered for it: each call is asked about.
type HostTool struct {
	Name        string
	Description string
	Schema      string // JSON Schema of the input
	Ask         bool
	// Describe says in one line what a call would do, for the approval
	// card and the audit log; an error is the model's mistake, returned to
	// it without asking anyone.
	Describe func(input json.RawMessage) (string, error)
	// Run does it; the text goes back to the model, as an error if isError.
	Run func(ctx context.Context, input json.RawMessage) (text string, isError bool)
}

// hostCall is a call of a HostTool.
type hostCall struct {
	tool  HostTool
	input json.RawMessage
	line  string
}

func (h hostCall) summary() string { return h.tool.Name + ": " + h.line }

func (h hostCall) run(ctx context.Context, _ *executor) outcome {
	start := time.Now()
	text, isErr := h.tool.Run(ctx, h.input)
	o := outcome{output: text, isError: isErr, duration: time.Since(start), bytes: int64(len(text))}
	if isErr {
		o.exitCode = 1
	}
	return o
}

// hostTool finds a host tool by name.
func (t *turn) hostTool(name string) (HostTool, bool) {
	for _, h := range t.cfg.HostTools {
		if h.Name == name {
			return h, true
		}
	}
	return HostTool{}, false
}

// parse reads a call of a sandbox tool or of a host tool.
func (t *turn) parse(c llm.ToolCall) (call, error) {
	h, ok := t.hostTool(c.Name)
	if !ok {
		return parseCall(c.Name, c.Input, c.Err, t.cfg.Tools)
	}
	if c.Err != nil {
		return nil, badInput(c.Name, c.Input, c.Err)
	}
	line, err := h.Describe(c.Input)
	if err != nil {
		return nil, err
	}
	return hostCall{tool: h, input: c.Input, line: line}, nil
}

// mustAsk reports whether a call asks the user whatever the approval mode.
func (t *turn) mustAsk(name string) bool {
	h, ok := t.hostTool(name)
	return ok && h.Ask
}

// hostToolDefs are the host tools' definitions for the model.
func hostToolDefs(hs []HostTool) []llm.Tool {
	var out []llm.Tool
	for _, h := range hs {
		out = append(out, llm.Tool{Name: h.Name, Description: h.Description, Schema: json.RawMessage(h.Schema)})
	}
	return out
}
