package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/llm"
)

// fit shortens the conversation when the next request would fill more than
// fillPercent of the context budget: first the output of old tool calls is
// trimmed, then the oldest turns are summarised by the model, then tool
// outputs of the current turn are trimmed too. Nothing is dropped without a
// marker, and Berth keeps the full history.
func (t *turn) fit(ctx context.Context) error {
	limit := t.cfg.ContextTokens * fillPercent / 100
	t.slim(limit)
	fixed := t.estimate(estimateFixed(t.system, t.tools))
	fits := func() bool { return fixed+t.estimate(EstimateTokens(t.msgs)) <= limit }
	if fits() {
		return nil
	}
	before := t.estimate(EstimateTokens(t.msgs))
	var did []string

	keep, keepMsgs := keepTurns, keepMessages
	if t.hard {
		keep, keepMsgs = 1, 1 // the server refused the request: keep only the current turn whole
	}
	msgs, n := TrimToolResults(t.msgs, RecentStart(t.msgs, keep))
	t.compacted(msgs, n, 0)
	if n > 0 {
		did = append(did, fmt.Sprintf("trimmed %d old tool outputs", n))
	}
	if !fits() {
		if cut := RecentStart(t.msgs, keep); cut > 0 {
			summary, err := t.summarise(ctx, t.msgs[:cut])
			if err != nil {
				return err
			}
			msgs := append([]llm.Message{SummaryMessage(summary)}, t.msgs[cut:]...)
			t.compacted(msgs, 0, cut)
			did = append(did, fmt.Sprintf("summarised the %d oldest messages", cut))
		}
	}
	if !fits() {
		msgs, n := TrimToolResults(t.msgs, len(t.msgs)-keepMsgs)
		t.compacted(msgs, n, 0)
		if n > 0 {
			did = append(did, fmt.Sprintf("trimmed %d tool outputs of this turn", n))
		}
	}
	if len(did) > 0 {
		t.emit(Event{Kind: EventCompacted, Text: fmt.Sprintf("The conversation was getting too long for the model (about %d tokens): %s; Berth keeps the full history.",
			before, strings.Join(did, ", "))})
	}
	return nil
}

// estimate corrects a token estimate by what a server said of an earlier
// request's real size.
func (t *turn) estimate(tokens int) int {
	if t.scale <= 1 {
		return tokens
	}
	return int(float64(tokens) * t.scale)
}

// compacted makes msgs the conversation the model sees and counts what
// changed.
func (t *turn) compacted(msgs []llm.Message, trimmed, summarised int) {
	if trimmed == 0 && summarised == 0 {
		return
	}
	t.msgs = msgs
	t.res.Compacted = true
	t.res.TrimmedResults += trimmed
	t.res.SummarisedMessages += summarised
}

// summarise asks the model, without tools, for a summary of msgs, a chunk at
// a time when they are long.
func (t *turn) summarise(ctx context.Context, msgs []llm.Message) (string, error) {
	sofar := ""
	for _, chunk := range chunks(msgs, t.cfg.ContextTokens*charsPerToken/2) {
		start := t.cfg.Now()
		req := llm.Request{
			Model:     t.cfg.Model,
			System:    summarySystem,
			Messages:  []llm.Message{llm.UserText(summaryPrompt(sofar, Transcript(chunk)))},
			MaxTokens: 2048,
		}
		resp, err := t.cfg.Provider.Stream(ctx, req, func(ev llm.Event) {
			if ev.Kind == llm.EventRetry {
				t.emit(Event{Kind: EventRetry, Err: ev.Err, Attempt: ev.Attempt, Wait: ev.Wait})
			}
		})
		t.res.Usage.Add(resp.Usage)
		if recErr := t.recordRequest(ctx, "summary", len(chunk), resp, err, start); recErr != nil {
			return "", recErr
		}
		if err != nil {
			return "", fmt.Errorf("summarise the earlier conversation: %w", err)
		}
		if s := strings.TrimSpace(resp.Text()); s != "" {
			sofar = s
		}
	}
	if sofar == "" {
		return "", fmt.Errorf("summarise the earlier conversation: the model returned no summary")
	}
	return sofar, nil
}
