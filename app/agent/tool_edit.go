package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// maxEditBytes is the largest file edit_file reads into memory.
const maxEditBytes = 8 << 20

var editSpec = toolSpec{
	description: "Replace old_string with new_string in a file. old_string must match the file's text exactly, " +
		"whitespace and indentation included, and — unless replace_all is true — exactly once: include enough " +
		"surrounding lines to make it unique. Read the file first. path is absolute or relative to /workspace/group.",
	schema: `{"type":"object","properties":{` +
		`"path":{"type":"string","description":"The file to change."},` +
		`"old_string":{"type":"string","description":"The exact text to replace."},` +
		`"new_string":{"type":"string","description":"The text to put in its place (may be empty to delete)."},` +
		`"replace_all":{"type":"boolean","description":"Replace every match instead of exactly one (default false)."}},` +
		`"required":["path","old_string","new_string"]}`,
	parse: parseEdit,
}

// editCall replaces text in a file.
type editCall struct {
	path       string
	old, new   string
	replaceAll bool
}

func parseEdit(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Path       *string `json:"path"`
		OldString  *string `json:"old_string"`
		NewString  *string `json:"new_string"`
		ReplaceAll bool    `json:"replace_all"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Path == nil || *in.Path == "":
		return nil, missing(tool, "path")
	case in.OldString == nil:
		return nil, missing(tool, "old_string")
	case in.NewString == nil:
		return nil, missing(tool, "new_string")
	case *in.OldString == "":
		return nil, errors.New("old_string is empty; to create or overwrite a whole file use write_file")
	case *in.OldString == *in.NewString:
		return nil, errors.New("old_string and new_string are the same; there is nothing to change")
	}
	p, err := containerPath(*in.Path)
	if err != nil {
		return nil, err
	}
	return editCall{path: p, old: *in.OldString, new: *in.NewString, replaceAll: in.ReplaceAll}, nil
}

func (c editCall) summary() string {
	s := "edit_file: " + c.path
	if c.replaceAll {
		s += " (all matches)"
	}
	return s
}

func (c editCall) run(ctx context.Context, x *executor) outcome {
	data, res, o, ok := c.read(ctx, x)
	if !ok {
		return o
	}
	content := string(data)
	updated, n, first, err := applyEdit(content, c.old, c.new, c.replaceAll)
	if err != nil {
		return ran(failed(fmt.Sprintf("%s: %v", c.path, err)), res)
	}
	o, info := writeFile(ctx, x, c.path, []byte(updated))
	if info == nil {
		return o
	}
	o.duration += res.Duration
	o.output = fmt.Sprintf("Edited %s: replaced %d match%s; the file is now %d bytes (sha256 %s).\n%s",
		c.path, n, pluralES(n), info.size, info.sha256, snippet(updated, first, len(c.new)))
	return o
}

// editScript prints the file ($1), refusing a path with a symlink on it.
const editScript = noLinkScript + `nolink "$1"; exec cat "$1"`

// read reads the file to edit, through Sandbox.File or, without it, a
// script. ok is false when it could not, and o says why; res is how the
// read ran (its duration counts in the edit's).
func (c editCall) read(ctx context.Context, x *executor) (data []byte, res ExecResult, o outcome, ok bool) {
	fr, err := x.file(ctx, FileRequest{Path: c.path, Limit: maxEditBytes})
	switch {
	case errors.Is(err, syscall.EFBIG):
		return nil, res, outcome{output: fmt.Sprintf("%s is more than %d bytes, too large for edit_file; use bash (sed, python3) instead",
			c.path, maxEditBytes), isError: true, exitCode: fileExitCode, duration: fr.Duration}, false
	case err == nil:
		data, res = fr.Data, ExecResult{Duration: fr.Duration, StdoutTotal: int64(len(fr.Data))}
	case !errors.Is(err, ErrNoFileOps):
		return nil, res, fileFailed(c.path, opEdit, err, fr), false
	default:
		res, err = x.exec(ctx, ExecRequest{Argv: []string{"/bin/sh", "-c", editScript, "berth-edit", c.path}, OutputCap: maxEditBytes})
		switch {
		case err != nil:
			return nil, res, sandboxFailed(err, res), false
		case symlinkRefused(res):
			return nil, res, ran(failed(symlinkMessage(c.path)), res), false
		case res.ExitCode != 0 || res.TimedOut:
			return nil, res, scriptFailed(res), false
		case res.Truncated || res.StdoutTotal > maxEditBytes:
			return nil, res, ran(failed(fmt.Sprintf("%s is %d bytes, too large for edit_file (at most %d); use bash (sed, python3) instead",
				c.path, res.StdoutTotal, maxEditBytes)), res), false
		}
		data = res.Stdout
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, res, ran(failed(fmt.Sprintf("%s is a binary file; edit_file changes text only", c.path)), res), false
	}
	return data, res, outcome{}, true
}

// pluralES returns "es" unless n is 1.
func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// applyEdit replaces old with new in content: exactly one match, or every
// match when all is set. It returns the new content, how many matches were
// replaced and where the first replacement starts.
func applyEdit(content, old, new string, all bool) (string, int, int, error) {
	if old == "" {
		return "", 0, 0, errors.New("old_string is empty; to create or overwrite a whole file use write_file")
	}
	if old == new {
		return "", 0, 0, errors.New("old_string and new_string are the same; there is nothing to change")
	}
	n := strings.Count(content, old)
	switch {
	case n == 0:
		hint := "read the file again (read_file) and copy the text exactly, whitespace and indentation included"
		if strings.Contains(content, "\r\n") && !strings.Contains(old, "\r\n") && strings.Contains(old, "\n") &&
			strings.Contains(content, strings.ReplaceAll(old, "\n", "\r\n")) {
			hint = "the file has Windows line endings (\\r\\n); include them in old_string and new_string"
		}
		return "", 0, 0, fmt.Errorf("old_string was not found; %s", hint)
	case n > 1 && !all:
		return "", 0, 0, fmt.Errorf("old_string matches %d places; include more surrounding lines so that it matches exactly one, or set replace_all to true to change all %d", n, n)
	}
	first := strings.Index(content, old)
	if !all {
		return content[:first] + new + content[first+len(old):], 1, first, nil
	}
	return strings.ReplaceAll(content, old, new), n, first, nil
}

// snippet shows the lines around the text at [start, start+n) of content,
// numbered like read_file, so that the model sees the change in place.
func snippet(content string, start, n int) string {
	const around = 3
	lineNo := strings.Count(content[:start], "\n") + 1
	lines := strings.Split(content, "\n")
	endLine := lineNo + strings.Count(content[start:start+n], "\n")
	from, to := max(1, lineNo-around), min(len(lines), endLine+around)
	if to-from > 40 {
		to = from + 40
	}
	var b strings.Builder
	for i := from; i <= to; i++ {
		line := lines[i-1]
		if len(line) > 300 {
			line = string(cutUTF8([]byte(line), 300)) + " […]"
		}
		fmt.Fprintf(&b, "%6d\t%s\n", i, line)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
