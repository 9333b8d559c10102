package llmtest

import (
	"cmp"
	"net/http"
	"testing"
)

// NewAnthropic starts a fake of Anthropic's Messages API (POST /v1/messages,
// streaming). Hand Server.URL to the SDK as its base URL; the API key arrives
// in the x-api-key header.
//
// A streamed reply follows the real event sequence: message_start, ping, then
// per content block content_block_start, content_block_delta (text_delta or
// input_json_delta) and content_block_stop, then message_delta (stop reason,
// usage) and message_stop.
func NewAnthropic(t testing.TB) *Server {
	t.Helper()
	return newServer(t, protocol{
		path:   "/v1/messages",
		events: anthropicEvents,
		error:  anthropicError,
		named:  true,
	})
}

// anthropicEvents returns the stream for reply.
func anthropicEvents(req Request, r Reply) []event {
	var evs []event
	add := func(name string, data any) { evs = append(evs, event{name, mustJSON(data)}) }

	add("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_llmtest", "type": "message", "role": "assistant", "model": answering(req, r),
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": r.Usage.InputTokens, "output_tokens": 1,
			"cache_read_input_tokens": r.Usage.CacheRead, "cache_creation_input_tokens": r.Usage.CacheWrite},
	}})
	switch {
	case r.Malformed:
		return append(evs, event{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`})
	case r.StreamError != "":
		add("error", map[string]any{"type": "error", "error": map[string]any{
			"type": r.StreamError, "message": cmp.Or(r.ErrorMessage, "Overloaded")}})
		return evs
	}
	add("ping", map[string]any{"type": "ping"})

	index := 0
	if len(r.Text) > 0 {
		add("content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "text", "text": ""}})
		for _, chunk := range r.Text {
			add("content_block_delta", map[string]any{"type": "content_block_delta", "index": index,
				"delta": map[string]any{"type": "text_delta", "text": chunk}})
		}
		add("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	for _, call := range r.ToolCalls {
		add("content_block_start", map[string]any{"type": "content_block_start", "index": index,
			"content_block": map[string]any{"type": "tool_use", "id": call.ID, "name": call.Name, "input": map[string]any{}}})
		// The real API opens every tool input with an empty fragment.
		for _, part := range append([]string{""}, fragments(call)...) {
			add("content_block_delta", map[string]any{"type": "content_block_delta", "index": index,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": part}})
		}
		add("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}

	stop := r.StopReason
	if stop == "" {
		stop = "end_turn"
		if len(r.ToolCalls) > 0 {
			stop = "tool_use"
		}
	}
	add("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": r.Usage.OutputTokens}})
	add("message_stop", map[string]any{"type": "message_stop"})
	return evs
}

// anthropicError returns the status and body of an error reply, as the real
// API words them. The 401 message echoes the key the client sent — real
// servers do not, which makes it a harder test that the key is scrubbed.
func anthropicError(req Request, r Reply) (int, any) {
	errType, msg := "api_error", "Internal server error"
	switch r.Status {
	case http.StatusBadRequest:
		errType, msg = "invalid_request_error", "messages: field required"
	case http.StatusUnauthorized:
		errType, msg = "authentication_error", "invalid x-api-key: "+APIKey(req)
	case http.StatusForbidden:
		errType, msg = "permission_error", "Your API key does not have permission to use the specified resource."
	case http.StatusNotFound:
		errType, msg = "not_found_error", "model: "+model(req)
	case http.StatusRequestEntityTooLarge:
		errType, msg = "request_too_large", "Request exceeds the maximum allowed number of bytes."
	case http.StatusTooManyRequests:
		errType, msg = "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."
	case 529:
		errType, msg = "overloaded_error", "Overloaded"
	}
	return r.Status, map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": cmp.Or(r.ErrorType, errType), "message": cmp.Or(r.ErrorMessage, msg)},
		"request_id": "req_llmtest",
	}
}
