package llm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// secrets returns the keys worth scrubbing from messages: very short strings
// are left out so that scrubbing cannot mangle a whole message.
func secrets(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if len(k) >= 4 {
			out = append(out, k)
		}
	}
	return out
}

// firstPositive returns the first of ns above 0, or 0.
func firstPositive(ns ...int) int {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}

// maxTokens returns the reply cap for req: the request's, the config's, or
// DefaultMaxTokens.
func maxTokens(req Request, cfg Config) int {
	return firstPositive(req.MaxTokens, cfg.MaxTokens, DefaultMaxTokens)
}

// emptySchema is the input schema of a tool that takes no input.
const emptySchema = `{"type":"object","properties":{}}`

// toolSchema returns the JSON Schema of t, checked.
func toolSchema(s site, t Tool) (json.RawMessage, error) {
	if len(t.Schema) == 0 {
		return json.RawMessage(emptySchema), nil
	}
	var obj map[string]any
	if err := json.Unmarshal(t.Schema, &obj); err != nil || obj == nil {
		return nil, &Error{Kind: ErrRequest, Provider: s.provider,
			msg: fmt.Sprintf("the input schema of tool %q is not a JSON object", t.Name)}
	}
	return t.Schema, nil
}

// noModel is the error for a request with no model named anywhere.
func noModel(s site) error {
	return &Error{Kind: ErrModel, Provider: s.provider, msg: "no model is set — choose one in Settings"}
}

// retryAfter reads how long a server asked us to wait: Retry-After-Ms, then
// Retry-After in seconds or as an HTTP date. 0 means it did not say.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if sec, err := strconv.ParseFloat(v, 64); err == nil {
		return max(0, time.Duration(sec*float64(time.Second)))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
