package assistant

import (
	"context"
	"fmt"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/store"
)

// turnLimits are the context budget and reply cap of one turn.
type turnLimits struct {
	contextTokens int // for the prompt: the model's context less the reply's room
	maxTokens     int
	server        llm.ServerInfo
}

// modelLimits works out a turn's limits: the user's settings for the model
// first, then what the server says of itself (llama.cpp's n_ctx, Ollama's
// num_ctx, vLLM's max_model_len), then Berth's defaults. A small context
// gets a smaller reply cap, and the reply's room is kept out of the prompt's
// budget, since local servers share one context between the two.
func (s *Service) modelLimits(ctx context.Context, provider llm.Provider, model string) turnLimits {
	set := s.Config.Limits(provider.Name(), model)
	var l turnLimits
	if p, ok := provider.(llm.ServerProber); ok {
		l.server, _ = p.ServerInfo(ctx)
	}
	window := set.ContextTokens
	if window == 0 {
		window = l.server.ContextTokens
	}
	l.maxTokens = set.MaxTokens
	if l.maxTokens == 0 {
		l.maxTokens = llm.DefaultMaxTokens
		if window > 0 {
			l.maxTokens = min(l.maxTokens, max(window/4, 256))
		}
	}
	if window > 0 {
		l.contextTokens = max(window-l.maxTokens, window/2)
	}
	return l
}

// warnServer passes on what the server probe found worth saying (Ollama
// cutting long prompts without an error): in a new chat, or once the
// conversation fills half the context.
func (s *Service) warnServer(ctx context.Context, group, session string, l turnLimits, history []llm.Message, onEvent func(agent.Event)) {
	if l.server.Warning == "" {
		return
	}
	if len(history) > 1 && agent.EstimateTokens(history) < l.contextTokens/2 {
		return
	}
	if onEvent != nil {
		onEvent(agent.Event{Kind: agent.EventNotice, Text: l.server.Warning})
	}
	_ = s.record(ctx, store.Event{Group: group, Session: session, Kind: AuditModelWarning, Actor: store.ActorSystem,
		Summary: fmt.Sprintf("%s: %s", l.server.Kind, l.server.Warning)})
}
