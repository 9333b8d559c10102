package llm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"
)

// anthropicDefaultURL is where the Messages API lives when nothing says otherwise.
const anthropicDefaultURL = "https://api.anthropic.com"

// anthropicProvider streams from the Anthropic Messages API.
type anthropicProvider struct {
	client anthropic.Client
	cfg    Config
	site   site
	retry  retryPolicy
}

var _ Provider = (*anthropicProvider)(nil)

// NewAnthropic returns a Provider for Anthropic's Messages API. An empty
// APIKey or BaseURL is taken from ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL.
func NewAnthropic(cfg Config) Provider {
	base := cmp.Or(cfg.BaseURL, os.Getenv("ANTHROPIC_BASE_URL"), anthropicDefaultURL)
	opts := []option.RequestOption{option.WithMaxRetries(0), option.WithBaseURL(base)}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &anthropicProvider{
		client: anthropic.NewClient(opts...),
		cfg:    cfg,
		site: site{provider: Anthropic, baseURL: base, secrets: secrets(cfg.APIKey,
			os.Getenv("ANTHROPIC_API_KEY"), os.Getenv("ANTHROPIC_AUTH_TOKEN"))},
		retry: newRetryPolicy(cfg),
	}
}

// Name is "anthropic".
func (p *anthropicProvider) Name() string { return Anthropic }

// Stream sends req to the Messages API and streams the reply.
func (p *anthropicProvider) Stream(ctx context.Context, req Request, emit func(Event)) (Response, error) {
	s := p.site
	s.model = cmp.Or(req.Model, p.cfg.Model)
	params, err := p.params(s, req)
	if err != nil {
		return Response{}, err
	}
	return p.retry.run(ctx, s, emit, func(ctx context.Context, emit func(Event)) (Response, error) {
		return p.attempt(ctx, s, params, emit)
	})
}

// attempt streams one reply.
func (p *anthropicProvider) attempt(ctx context.Context, s site, params anthropic.MessageNewParams, emit func(Event)) (Response, error) {
	ctx, dog := newWatchdog(ctx, stallTimeout(p.cfg))
	defer dog.stop()
	var res *http.Response
	stream := p.client.Messages.NewStreaming(ctx, params, option.WithResponseInto(&res))
	defer stream.Close()

	var msg anthropic.Message
	var progress toolProgress
	calls := map[int64]ToolCall{} // complete tool calls by block index, input as the model wrote it
	stopped := false
	for stream.Next() {
		dog.kick()
		ev := stream.Current()
		var call *ToolCall
		if ev.Type == "content_block_stop" && ev.Index >= 0 && ev.Index < int64(len(msg.Content)) {
			// Accumulate empties input that is not JSON, so take it first.
			if b := msg.Content[ev.Index]; b.Type == "tool_use" {
				c := NewToolCall(b.ID, b.Name, b.Input)
				calls[ev.Index] = c
				call = &c
			}
		}
		if err := msg.Accumulate(ev); err != nil {
			return anthropicResponse(msg, calls), s.malformed("%v", err)
		}
		switch ev.Type {
		case "content_block_start":
			if ev.ContentBlock.Type == "tool_use" {
				anthropicToolInput(&progress, ev.Index, ev.ContentBlock.ID, ev.ContentBlock.Name, 0, emit)
			}
		case "content_block_delta":
			if ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
				emit(Event{Kind: EventText, Text: ev.Delta.Text})
			}
			if ev.Delta.Type == "input_json_delta" && ev.Index >= 0 && ev.Index < int64(len(msg.Content)) {
				b := msg.Content[ev.Index]
				anthropicToolInput(&progress, ev.Index, b.ID, b.Name, len(ev.Delta.PartialJSON), emit)
			}
		case "content_block_stop":
			if call != nil {
				emit(Event{Kind: EventToolCall, ToolCall: call})
			}
		case "message_stop":
			stopped = true
		}
	}
	resp := anthropicResponse(msg, calls)
	if dog.stalled() {
		return resp, s.stalled(dog.d)
	}
	if err := stream.Err(); err != nil {
		return resp, s.classify(anthropicFailure(err, res))
	}
	if !stopped {
		return resp, s.cut()
	}
	emit(Event{Kind: EventUsage, Usage: &resp.Usage})
	emit(Event{Kind: EventStop, StopReason: resp.StopReason})
	return resp, nil
}

// anthropicResponse turns the accumulated message into a Response. Tool calls
// whose input never completed are left out.
func anthropicResponse(msg anthropic.Message, calls map[int64]ToolCall) Response {
	out := Message{Role: RoleAssistant}
	for i, b := range msg.Content {
		switch b.Type {
		case "text":
			if b.Text != "" {
				out.Parts = append(out.Parts, Part{Kind: PartText, Text: b.Text})
			}
		case "tool_use":
			if c, ok := calls[int64(i)]; ok {
				out.Parts = append(out.Parts, Part{Kind: PartToolUse, ToolUseID: c.ID, ToolName: c.Name, Input: c.Input})
			}
		}
	}
	u := msg.Usage
	return Response{
		Message:    out,
		StopReason: StopReason(msg.StopReason),
		// Anthropic counts cached prompt tokens apart from input_tokens.
		Usage: Usage{InputTokens: u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens, OutputTokens: u.OutputTokens,
			CacheRead: u.CacheReadInputTokens, CacheWrite: u.CacheCreationInputTokens},
		Model: string(msg.Model),
	}
}

// anthropicToolInput counts n more bytes of input for the tool call in
// block index and emits EventToolInput when progress says so.
func anthropicToolInput(progress *toolProgress, index int64, id, name string, n int, emit func(Event)) {
	if total, tell := progress.add(index, n); tell {
		emit(Event{Kind: EventToolInput, ToolCall: &ToolCall{ID: id, Name: name}, Bytes: total})
	}
}

// anthropicFailure reads what the SDK's error says.
func anthropicFailure(err error, res *http.Response) failure {
	f := failure{err: err}
	var apiErr *anthropic.Error
	switch {
	case errors.As(err, &apiErr):
		f.status, f.errType, f.message = apiErr.StatusCode, string(apiErr.Type()), apiErr.Message
		if apiErr.Response != nil {
			f.retryAfter = retryAfter(apiErr.Response.Header)
		}
	case strings.HasPrefix(err.Error(), "no Anthropic credentials found"):
		// The SDK's NoCredentialsError, which it does not export.
		f.errType = errTypeNoKey
	case res != nil && res.StatusCode >= 400:
		f.status = res.StatusCode
		f.retryAfter = retryAfter(res.Header)
	}
	return f
}

// params converts req into the SDK's request.
func (p *anthropicProvider) params(s site, req Request) (anthropic.MessageNewParams, error) {
	if s.model == "" {
		return anthropic.MessageNewParams{}, noModel(s)
	}
	params := anthropic.MessageNewParams{
		Model:     s.model,
		MaxTokens: int64(maxTokens(req, p.cfg)),
	}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	for _, t := range req.Tools {
		schema, err := toolSchema(s, t)
		if err != nil {
			return params, err
		}
		tool := anthropic.ToolParam{
			Name:        t.Name,
			InputSchema: param.Override[anthropic.ToolInputSchemaParam](schema),
		}
		if t.Description != "" {
			tool.Description = anthropic.String(t.Description)
		}
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &tool})
	}
	for _, m := range req.Messages {
		blocks := anthropicBlocks(m)
		if len(blocks) == 0 {
			continue // the API refuses empty messages
		}
		switch m.Role {
		case RoleUser:
			params.Messages = append(params.Messages, anthropic.NewUserMessage(blocks...))
		case RoleAssistant:
			params.Messages = append(params.Messages, anthropic.NewAssistantMessage(blocks...))
		default:
			return params, &Error{Kind: ErrRequest, Provider: s.provider, msg: fmt.Sprintf("unknown message role %q", m.Role)}
		}
	}
	return params, nil
}

// anthropicBlocks converts the parts of m into content blocks.
func anthropicBlocks(m Message) []anthropic.ContentBlockParamUnion {
	var blocks []anthropic.ContentBlockParamUnion
	for _, part := range m.Parts {
		switch part.Kind {
		case PartText:
			if part.Text != "" { // the API refuses empty text blocks
				blocks = append(blocks, anthropic.NewTextBlock(part.Text))
			}
		case PartToolUse:
			blocks = append(blocks, anthropic.NewToolUseBlock(part.ToolUseID, wireInput(part.Input), part.ToolName))
		case PartToolResult:
			result := anthropic.ToolResultBlockParam{ToolUseID: part.ToolUseID}
			if part.Text != "" {
				result.Content = []anthropic.ToolResultBlockParamContentUnion{{OfText: &anthropic.TextBlockParam{Text: part.Text}}}
			}
			if part.IsError {
				result.IsError = anthropic.Bool(true)
			}
			blocks = append(blocks, anthropic.ContentBlockParamUnion{OfToolResult: &result})
		}
	}
	return blocks
}

// wireInput returns tool input fit to send back: input the model got wrong
// (and the agent answered with an error result) goes back as {}.
func wireInput(input json.RawMessage) json.RawMessage {
	if NewToolCall("", "", input).Err != nil {
		return json.RawMessage(`{}`)
	}
	if len(input) == 0 {
		return json.RawMessage(`{}`)
	}
	return input
}
