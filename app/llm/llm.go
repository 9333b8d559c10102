// Package llm talks to language models behind one small interface, Provider.
//
// Two providers exist: Anthropic's Messages API (NewAnthropic) and any
// OpenAI-compatible chat completions server (NewOpenAI: OpenAI, Ollama, LM Studio,
// vLLM). Both go through the providers' official Go SDKs and stream: text
// arrives as Events while the model writes, tool calls arrive once their input
// is complete, and Stream returns the assembled assistant Message.
//
// Retries (rate limits, overload, server errors, connections dropped before any
// output) happen inside Stream with a short, configurable backoff. Every failure
// is an *Error that matches one of the sentinels below with errors.Is and says in
// plain words what to do. No error string ever holds the API key.
//
// API keys live in the OS keyring (see GetKey and StoreKey); where there is
// none (a headless machine) in a key file only the user can read (KeyFile),
// and the environment is the last fallback. Looking a key up never starts a
// D-Bus session bus. Keys are never written to config, the database, logs or
// a container.
package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Role says who wrote a Message.
type Role string

// The two roles of a conversation. Tool results travel in user messages, as
// the Anthropic API has them; the OpenAI provider turns them into tool messages.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// PartKind says what a Part holds.
type PartKind string

// The kinds of Part.
const (
	PartText       PartKind = "text"        // Text
	PartToolUse    PartKind = "tool_use"    // ToolUseID, ToolName, Input (assistant messages)
	PartToolResult PartKind = "tool_result" // ToolUseID, Text, IsError (user messages)
)

// Message is one turn of the conversation handed to a Provider.
type Message struct {
	Role  Role
	Parts []Part
}

// Part is one piece of a Message: text, a tool call the model made, or the
// result of running one.
type Part struct {
	Kind      PartKind
	Text      string          // text, or the tool's output for a tool_result
	ToolUseID string          // tool_use and tool_result: the call's ID
	ToolName  string          // tool_use: the tool's name
	Input     json.RawMessage // tool_use: the arguments as the model wrote them (may be malformed)
	IsError   bool            // tool_result: the tool failed
}

// UserText returns a user message holding text.
func UserText(text string) Message {
	return Message{Role: RoleUser, Parts: []Part{{Kind: PartText, Text: text}}}
}

// ToolResult returns the part that answers the tool call with id.
func ToolResult(id, output string, isError bool) Part {
	return Part{Kind: PartToolResult, ToolUseID: id, Text: output, IsError: isError}
}

// Tool describes a tool the model may call.
type Tool struct {
	Name        string
	Description string
	Schema      json.RawMessage // a JSON Schema object for the input
}

// Request is one call to the model.
type Request struct {
	Model     string // empty: Config.Model
	System    string
	Messages  []Message
	Tools     []Tool
	MaxTokens int // 0: Config.MaxTokens, then DefaultMaxTokens
}

// EventKind says what an Event carries.
type EventKind string

// The kinds of Event.
const (
	EventText     EventKind = "text"      // Text: the next piece of the reply
	EventToolCall EventKind = "tool_call" // ToolCall: a complete tool call
	EventUsage    EventKind = "usage"     // Usage: tokens used by the reply
	EventStop     EventKind = "stop"      // StopReason: the reply is complete
	EventRetry    EventKind = "retry"     // Err, Attempt, Wait: a failed attempt is being retried
	// EventToolInput: ToolCall (ID and Name; Input not yet complete) and
	// Bytes: the model is writing a tool call's arguments. It comes when a
	// call starts and then about every ToolInputStep bytes.
	EventToolInput EventKind = "tool_input"
)

// ToolInputStep is how many bytes of a tool call's arguments pass between
// two EventToolInput events.
const ToolInputStep = 512

// Event is something that happened while the reply streamed. Events arrive on
// the goroutine that called Stream, in order.
type Event struct {
	Kind       EventKind
	Text       string
	ToolCall   *ToolCall
	Usage      *Usage
	StopReason StopReason
	Err        error         // EventRetry: why the attempt failed
	Attempt    int           // EventRetry: the number of the attempt about to start (2 = first retry)
	Wait       time.Duration // EventRetry: how long Stream waits before it
	Bytes      int           // EventToolInput: bytes of arguments so far
}

// ToolCall is a tool call the model made.
type ToolCall struct {
	ID    string
	Name  string
	Input json.RawMessage // the arguments; the raw text when Err is set
	// Err is set (and matches ErrMalformed) when the model's arguments are not
	// a JSON object. The agent should answer the call with an error result.
	Err error
}

// NewToolCall returns the call with its input checked: empty input is {}, and
// input that is not a JSON object is kept as raw text with Err set.
func NewToolCall(id, name string, input []byte) ToolCall {
	call := ToolCall{ID: id, Name: name, Input: json.RawMessage(input)}
	if len(input) == 0 {
		call.Input = json.RawMessage(`{}`)
		return call
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(input, &obj); err != nil || obj == nil {
		call.Err = fmt.Errorf("arguments for tool %q are not a JSON object: %w", name, ErrMalformed)
	}
	return call
}

// Usage counts tokens. InputTokens counts the whole prompt, the part read
// from or written to a prompt cache included (Anthropic reports those apart;
// OpenAI-compatible servers count them in).
type Usage struct {
	InputTokens  int64
	OutputTokens int64
	CacheRead    int64 // of InputTokens, read from the prompt cache
	CacheWrite   int64 // of InputTokens, written to the prompt cache
}

// Add adds u2 to u.
func (u *Usage) Add(u2 Usage) {
	u.InputTokens += u2.InputTokens
	u.OutputTokens += u2.OutputTokens
	u.CacheRead += u2.CacheRead
	u.CacheWrite += u2.CacheWrite
}

// StopReason says why the model stopped. Provider-specific reasons not listed
// here are passed through as they came.
type StopReason string

// The stop reasons both providers share (OpenAI's "stop", "tool_calls" and
// "length" are mapped onto these).
const (
	StopEndTurn   StopReason = "end_turn"
	StopToolUse   StopReason = "tool_use"
	StopMaxTokens StopReason = "max_tokens"
	StopRefusal   StopReason = "refusal"
)

// Response is the model's complete reply.
type Response struct {
	Message    Message // role assistant: text and tool_use parts
	StopReason StopReason
	Usage      Usage
	Model      string // the model the server says answered ("" if it did not say)
}

// Text returns the text parts of the reply, joined.
func (r Response) Text() string {
	var b strings.Builder
	for _, p := range r.Message.Parts {
		if p.Kind == PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCalls returns the tool calls of the reply, in order.
func (r Response) ToolCalls() []ToolCall {
	var calls []ToolCall
	for _, p := range r.Message.Parts {
		if p.Kind == PartToolUse {
			calls = append(calls, NewToolCall(p.ToolUseID, p.ToolName, p.Input))
		}
	}
	return calls
}

// Provider is a model service that streams. It is safe for concurrent use.
type Provider interface {
	// Name is "anthropic" or "openai".
	Name() string
	// Stream sends req and calls emit for each Event as the reply streams in
	// (emit may be nil), on the calling goroutine. It returns the complete
	// reply, or an *Error, or the context's error wrapped when ctx ends.
	//
	// Events are for showing progress; run tools from the returned Response,
	// which exists only once the whole reply arrived. A failure before any
	// event is retried; after one it is not, so nothing is shown twice: the
	// error then matches ErrStreamCut and the Response holds what arrived.
	Stream(ctx context.Context, req Request, emit func(Event)) (Response, error)
}

// DefaultMaxTokens caps a reply when neither Request nor Config says.
const DefaultMaxTokens = 4096

// Config configures a Provider. The zero Config works: key and base URL come
// from the provider's environment variables, then the provider's defaults.
type Config struct {
	APIKey    string // empty: ANTHROPIC_API_KEY / OPENAI_API_KEY
	BaseURL   string // empty: ANTHROPIC_BASE_URL / OPENAI_BASE_URL, then the public API
	Model     string
	MaxTokens int // the most tokens one reply may have; 0: DefaultMaxTokens

	// StallTimeout ends an attempt whose stream has been silent this long
	// (no headers, no chunk): 0 means DefaultStallTimeout, negative never.
	StallTimeout time.Duration

	// MaxRetries is how many times a failed attempt is retried: 0 means
	// DefaultMaxRetries, a negative number means never.
	MaxRetries int
	// RetryDelay is the first wait between attempts; it doubles each time.
	// 0 means 500ms.
	RetryDelay time.Duration
	// MaxRetryDelay caps one wait, including one a server asks for with
	// Retry-After. 0 means 30s.
	MaxRetryDelay time.Duration

	HTTPClient *http.Client // nil: the SDK's client
}

// DefaultStallTimeout is used when Config.StallTimeout is 0. It is long
// enough for a local server to read a long prompt on a CPU before it sends
// its first token.
const DefaultStallTimeout = 5 * time.Minute

// DefaultMaxRetries is used when Config.MaxRetries is 0.
const DefaultMaxRetries = 3

// New returns the provider called name ("anthropic" or "openai").
func New(name string, cfg Config) (Provider, error) {
	switch name {
	case Anthropic:
		return NewAnthropic(cfg), nil
	case OpenAI:
		return NewOpenAI(cfg), nil
	}
	return nil, fmt.Errorf("unknown model provider %q (want %q or %q)", name, Anthropic, OpenAI)
}

// The provider names.
const (
	Anthropic = "anthropic"
	OpenAI    = "openai"
)
