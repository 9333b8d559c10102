package agent

import (
	"context"
	"testing"
	"time"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/docker/dockertest"
)

// BenchmarkToolCallOverhead measures what the turn loop itself adds to a
// tool call: parsing, audit events, capping and the result message, with a
// model and a sandbox that answer at once.
func BenchmarkToolCallOverhead(b *testing.B) {
	p := &fakeProvider{stream: func(_ context.Context, req llm.Request, _ func(llm.Event)) (llm.Response, error) {
		if len(req.Messages)%2 == 1 {
			return replyWith(use{"c", "bash", `{"command":"ls"}`}).resp, nil
		}
		return replyWith("done").resp, nil
	}}
	rec := &recorder{}
	cfg := testConfig(p, rec)
	cfg.OnEvent = nil
	sb := &fakeSandbox{exec: stdout("a\nb\n")}
	for b.Loop() {
		rec.audit = rec.audit[:0]
		sb.reqs = sb.reqs[:0]
		if _, err := RunTurn(context.Background(), cfg, sb, "", []llm.Message{llm.UserText("go")}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrimToolResults measures trimming a long session's history.
func BenchmarkTrimToolResults(b *testing.B) {
	msgs := conversation(200, 20<<10)
	for b.Loop() {
		TrimToolResults(msgs, RecentStart(msgs, keepTurns))
	}
}

// BenchmarkToolInSandbox measures read_file and a bash call in a real,
// warm sandbox, end to end through Docker's exec.
func BenchmarkToolInSandbox(b *testing.B) {
	dockertest.Client(b) // skips, or fails in CI, without an engine
	for _, tc := range []struct{ tool, input string }{
		{"read_file", `{"path":"/etc/passwd"}`},
		{"bash", `{"command":"echo hi"}`},
		{"list_files", `{"path":"/workspace/extra/ro"}`},
	} {
		b.Run(tc.tool, func(b *testing.B) {
			sb, _ := testSandbox(b)
			x := &executor{sb: sb, callTimeout: 30 * time.Second, maxTimeout: time.Minute, outputCap: DefaultOutputCap}
			call, err := parseCall(tc.tool, []byte(tc.input), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			for b.Loop() {
				if o := call.run(context.Background(), x); o.isError {
					b.Fatalf("%s: %s", tc.tool, o.output)
				}
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/call")
		})
	}
}
