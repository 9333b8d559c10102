package llm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRetryWait(t *testing.T) {
	t.Parallel()
	p := retryPolicy{max: 5, delay: 100 * time.Millisecond, maxDelay: 2 * time.Second}
	tests := []struct {
		name       string
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"first retry", 0, 0, 100 * time.Millisecond},
		{"doubles", 1, 0, 200 * time.Millisecond},
		{"doubles again", 3, 0, 800 * time.Millisecond},
		{"capped", 10, 0, 2 * time.Second},
		{"server asks for longer", 0, time.Second, time.Second},
		{"server asks for shorter", 2, 10 * time.Millisecond, 400 * time.Millisecond},
		{"server asks beyond the cap", 0, time.Hour, 2 * time.Second},
		{"huge attempt number", 1000, 0, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := p.wait(tc.n, tc.retryAfter); got != tc.want {
				t.Errorf("wait(%d, %v): got %v, want %v", tc.n, tc.retryAfter, got, tc.want)
			}
		})
	}
}

func TestNewRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want retryPolicy
	}{
		{"defaults", Config{}, retryPolicy{DefaultMaxRetries, 500 * time.Millisecond, 30 * time.Second}},
		{"never", Config{MaxRetries: -1}, retryPolicy{0, 500 * time.Millisecond, 30 * time.Second}},
		{"set", Config{MaxRetries: 7, RetryDelay: time.Millisecond, MaxRetryDelay: time.Second},
			retryPolicy{7, time.Millisecond, time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := newRetryPolicy(tc.cfg); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{"date in the past", http.Header{"Retry-After": {"Mon, 02 Jan 2006 15:04:05 GMT"}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"negative", http.Header{"Retry-After": {"-4"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := retryAfter(tc.header); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnreachableHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want string
	}{
		{"http://localhost:11434/v1", "Ollama"},
		{"http://127.0.0.1:1234/v1", "LM Studio"},
		{"http://gpu-box:8000/v1", "vLLM"},
		{"http://localhost:9999/v1", "local model server"},
		{"https://api.anthropic.com", "network"},
		{"://bad", "base URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			if got := unreachableHint(tc.url); !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want it to mention %q", got, tc.want)
			}
		})
	}
}

func TestNewToolCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		input     string
		wantInput string
		wantErr   bool
	}{
		{"object", `{"command":"ls"}`, `{"command":"ls"}`, false},
		{"empty is no arguments", ``, `{}`, false},
		{"empty object", `{}`, `{}`, false},
		{"cut off", `{"command":"l`, `{"command":"l`, true},
		{"array", `["ls"]`, `["ls"]`, true},
		{"null", `null`, `null`, true},
		{"plain text", `ls -la`, `ls -la`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call := NewToolCall("id", "bash", []byte(tc.input))
			if string(call.Input) != tc.wantInput {
				t.Errorf("input: got %q, want %q", call.Input, tc.wantInput)
			}
			if (call.Err != nil) != tc.wantErr {
				t.Errorf("error: got %v, want error %v", call.Err, tc.wantErr)
			}
			if call.Err != nil && !errors.Is(call.Err, ErrMalformed) {
				t.Errorf("error: got %v, want ErrMalformed", call.Err)
			}
		})
	}
}

func TestWireInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, input, want string }{
		{"valid", `{"a":1}`, `{"a":1}`},
		{"empty", ``, `{}`},
		{"malformed", `{"a":`, `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(wireInput([]byte(tc.input))); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenAIStopReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		finish      string
		calledTools bool
		want        StopReason
	}{
		{"stop", false, StopEndTurn},
		{"stop", true, StopToolUse}, // some local servers
		{"tool_calls", true, StopToolUse},
		{"length", false, StopMaxTokens},
		{"content_filter", false, StopRefusal},
		{"something_new", false, "something_new"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%v", tc.finish, tc.calledTools), func(t *testing.T) {
			t.Parallel()
			if got := openaiStopReason(tc.finish, tc.calledTools); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	s := site{provider: "anthropic", baseURL: "http://127.0.0.1:9/v1", model: "m", secrets: []string{"sk-secret"}}
	refusedErr := &net.OpError{Op: "dial", Net: "tcp", Err: &osSyscallError{syscall.ECONNREFUSED}}
	tests := []struct {
		name      string
		f         failure
		kind      error
		retryable bool
	}{
		{"no key", failure{errType: errTypeNoKey}, ErrAuth, false},
		{"401", failure{status: 401}, ErrAuth, false},
		{"403", failure{status: 403}, ErrAuth, false},
		{"404", failure{status: 404}, ErrModel, false},
		{"400", failure{status: 400}, ErrRequest, false},
		{"413", failure{status: 413}, ErrRequest, false},
		{"408", failure{status: 408}, ErrServer, true},
		{"429", failure{status: 429}, ErrRateLimited, true},
		{"529", failure{status: 529}, ErrOverloaded, true},
		{"500", failure{status: 500}, ErrServer, true},
		{"503", failure{status: 503}, ErrServer, true},
		{"overloaded mid-stream", failure{status: 200, errType: "overloaded_error"}, ErrOverloaded, true},
		{"rate limited mid-stream", failure{errType: "rate_limit_error"}, ErrRateLimited, true},
		{"other error mid-stream", failure{errType: "error"}, ErrServer, true},
		{"refused", failure{err: refusedErr}, ErrUnreachable, false},
		{"no such host", failure{err: &net.DNSError{Err: "no such host", Name: "x.invalid"}}, ErrUnreachable, false},
		{"dropped", failure{err: io.ErrUnexpectedEOF}, ErrStreamCut, true},
		{"reset", failure{err: syscall.ECONNRESET}, ErrStreamCut, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f.message = "echo sk-secret"
			e := s.classify(tc.f)
			if !errors.Is(e, tc.kind) {
				t.Errorf("kind: got %v, want %v", e.Kind, tc.kind)
			}
			if e.retryable() != tc.retryable {
				t.Errorf("retryable: got %v, want %v", e.retryable(), tc.retryable)
			}
			if strings.Contains(e.Error(), "sk-secret") {
				t.Errorf("error %q holds the secret", e)
			}
			if e.Status >= 200 && e.Status < 400 {
				t.Errorf("status: got %d, want only error statuses", e.Status)
			}
		})
	}
}

// osSyscallError stands in for *os.SyscallError, which wraps errno values in
// dial errors.
type osSyscallError struct{ err error }

func (e *osSyscallError) Error() string { return "connect: " + e.err.Error() }
func (e *osSyscallError) Unwrap() error { return e.err }

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"one attempt", &Error{Kind: ErrAuth, Provider: "openai", Attempts: 1, msg: "refused"}, "openai: refused"},
		{"several", &Error{Kind: ErrServer, Provider: "anthropic", Attempts: 4, msg: "boom"},
			"anthropic: boom (gave up after 4 attempts)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	got := secrets("", "abc", "sk-1234")
	if len(got) != 1 || got[0] != "sk-1234" {
		t.Errorf("got %q, want [sk-1234]", got)
	}
}
