package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// ApprovalMode says which tool calls wait for a human click.
type ApprovalMode string

// The approval modes of a group.
const (
	ApprovalAuto      ApprovalMode = "auto"       // nothing waits; the sandbox is the boundary
	ApprovalAskWrites ApprovalMode = "ask-writes" // bash, write_file and edit_file wait
	ApprovalAskAll    ApprovalMode = "ask-all"    // every tool call waits
)

// writeTools are the tools that can change files, as ask-writes sees them.
var writeTools = []string{ToolBash, ToolWriteFile, ToolEditFile}

// Approval is the user's answer to an ApprovalRequest.
type Approval int

// The answers.
const (
	Deny        Approval = iota // do not run the call
	AllowOnce                   // run this call
	AllowAlways                 // run this call and every call of this tool, for the group
)

func (a Approval) String() string {
	switch a {
	case AllowOnce:
		return "allow once"
	case AllowAlways:
		return "allow always"
	}
	return "deny"
}

// ApprovalRequest is a tool call waiting for the user.
type ApprovalRequest struct {
	Tool    string
	CallID  string
	Input   json.RawMessage
	Summary string // a one-line description, such as "bash: rm -rf build"
}

// Approver asks the user about a tool call and waits for the answer. An
// error ends the turn (a canceled ctx ends it as interrupted).
type Approver func(ctx context.Context, req ApprovalRequest) (Approval, error)

// deniedMessage is what the model hears about a call the user denied.
const deniedMessage = "the user denied this call; it was not run. Do not retry it as is: ask the user what they want instead"

// valid reports whether m is a known mode; empty counts as auto.
func (m ApprovalMode) valid() bool {
	switch m {
	case "", ApprovalAuto, ApprovalAskWrites, ApprovalAskAll:
		return true
	}
	return false
}

// needsApproval reports whether a call of tool waits for the user under mode,
// given the tools the group always allows.
func needsApproval(mode ApprovalMode, tool string, always []string) bool {
	if slices.Contains(always, tool) {
		return false
	}
	switch mode {
	case ApprovalAskAll:
		return true
	case ApprovalAskWrites:
		return slices.Contains(writeTools, tool)
	}
	return false
}

// checkMode returns an error for a mode RunTurn does not know.
func checkMode(m ApprovalMode) error {
	if !m.valid() {
		return fmt.Errorf("approval mode %q: want %s, %s or %s", m, ApprovalAuto, ApprovalAskWrites, ApprovalAskAll)
	}
	return nil
}
