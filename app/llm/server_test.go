package llm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// fakeOllama answers /api/version and /api/show as Ollama does, for a
// model whose Modelfile sets parameters (a text of "key value" lines).
func fakeOllama(t *testing.T, parameters string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET /api/version":
			w.Write([]byte(`{"version":"0.12.6"}`))
		case "POST /api/show":
			var body struct{ Model string }
			json.NewDecoder(r.Body).Decode(&body)
			if body.Model != "qwen2.5-coder:7b" {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"error":"model '` + body.Model + `' not found"}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]any{
				"modelfile":  "FROM qwen2.5-coder:7b\n",
				"parameters": parameters,
				"template":   "{{ .System }}",
				"details":    map[string]any{"format": "gguf", "family": "qwen2", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
				"model_info": map[string]any{"general.architecture": "qwen2", "qwen2.context_length": 32768, "qwen2.embedding_length": 3584},
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// TestProbeOllama: Ollama is detected; without num_ctx it runs a model with
// its default context and cuts longer prompts silently, so the budget is
// that default and a warning says how to get more; with num_ctx set, that
// is the budget and there is nothing to warn about.
func TestProbeOllama(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		parameters string
		model      string
		wantCtx    int
		wantWarn   string
		wantErr    bool
	}{
		{"default context", "stop \"<|im_end|>\"\ntemperature 0.7", "qwen2.5-coder:7b", llm.OllamaDefaultContext, "OLLAMA_CONTEXT_LENGTH=32768", false},
		{"num_ctx set", "num_ctx 16384\nstop \"<|im_end|>\"", "qwen2.5-coder:7b", 16384, "", false},
		{"unknown model", "", "llama9:1b", llm.OllamaDefaultContext, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := fakeOllama(t, tc.parameters)
			info, err := llm.Probe(context.Background(), llm.OpenAI, llm.Config{BaseURL: base, Model: tc.model})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Probe: %v", err)
			}
			want(t, "kind", info.Kind, llm.ServerOllama)
			want(t, "context", info.ContextTokens, tc.wantCtx)
			if (tc.wantWarn == "") != (info.Warning == "") || !strings.Contains(info.Warning, tc.wantWarn) {
				t.Errorf("warning: %q, want one with %q", info.Warning, tc.wantWarn)
			}
		})
	}
}
