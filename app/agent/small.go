package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/llm"
)

// slimShare is the share of the context budget (in percent) the system
// prompt and the tool definitions may take before the tools are slimmed.
const slimShare = 40

// slim shortens the tool definitions when, with the system prompt, they
// would take more than slimShare percent of limit: a local model with a 2k
// context cannot spend 1,800 tokens on them. Descriptions keep their first
// sentence and the schemas lose their property descriptions; names and
// inputs, the contract, stay.
func (t *turn) slim(limit int) {
	if t.slimmed || t.estimate(estimateFixed(t.system, t.tools)) <= limit*slimShare/100 {
		return
	}
	t.slimmed = true
	before := estimateFixed(t.system, t.tools)
	t.tools = SlimTools(t.tools)
	t.emit(Event{Kind: EventNotice, Text: fmt.Sprintf(
		"The model's context is small (%d tokens): Berth sends shorter tool descriptions (about %d tokens with the system prompt, down from %d).",
		t.cfg.ContextTokens, estimateFixed(t.system, t.tools), before)})
}

// SlimTools returns tools with each description cut to its first sentence
// and the descriptions inside its input schema removed.
func SlimTools(tools []llm.Tool) []llm.Tool {
	out := make([]llm.Tool, len(tools))
	for i, tool := range tools {
		out[i] = llm.Tool{Name: tool.Name, Description: firstSentence(tool.Description), Schema: slimSchema(tool.Schema)}
	}
	return out
}

// firstSentence returns s up to and including its first full stop.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// slimSchema returns schema without the descriptions of its properties; a
// schema it cannot read is returned as it was.
func slimSchema(schema json.RawMessage) json.RawMessage {
	var obj map[string]any
	if json.Unmarshal(schema, &obj) != nil {
		return schema
	}
	if props, ok := obj["properties"].(map[string]any); ok {
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				delete(pm, "description")
			}
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return schema
	}
	return b
}

// refit answers a request the server refused as too big for its context:
// it learns the real sizes from the error when the server said them,
// compacts the conversation to fit them and reports whether anything
// changed, so that the request is worth sending again. It says so in the
// transcript.
func (t *turn) refit(ctx context.Context, overflow error) (bool, error) {
	var le *llm.Error
	errors.As(overflow, &le)
	sent := estimateFixed(t.system, t.tools) + EstimateTokens(t.msgs)
	switch {
	case le != nil && le.RequestTokens > 0 && sent > 0:
		t.scale = max(t.scale, float64(le.RequestTokens)/float64(sent))
	default:
		// The server did not say how big: aim at two thirds of what was sent.
		t.scale = max(t.scale, 1) * 1.5
	}
	if le != nil && le.ContextTokens > 0 {
		t.cfg.ContextTokens = min(t.cfg.ContextTokens, le.ContextTokens)
	}
	before := t.res.TrimmedResults + t.res.SummarisedMessages
	slimmed := t.slimmed
	t.hard = true
	if err := t.fit(ctx); err != nil {
		return false, err
	}
	if t.res.TrimmedResults+t.res.SummarisedMessages == before && t.slimmed == slimmed {
		return false, nil // nothing left to shorten: the error stands
	}
	size := ""
	if le != nil && le.RequestTokens > 0 && le.ContextTokens > 0 {
		size = fmt.Sprintf(" (%d tokens for a context of %d)", le.RequestTokens, le.ContextTokens)
	}
	t.emit(Event{Kind: EventNotice, Text: "The request did not fit the model's context" + size +
		": Berth compacted the conversation and sent it once more."})
	return true, nil
}
