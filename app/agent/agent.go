// Package agent runs one turn of the conversation: it sends the history to
// the model, runs the tools the model calls inside the session's sandbox, hands
// the results back, and repeats until the model answers in text.
//
// Every tool call crosses one boundary the host controls: its input is
// checked, it waits for the user when the group's approval mode says so, it is
// written to the audit log before it runs and after, it is time-limited and
// its output is capped. Tools never run on the host: all six (bash,
// read_file, write_file, edit_file, list_files, grep) run through
// Sandbox.Exec, with anything the model wrote passed as arguments or stdin,
// never spliced into shell text.
//
// A tool that fails — a non-zero exit, a missing file, a denied call, input
// the model got wrong — is reported to the model as an error result, and the
// turn goes on. Only a provider error, a failed audit write or a failed
// approval prompt ends a turn early; a canceled context, or a sandbox that
// says no tool can run now (ErrBlocked), ends it as interrupted.
package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/llm"
)

// Defaults for the zero Config.
const (
	DefaultMaxToolCalls   = 40
	DefaultCallTimeout    = 120 * time.Second
	DefaultMaxCallTimeout = 600 * time.Second
	DefaultOutputCap      = 30 << 10 // bytes of one tool's output the model sees
	DefaultContextTokens  = 150_000
)

// Config is how a turn runs: the model, the group's tools and approval mode,
// the limits, and the hooks to the rest of Berth.
type Config struct {
	Provider llm.Provider
	Model    string // empty: the provider's configured model

	Tools         []string     // enabled tools; empty: all of ToolNames
	ApprovalMode  ApprovalMode // empty: ApprovalAuto
	AlwaysAllowed []string     // tools the group allowed "always": never asked about
	Approve       Approver     // nil: calls that need approval are denied
	// HostTools act on Berth itself (scheduled tasks), after the sandbox tools.
	HostTools []HostTool

	// Record writes to the audit log; its error stops the turn before the
	// next step runs. nil records nothing (the assistant always sets it).
	Record Recorder
	// OnEvent sees what happens as it happens, for the faces; nil: nothing.
	OnEvent func(Event)

	MaxToolCalls   int           // per turn; 0: DefaultMaxToolCalls
	CallTimeout    time.Duration // per tool call; 0: DefaultCallTimeout
	MaxCallTimeout time.Duration // the most bash's timeout_s may ask for; 0: DefaultMaxCallTimeout
	OutputCap      int           // bytes of one call's output the model sees; 0: DefaultOutputCap
	ContextTokens  int           // the model's context budget; 0: DefaultContextTokens
	MaxTokens      int           // the most tokens one reply may have; 0: the provider's default

	Now func() time.Time // nil: time.Now
}

// withDefaults returns cfg with its zero values filled in.
func (cfg Config) withDefaults() Config {
	if cfg.ApprovalMode == "" {
		cfg.ApprovalMode = ApprovalAuto
	}
	if cfg.MaxToolCalls <= 0 {
		cfg.MaxToolCalls = DefaultMaxToolCalls
	}
	if cfg.MaxCallTimeout <= 0 {
		cfg.MaxCallTimeout = DefaultMaxCallTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	cfg.CallTimeout = min(cfg.CallTimeout, cfg.MaxCallTimeout)
	if cfg.OutputCap <= 0 {
		cfg.OutputCap = DefaultOutputCap
	}
	cfg.OutputCap = max(cfg.OutputCap, 2048)
	if cfg.ContextTokens <= 0 {
		cfg.ContextTokens = DefaultContextTokens
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Why a turn stopped, beyond the model's own stop reasons (llm.StopEndTurn,
// llm.StopMaxTokens, llm.StopRefusal).
const (
	StopToolLimit   = "tool_limit"  // MaxToolCalls was reached
	StopInterrupted = "interrupted" // ctx was canceled
	StopError       = "error"       // RunTurn returned an error
)

// Result is what a turn did.
type Result struct {
	// Messages are the assistant and tool-result messages the turn added, in
	// order, for the caller to persist after the user's message. Tool calls
	// that never ran (interrupted, over the limit) have error results, so the
	// history stays valid for the next turn.
	Messages []llm.Message
	// Text is the text of the model's last reply: its answer, or what had
	// arrived when the turn was interrupted.
	Text       string
	Usage      llm.Usage // all model requests of the turn, summaries included
	ToolCalls  int       // tool calls the model made
	StopReason string    // the model's stop reason, or one of the Stop constants
	// Interrupted is set when ctx was canceled: the stream stopped, a running
	// command was killed, and Messages keep what had arrived.
	Interrupted bool
	// AlwaysAllowed lists the tools the user allowed "always" during this
	// turn, for the caller to add to the group's settings.
	AlwaysAllowed []string
	// SandboxErrors counts calls the sandbox could not run.
	SandboxErrors int

	// Compacted is set when the history was shortened to fit ContextTokens:
	// old tool outputs trimmed (TrimmedResults of them) and, if that was not
	// enough, old turns summarised (SummarisedMessages of them). Context is
	// then the whole conversation as the model should see it from now on, in
	// place of history + Messages; Berth keeps the full history itself.
	Compacted          bool
	TrimmedResults     int
	SummarisedMessages int
	Context            []llm.Message
}

// RunTurn runs one turn: history ends with the user's new message, system is
// the system prompt (see SystemPrompt). It returns when the model answers
// without calling tools, when MaxToolCalls is reached, or when ctx is
// canceled (Interrupted, no error). A provider error (llm.ErrAuth and the
// others), a failed audit write or a failed approval prompt is returned with
// the partial Result; so is a sandbox's ErrBlocked, the Result Interrupted.
func RunTurn(ctx context.Context, cfg Config, sb Sandbox, system string, history []llm.Message) (Result, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.Provider == nil:
		return Result{StopReason: StopError}, errors.New("run turn: no model provider")
	case sb == nil:
		return Result{StopReason: StopError}, errors.New("run turn: no sandbox")
	case len(history) == 0:
		return Result{StopReason: StopError}, errors.New("run turn: no message to answer")
	}
	if err := checkMode(cfg.ApprovalMode); err != nil {
		return Result{StopReason: StopError}, fmt.Errorf("run turn: %w", err)
	}
	t := newTurn(cfg, sb, system, history)
	err := t.run(ctx)
	return t.result(), err
}
