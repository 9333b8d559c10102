package agent

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-app/berth/app/llm"
)

// How long sessions are kept within the model's context.
const (
	charsPerToken = 4  // a rough estimate, good enough to decide when to compact
	fillPercent   = 80 // compact when the request would fill more of ContextTokens
	keepTurns     = 2  // the last user turns are never trimmed or summarised
	keepMessages  = 3  // within a long turn, the last messages keep their tool output
	minTrimBytes  = 256
	summaryPrefix = "Summary of the earlier conversation: "
)

// trimmedMarker replaces a tool output trimmed to save context.
const trimmedMarker = "[tool output trimmed to save context: %d bytes; the full output is in Berth's log]"

// EstimateTokens guesses how many tokens msgs take, at about four
// characters a token.
func EstimateTokens(msgs []llm.Message) int {
	chars := 0
	for _, m := range msgs {
		chars += 8
		for _, p := range m.Parts {
			chars += 16 + len(p.Text) + len(p.ToolName) + len(p.Input) + len(p.ToolUseID)
		}
	}
	return chars / charsPerToken
}

// estimateFixed guesses the tokens of a request that are not messages: the
// system prompt and the tool definitions.
func estimateFixed(system string, tools []llm.Tool) int {
	chars := len(system)
	for _, t := range tools {
		chars += len(t.Name) + len(t.Description) + len(t.Schema)
	}
	return chars / charsPerToken
}

// isTrimmed reports whether a tool output was already trimmed.
func isTrimmed(s string) bool {
	return strings.HasPrefix(s, "[tool output trimmed to save context: ")
}

// TrimToolResults returns msgs with the output of every tool result before
// index before replaced by a marker that says how long it was and that
// Berth's log has it. Short outputs are left alone. msgs is not changed; it
// also returns how many outputs were trimmed.
func TrimToolResults(msgs []llm.Message, before int) ([]llm.Message, int) {
	out := slices.Clone(msgs)
	n := 0
	for i := range min(before, len(out)) {
		m := out[i]
		cloned := false
		for j, p := range m.Parts {
			if p.Kind != llm.PartToolResult || len(p.Text) < minTrimBytes || isTrimmed(p.Text) {
				continue
			}
			if !cloned {
				m.Parts, cloned = slices.Clone(m.Parts), true
			}
			m.Parts[j].Text = fmt.Sprintf(trimmedMarker, len(p.Text))
			n++
		}
		out[i] = m
	}
	return out, n
}

// isUserTurn reports whether m is a message the user typed, where a turn
// starts: user text and no tool results.
func isUserTurn(m llm.Message) bool {
	if m.Role != llm.RoleUser {
		return false
	}
	hasText := false
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartToolResult:
			return false
		case llm.PartText:
			hasText = true
		}
	}
	return hasText
}

// RecentStart returns the index where the last turns user turns begin: what
// comes before it may be trimmed or summarised without splitting a tool call
// from its result. It is 0 when msgs holds no more than turns user turns.
func RecentStart(msgs []llm.Message, turns int) int {
	seen := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		if isUserTurn(msgs[i]) {
			seen++
			if seen == turns {
				return i
			}
		}
	}
	return 0
}

// SummaryMessage is the user message that stands in for the summarised
// start of a conversation.
func SummaryMessage(summary string) llm.Message {
	return llm.UserText(summaryPrefix + strings.TrimSpace(summary) +
		"\n\n(Berth keeps the full earlier conversation in its log; this summary stands in for it here to save context.)")
}

// Transcript renders msgs as plain text for the model to summarise, each
// tool input and output cut to a few kilobytes.
func Transcript(msgs []llm.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		for _, p := range m.Parts {
			switch {
			case p.Kind == llm.PartText && m.Role == llm.RoleUser:
				fmt.Fprintf(&b, "User: %s\n\n", capText(p.Text, 8<<10))
			case p.Kind == llm.PartText:
				fmt.Fprintf(&b, "Assistant: %s\n\n", capText(p.Text, 8<<10))
			case p.Kind == llm.PartToolUse:
				fmt.Fprintf(&b, "Assistant called %s: %s\n\n", p.ToolName, capText(string(p.Input), 1<<10))
			case p.Kind == llm.PartToolResult && p.IsError:
				fmt.Fprintf(&b, "Tool error: %s\n\n", capText(p.Text, 2<<10))
			case p.Kind == llm.PartToolResult:
				fmt.Fprintf(&b, "Tool result: %s\n\n", capText(p.Text, 2<<10))
			}
		}
	}
	return b.String()
}

// chunks splits msgs into runs whose transcripts hold about limit bytes each,
// so that each fits in one summary request.
func chunks(msgs []llm.Message, limit int) [][]llm.Message {
	var out [][]llm.Message
	start, size := 0, 0
	for i, m := range msgs {
		n := len(Transcript([]llm.Message{m}))
		if size > 0 && size+n > limit {
			out = append(out, msgs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(msgs) {
		out = append(out, msgs[start:])
	}
	return out
}

// summarySystem is the system prompt of a summary request.
const summarySystem = `You write summaries of conversations between a user and an AI assistant that works in a sandboxed Linux container, so that the conversation can go on without its full history.
Keep what the assistant needs to continue: the user's goals, requests and stated preferences; decisions made; facts learned; files created or changed (with their paths) and commands that mattered; problems met; open questions and what was about to happen next.
Be specific and concise: plain sentences or short bullet points, at most about 600 words. Write only the summary.`

// summaryPrompt asks for a summary of transcript, folding in the summary
// so far.
func summaryPrompt(sofar, transcript string) string {
	if sofar == "" {
		return "Summarise this conversation:\n\n" + transcript
	}
	return "The summary so far:\n\n" + sofar + "\n\nThe conversation went on like this:\n\n" + transcript +
		"\n\nWrite one updated summary of the whole conversation."
}
