package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The kinds of failure. Every error Stream returns (other than a cancelled
// context) is an *Error matching exactly one of these with errors.Is.
var (
	ErrAuth        = errors.New("the API key was refused")
	ErrModel       = errors.New("model not found")
	ErrUnreachable = errors.New("the model server cannot be reached")
	ErrRateLimited = errors.New("rate limited")
	ErrOverloaded  = errors.New("the model service is overloaded")
	ErrServer      = errors.New("the model server failed")
	ErrRequest     = errors.New("the model server rejected the request")
	ErrMalformed   = errors.New("malformed reply from the model server")
	ErrStreamCut   = errors.New("the reply stream was cut")
	ErrStalled     = errors.New("the model server stopped sending")
	ErrContextFull = errors.New("the request does not fit the model's context")
)

// Error is a failed model call, described for a person.
type Error struct {
	Kind     error  // one of the sentinels above
	Provider string // "anthropic" or "openai"
	Status   int    // the HTTP error status, if the server answered with one
	Attempts int    // how many attempts were made
	// ErrContextFull: the request's size and the context's, in tokens, when
	// the server said (0 when it did not).
	RequestTokens, ContextTokens int
	msg                          string        // what happened and what to do, without the provider prefix
	wait                         time.Duration // how long the server asked us to wait before retrying
}

// Error says what went wrong and what to do about it.
func (e *Error) Error() string {
	s := e.Provider + ": " + e.msg
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (gave up after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the kind, so that errors.Is matches the sentinel. The SDK's
// own error is not kept: its text can hold the server's raw reply.
func (e *Error) Unwrap() error { return e.Kind }

// retryable reports whether another attempt may succeed.
func (e *Error) retryable() bool {
	switch e.Kind {
	case ErrRateLimited, ErrOverloaded, ErrServer, ErrStreamCut:
		return true
	}
	return false
}

// failure describes an error from the SDK in terms both providers share.
type failure struct {
	status     int    // HTTP status, 0 when the server never answered
	errType    string // the error type from the body ("overloaded_error")
	message    string // the message from the body
	code       string // the error code from the body, if it is text ("context_length_exceeded")
	retryAfter time.Duration
	err        error // the SDK's error
}

// errTypeNoKey marks a failure where the SDK found no key to send.
const errTypeNoKey = "berth_no_key"

// site is what an error message needs to know about the provider.
type site struct {
	provider string
	baseURL  string
	model    string
	secrets  []string // strings to scrub from every message (the API key)
}

// classify turns a failure into an *Error.
func (s site) classify(f failure) *Error {
	e := &Error{Provider: s.provider, wait: f.retryAfter}
	if f.status >= 400 {
		e.Status = f.status
	}
	// detail is what the server said: "429: Number of request tokens…", or
	// "mid-stream: overloaded_error: Overloaded" for an error event in a stream.
	detail := "mid-stream"
	if f.status >= 400 {
		detail = strconv.Itoa(f.status)
	} else if f.errType != "" {
		detail += ": " + f.errType
	}
	if f.message != "" {
		detail += ": " + f.message
	}
	switch {
	case f.errType == errTypeNoKey:
		e.Kind = ErrAuth
		e.msg = fmt.Sprintf("no API key is set — set it with `berth auth set %s` or %s", s.provider, KeyEnvVar(s.provider))
	case f.status == 401 || f.status == 403:
		e.Kind = ErrAuth
		e.msg = fmt.Sprintf("the API key was refused (%s) — set it with `berth auth set %s`", detail, s.provider)
	case f.status == 404:
		e.Kind = ErrModel
		e.msg = fmt.Sprintf("model %q not found at %s (%s) — check the model name and the base URL", s.model, s.baseURL, detail)
	case f.status == 429 || f.errType == "rate_limit_error":
		e.Kind = ErrRateLimited
		e.msg = fmt.Sprintf("rate limited (%s) — wait a minute and try again", detail)
	case f.status == 529 || f.errType == "overloaded_error":
		e.Kind = ErrOverloaded
		e.msg = fmt.Sprintf("the service is overloaded (%s) — try again shortly", detail)
	case f.status >= 500 || f.status == 408 || f.status == 409 || f.errType == "api_error":
		e.Kind = ErrServer
		e.msg = fmt.Sprintf("server error at %s (%s) — try again later", s.baseURL, detail)
	case f.status == 400 || f.status == 413:
		if req, ctx, ok := contextOverflow(f); ok {
			e.Kind, e.RequestTokens, e.ContextTokens = ErrContextFull, req, ctx
			e.msg = fmt.Sprintf("the conversation does not fit the model's context (%s)", detail)
			break
		}
		e.Kind = ErrRequest
		e.msg = fmt.Sprintf("the server rejected the request (%s)", detail)
	case f.status >= 400:
		e.Kind = ErrRequest
		e.msg = fmt.Sprintf("the server rejected the request (%s)", detail)
	case f.status != 0 || f.errType != "":
		// An error event inside a stream that answered 200.
		e.Kind = ErrServer
		e.msg = fmt.Sprintf("the server reported an error (%s) — try again later", detail)
	default:
		return s.transport(f.err)
	}
	e.msg = s.scrub(e.msg)
	return e
}

// transport classifies an error that came with no HTTP status.
func (s site) transport(err error) *Error {
	e := &Error{Provider: s.provider}
	switch {
	case isJSONError(err):
		e.Kind = ErrMalformed
		e.msg = fmt.Sprintf("malformed reply from %s: %v%s", s.baseURL, err, s.apiHint())
	case refused(err):
		e.Kind = ErrUnreachable
		e.msg = fmt.Sprintf("nothing answers at %s — %s", s.baseURL, unreachableHint(s.baseURL))
	case isDNS(err):
		e.Kind = ErrUnreachable
		e.msg = fmt.Sprintf("cannot find the host of %s — check the base URL and your network", s.baseURL)
	default:
		// A connection that dropped or reset, a read that failed mid-stream.
		e.Kind = ErrStreamCut
		e.msg = fmt.Sprintf("the connection to %s dropped before the reply was complete: %v", s.baseURL, errText(err))
	}
	e.msg = s.scrub(e.msg)
	return e
}

// malformed returns an ErrMalformed error.
func (s site) malformed(format string, args ...any) *Error {
	msg := fmt.Sprintf("malformed reply from %s: ", s.baseURL) + fmt.Sprintf(format, args...) + s.apiHint()
	return &Error{Kind: ErrMalformed, Provider: s.provider, msg: s.scrub(msg)}
}

// cut returns the error for a stream that ended before the reply was complete.
func (s site) cut() *Error {
	return &Error{Kind: ErrStreamCut, Provider: s.provider,
		msg: s.scrub(fmt.Sprintf("the reply stream from %s ended before the reply was complete", s.baseURL))}
}

// apiHint suggests the commonest cause of a reply that makes no sense.
func (s site) apiHint() string {
	if s.provider == Anthropic {
		return " — check that the base URL points at Anthropic's API"
	}
	return " — check that the base URL points at an OpenAI-compatible API (it usually ends in /v1)"
}

// scrub removes every secret from msg.
func (s site) scrub(msg string) string {
	for _, secret := range s.secrets {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "[redacted]")
		}
	}
	return msg
}

// isJSONError reports whether err came from decoding JSON that was not valid.
func isJSONError(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ)
}

// refused reports whether err is a refused connection.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// isDNS reports whether err is a failed host name lookup.
func isDNS(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// errText describes err without the request URL that url.Error adds.
func errText(err error) string {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err.Error()
	}
	return err.Error()
}

// unreachableHint guesses which local server the user meant from its port.
func unreachableHint(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "check the base URL"
	}
	switch u.Port() {
	case "11434":
		return "is Ollama running? (start it with `ollama serve`)"
	case "1234":
		return "is LM Studio's local server running?"
	case "8000":
		return "is the vLLM server running?"
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return "is the local model server running?"
	}
	return "check the base URL and your network"
}
