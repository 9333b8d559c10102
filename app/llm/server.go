package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The local servers Probe recognises.
const (
	ServerLlamaCpp = "llama.cpp"
	ServerOllama   = "ollama"
	ServerVLLM     = "vllm"
)

// OllamaDefaultContext is the context Ollama gives a model when neither its
// Modelfile (num_ctx) nor OLLAMA_CONTEXT_LENGTH says otherwise.
const OllamaDefaultContext = 4096

// ServerInfo is what a model server says about itself.
type ServerInfo struct {
	Kind          string // ServerLlamaCpp, ServerOllama, ServerVLLM, or "" (not known)
	ContextTokens int    // the context one request may fill; 0: the server did not say
	// Warning is something the user should know, such as Ollama cutting
	// long prompts without an error.
	Warning string
}

// probeTimeout bounds each probe request: a local server answers at once.
const probeTimeout = 3 * time.Second

// Probe asks the server behind provider and cfg what it is and how big its
// context is: llama.cpp's GET /props (n_ctx), Ollama's POST /api/show (the
// model's context length and num_ctx) and vLLM's GET /v1/models
// (max_model_len). Public APIs are not asked. A server that answers none of
// these gives a zero ServerInfo and no error.
func Probe(ctx context.Context, provider string, cfg Config) (ServerInfo, error) {
	base := cfg.BaseURL
	switch provider {
	case OpenAI:
		base = cmp.Or(base, os.Getenv("OPENAI_BASE_URL"), openaiDefaultURL)
	case Anthropic:
		base = cmp.Or(base, os.Getenv("ANTHROPIC_BASE_URL"), anthropicDefaultURL)
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || isPublicAPI(u.Hostname()) {
		return ServerInfo{}, nil
	}
	root := strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/v1")
	client := cmp.Or(cfg.HTTPClient, http.DefaultClient)
	p := prober{client: client, root: root, key: cfg.APIKey}
	if info, ok := p.llamaCpp(ctx); ok {
		return info, nil
	}
	if info, ok, err := p.ollama(ctx, cfg.Model); ok || err != nil {
		return info, err
	}
	if info, ok := p.vllm(ctx, cfg.Model); ok {
		return info, nil
	}
	return ServerInfo{}, nil
}

// isPublicAPI reports whether host is a hosted API that needs no probing.
func isPublicAPI(host string) bool {
	return strings.HasSuffix(host, "openai.com") || strings.HasSuffix(host, "anthropic.com")
}

// prober makes the probe requests.
type prober struct {
	client *http.Client
	root   string // the base URL without /v1
	key    string
}

// get sends one probe request and decodes a 200 JSON answer into v.
func (p prober) get(ctx context.Context, method, path string, body any, v any) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.root+path, rd)
	if err != nil {
		return false
	}
	if p.key != "" {
		req.Header.Set("Authorization", "Bearer "+p.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	return res.StatusCode == http.StatusOK && json.NewDecoder(res.Body).Decode(v) == nil
}

// llamaCpp reads llama-server's /props: n_ctx is the context of one slot.
func (p prober) llamaCpp(ctx context.Context) (ServerInfo, bool) {
	var props struct {
		Settings struct {
			NCtx int `json:"n_ctx"`
		} `json:"default_generation_settings"`
		NCtx int `json:"n_ctx"`
	}
	if !p.get(ctx, http.MethodGet, "/props", nil, &props) {
		return ServerInfo{}, false
	}
	n := cmp.Or(props.Settings.NCtx, props.NCtx)
	if n == 0 {
		return ServerInfo{}, false
	}
	return ServerInfo{Kind: ServerLlamaCpp, ContextTokens: n}, true
}

// numCtx finds num_ctx in the parameters text of Ollama's /api/show.
var numCtx = regexp.MustCompile(`(?m)^num_ctx\s+(\d+)`)

// ollama reads Ollama's /api/show for model. Ollama gives a request the
// model's num_ctx (OllamaDefaultContext unless set) and cuts a longer
// prompt without an error, so the budget is num_ctx, and a model that
// could take more gets a warning.
func (p prober) ollama(ctx context.Context, model string) (ServerInfo, bool, error) {
	var version struct {
		Version string `json:"version"`
	}
	if !p.get(ctx, http.MethodGet, "/api/version", nil, &version) || version.Version == "" {
		return ServerInfo{}, false, nil
	}
	info := ServerInfo{Kind: ServerOllama, ContextTokens: OllamaDefaultContext}
	var show struct {
		ModelInfo  map[string]any `json:"model_info"`
		Parameters string         `json:"parameters"`
	}
	if model == "" || !p.get(ctx, http.MethodPost, "/api/show", map[string]string{"model": model}, &show) {
		return info, true, fmt.Errorf("ollama %s: model %q not found — `ollama pull %s` or check the model name", version.Version, model, model)
	}
	trained := 0
	for k, v := range show.ModelInfo {
		if f, ok := v.(float64); ok && strings.HasSuffix(k, ".context_length") {
			trained = int(f)
		}
	}
	set := false
	if m := numCtx.FindStringSubmatch(show.Parameters); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			info.ContextTokens, set = n, true
		}
	}
	if trained > 0 {
		info.ContextTokens = min(info.ContextTokens, trained)
	}
	if !set && trained > info.ContextTokens {
		info.Warning = fmt.Sprintf("Ollama runs %s with a context of %d tokens unless told otherwise, and cuts longer prompts without an error, "+
			"though the model takes %d: Berth keeps requests within %d. For more, start Ollama with OLLAMA_CONTEXT_LENGTH=%d "+
			"(or set num_ctx in a Modelfile) and set the context size in Settings.", model, info.ContextTokens, trained, info.ContextTokens, trained)
	}
	return info, true, nil
}

// vllm reads vLLM's /v1/models: max_model_len of the model.
func (p prober) vllm(ctx context.Context, model string) (ServerInfo, bool) {
	var list struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if !p.get(ctx, http.MethodGet, "/v1/models", nil, &list) {
		return ServerInfo{}, false
	}
	for _, m := range list.Data {
		if m.MaxModelLen > 0 && (m.ID == model || len(list.Data) == 1) {
			return ServerInfo{Kind: ServerVLLM, ContextTokens: m.MaxModelLen}, true
		}
	}
	return ServerInfo{}, false
}

// ServerProber is a Provider that can Probe its own server.
type ServerProber interface {
	ServerInfo(ctx context.Context) (ServerInfo, error)
}

// ServerInfo probes the provider's server (see Probe).
func (p *openaiProvider) ServerInfo(ctx context.Context) (ServerInfo, error) {
	cfg := p.cfg
	cfg.BaseURL, cfg.APIKey = p.site.baseURL, cmp.Or(cfg.APIKey, os.Getenv("OPENAI_API_KEY"))
	return Probe(ctx, OpenAI, cfg)
}

// ServerInfo probes the provider's server (see Probe).
func (p *anthropicProvider) ServerInfo(ctx context.Context) (ServerInfo, error) {
	cfg := p.cfg
	cfg.BaseURL, cfg.APIKey = p.site.baseURL, cmp.Or(cfg.APIKey, os.Getenv("ANTHROPIC_API_KEY"))
	return Probe(ctx, Anthropic, cfg)
}

var (
	_ ServerProber = (*openaiProvider)(nil)
	_ ServerProber = (*anthropicProvider)(nil)
)
