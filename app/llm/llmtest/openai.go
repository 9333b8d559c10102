package llmtest

import (
	"cmp"
	"net/http"
	"testing"
)

// NewOpenAI starts a fake OpenAI-compatible chat completions server (POST
// /v1/chat/completions, streaming). Server.URL ends in /v1, as OpenAI's and
// Ollama's base URLs do; the API key arrives as Authorization: Bearer.
//
// A streamed reply is a series of "data: {chat.completion.chunk}" lines: the
// role, content fragments, tool calls with their arguments in fragments, a
// chunk with finish_reason, a usage chunk when the request asked for one
// (stream_options.include_usage), then "data: [DONE]".
func NewOpenAI(t testing.TB) *Server {
	t.Helper()
	return newServer(t, protocol{
		path:   "/v1/chat/completions",
		prefix: "/v1",
		events: openaiEvents,
		error:  openaiError,
	})
}

// openaiEvents returns the stream for reply.
func openaiEvents(req Request, r Reply) []event {
	var evs []event
	chunk := func(choices []any, usage any) {
		evs = append(evs, event{data: mustJSON(map[string]any{
			"id": "chatcmpl-llmtest", "object": "chat.completion.chunk", "created": 1700000000,
			"model": answering(req, r), "system_fingerprint": "fp_llmtest", "choices": choices, "usage": usage,
		})})
	}
	delta := func(d map[string]any, finish any) {
		chunk([]any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}, nil)
	}

	delta(map[string]any{"role": "assistant", "content": ""}, nil)
	switch {
	case r.Malformed:
		return append(evs, event{data: `{"id":"chatcmpl-llmtest","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`})
	case r.StreamError != "":
		evs = append(evs, event{data: mustJSON(map[string]any{"error": map[string]any{
			"message": cmp.Or(r.ErrorMessage, "The server had an error while processing your request."),
			"type":    r.StreamError, "param": nil, "code": nil}})})
		return evs
	}
	for _, text := range r.Text {
		delta(map[string]any{"content": text}, nil)
	}
	for i, call := range r.ToolCalls {
		delta(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": call.ID, "type": "function",
			"function": map[string]any{"name": call.Name, "arguments": ""}}}}, nil)
		for _, part := range fragments(call) {
			delta(map[string]any{"tool_calls": []any{map[string]any{"index": i,
				"function": map[string]any{"arguments": part}}}}, nil)
		}
	}
	finish := r.StopReason
	if finish == "" {
		finish = "stop"
		if len(r.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	delta(map[string]any{}, finish)
	if req.Get("stream_options.include_usage") == true {
		chunk([]any{}, map[string]any{"prompt_tokens": r.Usage.InputTokens, "completion_tokens": r.Usage.OutputTokens,
			"total_tokens": r.Usage.InputTokens + r.Usage.OutputTokens})
	}
	return append(evs, event{data: "[DONE]"})
}

// openaiError returns the status and body of an error reply, as OpenAI words
// them. The 401 message echoes the whole key the client sent — OpenAI masks
// most of it, which makes this a harder test that the key is scrubbed.
func openaiError(req Request, r Reply) (int, any) {
	errType, msg, code := "server_error", "The server had an error while processing your request.", any(nil)
	switch r.Status {
	case http.StatusBadRequest:
		errType, msg = "invalid_request_error", "Invalid request."
	case http.StatusUnauthorized:
		errType, code = "invalid_request_error", "invalid_api_key"
		msg = "Incorrect API key provided: " + APIKey(req) + ". You can find your API key at https://platform.openai.com/account/api-keys."
	case http.StatusForbidden:
		errType, msg = "invalid_request_error", "You are not allowed to use this model."
	case http.StatusNotFound:
		errType, code = "invalid_request_error", "model_not_found"
		msg = "The model `" + model(req) + "` does not exist or you do not have access to it."
	case http.StatusTooManyRequests:
		errType, code = "requests", "rate_limit_exceeded"
		msg = "Rate limit reached for requests. Please try again later."
	}
	return r.Status, map[string]any{"error": map[string]any{
		"message": cmp.Or(r.ErrorMessage, msg),
		"type":    cmp.Or(r.ErrorType, errType),
		"param":   nil,
		"code":    code,
	}}
}
