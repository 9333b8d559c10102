package llm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/app/llm/llmtest"
)

// BenchmarkStream measures a 200-chunk reply with one tool call streamed
// through the real SDKs from the loopback fakes: the cost Berth adds on top
// of the model, per reply and per text chunk.
func BenchmarkStream(b *testing.B) {
	chunks := strings.Fields(strings.Repeat("word ", 200))
	reply := llmtest.Reply{
		Text:      chunks,
		ToolCalls: []llmtest.ToolCall{{ID: "c1", Name: "bash", Input: `{"command":"ls -la /workspace"}`}},
		Usage:     llmtest.Usage{InputTokens: 100, OutputTokens: 200},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			srv := be.server(b)
			p := be.provider(testConfig(srv.URL))
			req := ask("hi")
			req.Tools = []llm.Tool{bashTool}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				srv.Queue(reply)
				resp, err := p.Stream(context.Background(), req, nil)
				if err != nil {
					b.Fatalf("Stream: %v", err)
				}
				if got := len(resp.ToolCalls()); got != 1 {
					b.Fatalf("tool calls: got %d, want 1", got)
				}
			}
			elapsed := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*len(chunks))/elapsed, "chunks/s")
			if n := srv.Pending(); n != 0 {
				b.Fatalf("replies left unused: %d", n)
			}
		})
	}
}
