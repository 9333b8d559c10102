package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-app/berth/app/llm"
)

// ToolNames are the agent's tools, in the order the model sees them. Their
// names and inputs are a contract.
var ToolNames = []string{ToolBash, ToolReadFile, ToolWriteFile, ToolEditFile, ToolListFiles, ToolGrep}

// The tools' names.
const (
	ToolBash      = "bash"
	ToolReadFile  = "read_file"
	ToolWriteFile = "write_file"
	ToolEditFile  = "edit_file"
	ToolListFiles = "list_files"
	ToolGrep      = "grep"
)

// toolSpec describes one tool: what the model is told and how its input is read.
type toolSpec struct {
	description string
	schema      string
	parse       func(tool string, input json.RawMessage) (call, error)
}

// call is a tool call whose input was read and checked, ready to run.
type call interface {
	// summary describes the call in one line for people: "bash: make test".
	summary() string
	// run runs the call in the sandbox.
	run(ctx context.Context, x *executor) outcome
}

// outcome is how a tool call ended.
type outcome struct {
	output    string // what the model sees, before the output cap
	isError   bool
	exitCode  int
	duration  time.Duration
	bytes     int64 // bytes the command produced
	truncated bool  // output was cut, in the sandbox or here
	timedOut  bool
	file      *fileInfo // write_file and edit_file: what was written
	execErr   error     // the sandbox could not run the call
	stopped   string    // why the turn stopped while the call ran (see stopCause)
}

// fileInfo describes a file a tool wrote.
type fileInfo struct {
	path   string
	size   int
	sha256 string
}

// failed returns the outcome of a call that went wrong before or outside the
// sandbox, with msg for the model.
func failed(msg string) outcome {
	return outcome{output: msg, isError: true, exitCode: -1}
}

var tools = map[string]toolSpec{
	ToolBash:      bashSpec,
	ToolReadFile:  readSpec,
	ToolWriteFile: writeSpec,
	ToolEditFile:  editSpec,
	ToolListFiles: listSpec,
	ToolGrep:      grepSpec,
}

// Tools returns the definitions of the enabled tools for the model, in the
// order of ToolNames. Empty enabled means all; unknown names are ignored.
func Tools(enabled []string) []llm.Tool {
	var out []llm.Tool
	for _, name := range ToolNames {
		if len(enabled) > 0 && !slices.Contains(enabled, name) {
			continue
		}
		spec := tools[name]
		out = append(out, llm.Tool{Name: name, Description: spec.description, Schema: json.RawMessage(spec.schema)})
	}
	return out
}

// badInput is the error the model gets for a call whose input is not a JSON
// object: it quotes the input and says how to do better.
func badInput(name string, input json.RawMessage, inputErr error) error {
	if errors.Is(inputErr, errCutOff) {
		return fmt.Errorf("your reply was cut at the output limit while you wrote the input for %s, so it is incomplete (%s); "+
			"call it again with shorter input — write a long file in parts (write_file, then bash with >> or edit_file)",
			name, oneLine(string(input), 200))
	}
	return fmt.Errorf("the input for %s is not a JSON object (%s); call it again with valid JSON arguments",
		name, oneLine(string(input), 200))
}

// parseCall checks that the model may call name with input and reads the
// input. Its errors are for the model.
func parseCall(name string, input json.RawMessage, inputErr error, enabled []string) (call, error) {
	spec, ok := tools[name]
	if !ok {
		return nil, fmt.Errorf("unknown tool %q; the tools are %s", name, strings.Join(enabledNames(enabled), ", "))
	}
	if len(enabled) > 0 && !slices.Contains(enabled, name) {
		return nil, fmt.Errorf("tool %q is not enabled in this group; the enabled tools are %s",
			name, strings.Join(enabledNames(enabled), ", "))
	}
	if inputErr != nil {
		return nil, badInput(name, input, inputErr)
	}
	return spec.parse(name, input)
}

// enabledNames lists the enabled tools in order.
func enabledNames(enabled []string) []string {
	var names []string
	for _, t := range Tools(enabled) {
		names = append(names, t.Name)
	}
	return names
}

// decode reads a tool's input into dst, with errors the model can act on.
func decode(tool string, input json.RawMessage, dst any) error {
	if len(input) == 0 {
		input = json.RawMessage(`{}`)
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return fmt.Errorf("invalid input for %s: %q must be %s, not %s", tool, typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Errorf("invalid input for %s: %v", tool, err)
	}
	return nil
}

// jsonKind names a Go kind the way a JSON Schema does.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	}
	return kind
}

// missing is the error for a required field the model left out.
func missing(tool, field string) error {
	return fmt.Errorf("%s needs %q; call it again with %q set", tool, field, field)
}
