// Package llmtest runs fake model servers that speak the real wire protocols
// of Anthropic's Messages API and OpenAI's chat completions API, so that tests
// drive the official SDKs (and their parsing) without a network.
//
// A test starts a server, queues one Reply per request it expects, points the
// provider at Server.URL and afterwards reads what the SDK sent with Requests:
//
//	srv := llmtest.NewAnthropic(t)
//	srv.Queue(llmtest.Reply{Text: []string{"Hel", "lo"}})
//	p := llm.NewAnthropic(llm.Config{BaseURL: srv.URL, APIKey: "k", Model: "m"})
//
// A Reply is either a streamed answer (text chunks, tool calls whose input is
// streamed in fragments, usage, stop reason), an HTTP error with the provider's
// real error body, a stream cut after some events, a stream that stalls, or a
// stream carrying malformed data.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Reply is what the fake answers to one request.
type Reply struct {
	Text       []string   // text chunks, streamed in order
	ToolCalls  []ToolCall // tool calls, streamed after the text
	Usage      Usage
	StopReason string // empty: end_turn/tool_use (Anthropic), stop/tool_calls (OpenAI)
	Model      string // the model the server says answered; empty: the one requested

	// Status, when set, answers with this HTTP status and the provider's error
	// JSON instead of a stream. ErrorType and ErrorMessage override the body's
	// defaults for the status; RetryAfter sets the Retry-After header.
	Status       int
	ErrorType    string
	ErrorMessage string
	RetryAfter   string

	// CutAfter, when above 0, closes the connection after that many events
	// (pings included), in the middle of the stream.
	CutAfter int
	// HoldAfter, when above 0, stops after that many events and waits until
	// the client goes away, like a model that stalls.
	HoldAfter int
	// Malformed sends, after the first event, an event whose data is not
	// JSON, then ends the stream.
	Malformed bool
	// StreamError sends, after the first event, an in-stream error of this
	// type ("overloaded_error", "server_error"), then ends the stream.
	StreamError string
}

// ToolCall is a tool call the fake model makes.
type ToolCall struct {
	ID    string
	Name  string
	Input string   // the arguments as raw text; need not be valid JSON
	Parts []string // the fragments to stream Input in; empty: Input split in three
}

// Usage is the token count the fake reports.
type Usage struct {
	InputTokens, OutputTokens int64
	// CacheRead and CacheWrite are Anthropic's cache_read_input_tokens and
	// cache_creation_input_tokens, which it counts apart from InputTokens.
	CacheRead, CacheWrite int64
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Raw    []byte
	Body   map[string]any // Raw decoded; nil if it was not a JSON object
}

// Get returns the value at a dotted path in the body, such as
// "messages.1.content.0.type"; numbers index arrays. It returns nil when the
// path leads nowhere.
func (r Request) Get(path string) any {
	var v any = r.Body
	for _, key := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			v = node[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return nil
			}
			v = node[i]
		default:
			return nil
		}
	}
	return v
}

// APIKey returns the API key the request carried: the x-api-key header, or
// else the token of an Authorization: Bearer header.
func APIKey(req Request) string {
	if k := req.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	h := req.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(h, "Bearer "); ok {
		return token
	}
	return h
}

// Server is a fake model server on the loopback interface.
type Server struct {
	// URL is the base URL to hand the SDK: the server's root for Anthropic,
	// root + "/v1" for OpenAI.
	URL string

	t       testing.TB
	proto   protocol
	srv     *httptest.Server
	closing chan struct{}

	mu       sync.Mutex
	replies  []Reply
	requests []Request
	respond  func(Request) Reply
}

// Respond sets a function that answers every request for which no reply is
// queued, deciding from what the request holds. Tests that run many chats at
// once use it, since the order of their requests is not known.
func (s *Server) Respond(fn func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = fn
}

// protocol is what differs between the two APIs.
type protocol struct {
	path   string // the endpoint, such as "/v1/messages"
	prefix string // what URL adds to the server's root
	events func(req Request, r Reply) []event
	error  func(req Request, r Reply) (status int, body any)
	named  bool // events carry an "event:" line
}

// event is one server-sent event.
type event struct {
	name string
	data string
}

func newServer(t testing.TB, proto protocol) *Server {
	t.Helper()
	s := &Server{t: t, proto: proto, closing: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + proto.prefix
	t.Cleanup(func() {
		close(s.closing)
		s.srv.Close()
	})
	return s
}

// Queue adds replies for the next requests, in order.
func (s *Server) Queue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Pending returns how many queued replies no request has used yet.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.replies)
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// probePaths are where Berth asks a local server about itself (llama.cpp,
// Ollama, vLLM): the fakes are none of those, so they answer 404 there, as
// OpenAI's and Anthropic's APIs do, without counting it as a request.
var probePaths = map[string]bool{"/props": true, "/api/version": true, "/api/show": true, "/v1/models": true}

// serve records the request and answers with the next queued reply.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if probePaths[r.URL.Path] {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw}
	_ = json.Unmarshal(raw, &req.Body)

	s.mu.Lock()
	s.requests = append(s.requests, req)
	var reply Reply
	ok := len(s.replies) > 0
	if ok && r.Method == http.MethodPost && r.URL.Path == s.proto.path {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	respond := s.respond
	s.mu.Unlock()
	if !ok && respond != nil && r.Method == http.MethodPost && r.URL.Path == s.proto.path {
		reply, ok = respond(req), true
	}

	switch {
	case r.Method != http.MethodPost || r.URL.Path != s.proto.path:
		s.t.Errorf("llmtest: unexpected %s %s (want POST %s)", r.Method, r.URL.Path, s.proto.path)
		reply = Reply{Status: http.StatusNotFound, ErrorMessage: "llmtest: no such endpoint " + r.URL.Path}
	case !ok:
		s.t.Errorf("llmtest: request %d arrived with no reply queued", len(s.Requests()))
		reply = Reply{Status: http.StatusInternalServerError, ErrorMessage: "llmtest: no reply queued"}
	}
	if reply.Status != 0 {
		s.writeError(w, req, reply)
		return
	}
	s.writeStream(w, r, s.proto.events(req, reply), reply)
}

// writeError answers with an HTTP error and the provider's error body.
func (s *Server) writeError(w http.ResponseWriter, req Request, reply Reply) {
	status, body := s.proto.error(req, reply)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_llmtest")
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeStream sends events as server-sent events, cutting or stalling the
// stream where reply says.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, events []event, reply Reply) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("request-id", "req_llmtest")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	flush()
	for i, ev := range events {
		if reply.CutAfter > 0 && i == reply.CutAfter {
			// Aborting the handler closes the connection without ending the
			// chunked body, as a dropped connection does.
			panic(http.ErrAbortHandler)
		}
		if reply.HoldAfter > 0 && i == reply.HoldAfter {
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
		if s.proto.named && ev.name != "" {
			fmt.Fprintf(w, "event: %s\n", ev.name)
		}
		fmt.Fprintf(w, "data: %s\n\n", ev.data)
		flush()
	}
}

// ClosedURL returns an http URL on 127.0.0.1 where nothing listens: the port
// was just taken and given back.
func ClosedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "http://" + addr
}

// mustJSON encodes v, which is always encodable here.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("llmtest: encode %T: %v", v, err))
	}
	return string(b)
}

// fragments splits call's input into the pieces to stream.
func fragments(call ToolCall) []string {
	if len(call.Parts) > 0 {
		return call.Parts
	}
	in := call.Input
	if len(in) < 3 {
		return []string{in}
	}
	n := len(in) / 3
	return []string{in[:n], in[n : 2*n], in[2*n:]}
}

// model returns the model the request named.
func model(req Request) string {
	m, _ := req.Body["model"].(string)
	return m
}

// answering returns the model the reply says answered.
func answering(req Request, r Reply) string {
	if r.Model != "" {
		return r.Model
	}
	return model(req)
}
