package agent

import (
	"time"

	"github.com/berth-app/berth/app/llm"
)

// EventKind says what an Event tells the faces.
type EventKind string

// The kinds of Event.
const (
	EventText           EventKind = "text"            // Text: the next piece of the model's reply
	EventToolStart      EventKind = "tool_start"      // Tool, CallID, Summary: the model called a tool (it may still wait for approval or fail its checks)
	EventToolEnd        EventKind = "tool_end"        // Tool, CallID, ExitCode (-1: nothing ran), Duration, Output (preview), IsError
	EventApproval       EventKind = "approval"        // Tool, CallID, Summary: waiting for the user to allow or deny
	EventApprovalAnswer EventKind = "approval_answer" // Tool, CallID, Approval: what the user answered
	EventAlwaysAllowed  EventKind = "always_allowed"  // Tool: the user allowed it for the rest of the turn and for the group
	EventUsage          EventKind = "usage"           // Usage: tokens of one model reply
	EventRetry          EventKind = "retry"           // Err, Attempt, Wait: the provider retries a failed request
	EventSandboxError   EventKind = "sandbox_error"   // Tool, CallID, Err: the sandbox could not run a call; it may need replacing
	EventCompacted      EventKind = "compacted"       // Text: how the history was shortened to fit the context
	EventToolProgress   EventKind = "tool_progress"   // Tool, CallID, Bytes: the model is still writing a tool call's arguments
	EventNotice         EventKind = "notice"          // Text: something the user should know (a reply cut at the output limit, a retry, a skipped message)
	EventToolOutput     EventKind = "tool_output"     // Tool, CallID, Text: the next piece of a running bash call's output (see below)
)

// EventToolOutput, exactly: while a bash call runs (after its
// EventToolStart, before its EventToolEnd), each event's Text is the next
// piece of what the command printed, stdout and stderr interleaved as they
// arrived, valid UTF-8 (a character split between pieces waits for the
// next one). Pieces are coalesced: an event at most LiveFlushEvery after
// the output, or as soon as LiveFlushBytes are pending. A call shows at
// most LiveMaxBytes this way; the piece that reaches it ends with a note
// saying so, and no more events follow for that call. Append the Texts in
// order to get the live output; the EventToolEnd's Output (and the model's
// result) are unchanged by them. Only bash streams; the other tools do not.

// PreviewBytes is how much of a tool's output an EventToolEnd carries.
const PreviewBytes = 2 << 10

// Event is something the faces may show while a turn runs. Events arrive on
// the goroutine that called RunTurn, in order.
type Event struct {
	Kind     EventKind
	Text     string
	Tool     string
	CallID   string
	Summary  string // a one-line description of the call, such as "bash: make test"
	ExitCode int
	Duration time.Duration
	Output   string // EventToolEnd: the start of what the model sees, at most PreviewBytes
	IsError  bool
	Approval Approval
	Usage    llm.Usage
	Err      error
	Attempt  int           // EventRetry: the attempt about to start (2 = first retry)
	Wait     time.Duration // EventRetry: the wait before it
	Bytes    int           // EventToolProgress: bytes of arguments written so far
}
