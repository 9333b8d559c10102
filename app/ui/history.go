package ui

import (
	"encoding/json"
	"strings"

	"github.com/berth-app/berth/app/assistant"
)

// HistoryItems turns a chat's stored messages into conversation items:
// user messages with their status, assistant text, and a card per tool call
// with its result. Checkpoints of a compacted history are skipped; messages
// that cannot be read become a notice.
func HistoryItems(msgs []assistant.Message) []Item {
	var items []Item
	cards := map[string]*ToolCard{}
	turn := -1 // the index of the current turn's user item
	endTurn := func() {
		if turn < 0 {
			return
		}
		u := items[turn]
		if note := pastEnd(u.Status); note != "" {
			items = append(items, Item{Kind: ItemTurnEnd, MessageID: u.MessageID, Status: u.Status, Text: note, Retry: u.Text})
		}
	}
	for _, m := range msgs {
		switch m.Role {
		case assistant.RoleUser:
			endTurn()
			// A turn sent again with Retry replaces the one it retried.
			if turn >= 0 && items[turn].Text == m.Content && (items[turn].Status == assistant.StatusInterrupted || items[turn].Status == assistant.StatusFailed) {
				items = items[:turn]
			}
			it := Item{Kind: ItemUser, MessageID: m.ID, Text: m.Content, Status: m.Status}
			if m.Status == assistant.StatusPending {
				it.Note = "Waiting to run."
			}
			turn = len(items)
			items = append(items, it)
		case assistant.RoleAssistant, assistant.RoleTool:
			parts, err := assistant.MessageParts(m)
			if err != nil {
				items = append(items, Item{Kind: ItemNotice, Text: "A stored message could not be read."})
				continue
			}
			for _, p := range parts {
				switch p.Kind {
				case assistant.PartText:
					if strings.TrimSpace(p.Text) != "" {
						items = append(items, Item{Kind: ItemAssistant, Text: p.Text})
					}
				case assistant.PartToolUse:
					card := &ToolCard{CallID: p.ToolUseID, Tool: p.ToolName, Summary: CallSummary(p.ToolName, p.Input), Input: string(p.Input), ExitCode: -1, Past: true}
					cards[p.ToolUseID] = card
					items = append(items, Item{Kind: ItemTool, Card: card})
				case assistant.PartToolResult:
					if card := cards[p.ToolUseID]; card != nil {
						card.Output, card.IsError = preview(p.Text), p.IsError
					}
				}
			}
		}
	}
	endTurn()
	return items
}

// pastEnd is what a stored turn that did not finish says after its items.
func pastEnd(status string) string {
	switch status {
	case assistant.StatusInterrupted:
		return "Interrupted — the partial answer is kept."
	case assistant.StatusFailed:
		return "Failed."
	case assistant.StatusCanceled:
		return "Canceled."
	}
	return ""
}

// CallSummary is a one-line description of a tool call from its input, like
// the agent's ("bash: make test", "read_file: /workspace/group/notes.md").
func CallSummary(tool string, input json.RawMessage) string {
	var in map[string]any
	if json.Unmarshal(input, &in) != nil {
		return tool
	}
	for _, key := range []string{"command", "path", "pattern"} {
		if v, ok := in[key].(string); ok && v != "" {
			return tool + ": " + oneLine(v, 120)
		}
	}
	return tool
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// preview keeps what a tool card may show of an output.
func preview(s string) string {
	const max = 2 << 10
	if len(s) > max {
		return s[:max] + "\n…"
	}
	return s
}

// PreviewOf is the collapsed view of a card's output: its first
// PreviewLines lines, and whether more were left out.
func PreviewOf(output string) (string, bool) {
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	if len(lines) <= PreviewLines {
		return strings.Join(lines, "\n"), false
	}
	return strings.Join(lines[:PreviewLines], "\n"), true
}
