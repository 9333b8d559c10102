package llm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// openaiDefaultURL is where the chat completions API lives when nothing says otherwise.
const openaiDefaultURL = "https://api.openai.com/v1"

// openaiProvider streams from an OpenAI-compatible chat completions server.
type openaiProvider struct {
	client openai.Client
	cfg    Config
	site   site
	retry  retryPolicy
}

var _ Provider = (*openaiProvider)(nil)

// NewOpenAI returns a Provider for an OpenAI-compatible chat completions
// server: OpenAI, Ollama (http://localhost:11434/v1), LM Studio, vLLM. An
// empty APIKey or BaseURL is taken from OPENAI_API_KEY or OPENAI_BASE_URL.
// Local servers need no key: the request then carries no Authorization header.
func NewOpenAI(cfg Config) Provider {
	base := cmp.Or(cfg.BaseURL, os.Getenv("OPENAI_BASE_URL"), openaiDefaultURL)
	opts := []option.RequestOption{option.WithMaxRetries(0), option.WithBaseURL(base)}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &openaiProvider{
		client: openai.NewClient(opts...),
		cfg:    cfg,
		site:   site{provider: OpenAI, baseURL: base, secrets: secrets(cfg.APIKey, os.Getenv("OPENAI_API_KEY"))},
		retry:  newRetryPolicy(cfg),
	}
}

// Name is "openai".
func (p *openaiProvider) Name() string { return OpenAI }

// Stream sends req to the chat completions endpoint and streams the reply.
func (p *openaiProvider) Stream(ctx context.Context, req Request, emit func(Event)) (Response, error) {
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

// attempt streams one reply. Tool calls are emitted once the stream is
// complete, as only then are their arguments known to be whole; while their
// arguments stream, EventToolInput says how far they got.
func (p *openaiProvider) attempt(ctx context.Context, s site, params openai.ChatCompletionNewParams, emit func(Event)) (Response, error) {
	ctx, dog := newWatchdog(ctx, stallTimeout(p.cfg))
	defer dog.stop()
	var res *http.Response
	stream := p.client.Chat.Completions.NewStreaming(ctx, params, option.WithResponseInto(&res))
	defer stream.Close()

	var acc openai.ChatCompletionAccumulator
	var progress toolProgress
	finish := ""
	for stream.Next() {
		dog.kick()
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			return openaiResponse(&acc, finish), s.malformed("chunk %q does not continue the stream", chunk.ID)
		}
		for _, c := range chunk.Choices {
			if c.Index != 0 {
				continue
			}
			if c.Delta.Content != "" {
				emit(Event{Kind: EventText, Text: c.Delta.Content})
			}
			for _, tc := range c.Delta.ToolCalls {
				openaiToolInput(&acc, &progress, tc.Index, len(tc.Function.Arguments), emit)
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
	resp := openaiResponse(&acc, finish)
	if dog.stalled() {
		return resp, s.stalled(dog.d)
	}
	if err := stream.Err(); err != nil {
		return resp, s.classify(openaiFailure(err, res))
	}
	if finish == "" {
		return resp, s.cut()
	}
	for _, call := range resp.ToolCalls() {
		emit(Event{Kind: EventToolCall, ToolCall: &call})
	}
	emit(Event{Kind: EventUsage, Usage: &resp.Usage})
	emit(Event{Kind: EventStop, StopReason: resp.StopReason})
	return resp, nil
}

// openaiToolInput counts n more bytes of arguments for the tool call at
// index and emits EventToolInput when progress says so.
func openaiToolInput(acc *openai.ChatCompletionAccumulator, progress *toolProgress, index int64, n int, emit func(Event)) {
	total, tell := progress.add(index, n)
	if !tell {
		return
	}
	call := &ToolCall{}
	if len(acc.Choices) > 0 && index >= 0 && index < int64(len(acc.Choices[0].Message.ToolCalls)) {
		tc := acc.Choices[0].Message.ToolCalls[index]
		call.ID, call.Name = tc.ID, tc.Function.Name
	}
	emit(Event{Kind: EventToolInput, ToolCall: call, Bytes: total})
}

// openaiResponse turns the accumulated completion into a Response.
func openaiResponse(acc *openai.ChatCompletionAccumulator, finish string) Response {
	resp := Response{
		Message: Message{Role: RoleAssistant},
		Usage: Usage{InputTokens: acc.Usage.PromptTokens, OutputTokens: acc.Usage.CompletionTokens,
			CacheRead: acc.Usage.PromptTokensDetails.CachedTokens},
		Model: acc.Model,
	}
	if len(acc.Choices) == 0 {
		return resp
	}
	msg := acc.Choices[0].Message
	if msg.Content != "" {
		resp.Message.Parts = append(resp.Message.Parts, Part{Kind: PartText, Text: msg.Content})
	}
	for _, tc := range msg.ToolCalls {
		if tc.Function.Name == "" && tc.ID == "" {
			continue // a gap left by a sparse index
		}
		resp.Message.Parts = append(resp.Message.Parts, Part{Kind: PartToolUse, ToolUseID: tc.ID,
			ToolName: tc.Function.Name, Input: json.RawMessage(tc.Function.Arguments)})
	}
	resp.StopReason = openaiStopReason(finish, len(msg.ToolCalls) > 0)
	return resp
}

// openaiStopReason maps a finish_reason onto the shared stop reasons. Some
// local servers say "stop" when the model called tools.
func openaiStopReason(finish string, calledTools bool) StopReason {
	switch finish {
	case "tool_calls", "function_call":
		return StopToolUse
	case "stop":
		if calledTools {
			return StopToolUse
		}
		return StopEndTurn
	case "length":
		return StopMaxTokens
	case "content_filter":
		return StopRefusal
	}
	return StopReason(finish)
}

// openaiFailure reads what the SDK's error says.
func openaiFailure(err error, res *http.Response) failure {
	f := failure{err: err}
	var apiErr *openai.Error
	var streamErr *ssestream.StreamError
	switch {
	case errors.As(err, &apiErr):
		f.status, f.errType, f.message, f.code = apiErr.StatusCode, apiErr.Type, apiErr.Message, apiErr.Code
		if apiErr.Response != nil {
			f.retryAfter = retryAfter(apiErr.Response.Header)
		}
	case errors.As(err, &streamErr):
		// {"error": {...}} in place of a chunk.
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(streamErr.Event.Data, &body)
		f.errType = cmp.Or(body.Error.Type, "error")
		f.message = body.Error.Message
		f.code, _ = body.Error.Code.(string)
	case res != nil && res.StatusCode >= 400:
		// An error body the SDK could not read, such as plain text.
		f.status = res.StatusCode
		f.retryAfter = retryAfter(res.Header)
	}
	return f
}

// params converts req into the SDK's request.
func (p *openaiProvider) params(s site, req Request) (openai.ChatCompletionNewParams, error) {
	if s.model == "" {
		return openai.ChatCompletionNewParams{}, noModel(s)
	}
	params := openai.ChatCompletionNewParams{
		Model:         s.model,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	// Always send a cap: llama.cpp's server has none by default, and a model
	// stuck in a tool call's arguments would write until its context is full.
	// OpenAI's newer models refuse max_tokens; local servers know only max_tokens.
	if n := int64(maxTokens(req, p.cfg)); isOpenAIHost(s.baseURL) {
		params.MaxCompletionTokens = openai.Int(n)
	} else {
		params.MaxTokens = openai.Int(n)
	}
	for _, t := range req.Tools {
		raw, err := toolSchema(s, t)
		if err != nil {
			return params, err
		}
		var schema shared.FunctionParameters
		if err := json.Unmarshal(raw, &schema); err != nil {
			return params, &Error{Kind: ErrRequest, Provider: s.provider, msg: fmt.Sprintf("tool %q: %v", t.Name, err)}
		}
		fn := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fn.Description = openai.String(t.Description)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fn))
	}
	if req.System != "" {
		params.Messages = append(params.Messages, openai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			params.Messages = append(params.Messages, openaiUser(m)...)
		case RoleAssistant:
			if msg, ok := openaiAssistant(m); ok {
				params.Messages = append(params.Messages, msg)
			}
		default:
			return params, &Error{Kind: ErrRequest, Provider: s.provider, msg: fmt.Sprintf("unknown message role %q", m.Role)}
		}
	}
	return params, nil
}

// openaiUser converts a user message: each tool result becomes a tool
// message (they must follow the assistant's tool calls), then the text, if
// any, becomes a user message. OpenAI has no error flag on tool results, so a
// failed tool's output is prefixed with "Error: ".
func openaiUser(m Message) []openai.ChatCompletionMessageParamUnion {
	var out []openai.ChatCompletionMessageParamUnion
	var text []string
	for _, part := range m.Parts {
		switch part.Kind {
		case PartToolResult:
			content := part.Text
			if part.IsError {
				content = "Error: " + content
			}
			out = append(out, openai.ToolMessage(content, part.ToolUseID))
		case PartText:
			if part.Text != "" {
				text = append(text, part.Text)
			}
		}
	}
	if len(text) > 0 {
		out = append(out, openai.UserMessage(strings.Join(text, "\n")))
	}
	return out
}

// openaiAssistant converts an assistant message: text becomes its content,
// tool uses its tool_calls. It reports false for a message with neither.
func openaiAssistant(m Message) (openai.ChatCompletionMessageParamUnion, bool) {
	var msg openai.ChatCompletionAssistantMessageParam
	var text []string
	for _, part := range m.Parts {
		switch part.Kind {
		case PartText:
			if part.Text != "" {
				text = append(text, part.Text)
			}
		case PartToolUse:
			msg.ToolCalls = append(msg.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID: part.ToolUseID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{
						Name:      part.ToolName,
						Arguments: string(wireInput(part.Input)),
					},
				},
			})
		}
	}
	if len(text) > 0 {
		msg.Content.OfString = openai.String(strings.Join(text, ""))
	}
	if len(text) == 0 && len(msg.ToolCalls) == 0 {
		return openai.ChatCompletionMessageParamUnion{}, false
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &msg}, true
}

// isOpenAIHost reports whether baseURL is OpenAI's own API.
func isOpenAIHost(baseURL string) bool {
	u, err := url.Parse(baseURL)
	return err == nil && strings.HasSuffix(u.Hostname(), "openai.com")
}
