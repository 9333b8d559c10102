package llmtest

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// llamaCpp holds real responses of llama.cpp's llama-server, recorded by
// testdata/llamacpp/record.sh (which says how to re-record them).
//
//go:embed testdata/llamacpp
var llamaCpp embed.FS

// Recording is one real server response: its status, headers and body, byte
// for byte as the server sent them.
type Recording struct {
	Name   string
	Status int
	Header http.Header
	Body   []byte
}

// LlamaCpp returns the recorded llama-server response called name (see
// testdata/llamacpp: "chat-tool", "props", "overflow", ...).
func LlamaCpp(t testing.TB, name string) Recording {
	t.Helper()
	head, err := llamaCpp.ReadFile("testdata/llamacpp/" + name + ".head")
	if err != nil {
		t.Fatalf("llmtest: no recording %q: %v", name, err)
	}
	body, err := llamaCpp.ReadFile("testdata/llamacpp/" + name + ".body")
	if err != nil {
		t.Fatalf("llmtest: recording %q has no body: %v", name, err)
	}
	rec, err := parseHead(head)
	if err != nil {
		t.Fatalf("llmtest: recording %q: %v", name, err)
	}
	rec.Name, rec.Body = name, body
	return rec
}

// parseHead reads a status line and headers as curl -D saves them.
func parseHead(head []byte) (Recording, error) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	line, err := tp.ReadLine()
	if err != nil {
		return Recording{}, err
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return Recording{}, io.ErrUnexpectedEOF
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		return Recording{}, err
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return Recording{}, err
	}
	return Recording{Status: status, Header: http.Header(h)}, nil
}

// Replay is a server that answers with recorded responses, byte for byte:
// each request to a method and path gets the next recording queued for
// them. Requests nobody queued for fail the test, except the probes of
// probePaths, which get 404 as from a server that is not a llama.cpp one.
type Replay struct {
	URL string // the server's root; add /v1 for an OpenAI base URL

	t  testing.TB
	mu sync.Mutex
	q  map[string][]Recording // by "METHOD /path"
	// requests holds every request that got a recording, in order.
	requests []Request
}

// NewReplay starts a replay server.
func NewReplay(t testing.TB) *Replay {
	t.Helper()
	r := &Replay{t: t, q: map[string][]Recording{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Queue adds recordings to answer the next requests to method and path.
func (r *Replay) Queue(method, path string, recs ...Recording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.q[method+" "+path] = append(r.q[method+" "+path], recs...)
}

// Requests returns the requests answered so far, in order.
func (r *Replay) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

func (r *Replay) serve(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	key := req.Method + " " + req.URL.Path
	r.mu.Lock()
	recs := r.q[key]
	var rec Recording
	ok := len(recs) > 0
	if ok {
		rec, r.q[key] = recs[0], recs[1:]
		in := Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Raw: raw}
		_ = json.Unmarshal(raw, &in.Body)
		r.requests = append(r.requests, in)
	}
	r.mu.Unlock()
	if !ok {
		if !probePaths[req.URL.Path] {
			r.t.Errorf("llmtest: replay has nothing queued for %s", key)
		}
		http.NotFound(w, req)
		return
	}
	for k, vs := range rec.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Date":
			continue // the transport's own
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}
