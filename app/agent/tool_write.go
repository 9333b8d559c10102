package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

var writeSpec = toolSpec{
	description: "Create a file, or overwrite it, with content; missing parent folders are created. path is a path in the " +
		"sandbox, absolute or relative to /workspace/group. Use edit_file for a small change to an existing file. " +
		"Mounts under /workspace/extra are read-only unless the user allowed writing.",
	schema: `{"type":"object","properties":{` +
		`"path":{"type":"string","description":"The file to write, such as \"notes/todo.md\"."},` +
		`"content":{"type":"string","description":"The whole new content of the file."}},` +
		`"required":["path","content"]}`,
	parse: parseWrite,
}

// writeScript makes the parent folder ($2) and writes stdin to the file ($1),
// then prints the file's size; it refuses a path with a symlink on it.
const writeScript = noLinkScript + `nolink "$1"; mkdir -p "$2" && cat > "$1" && wc -c < "$1"`

// writeCall writes a whole file.
type writeCall struct {
	path    string
	content string
}

func parseWrite(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Path    *string `json:"path"`
		Content *string `json:"content"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	if in.Path == nil || *in.Path == "" {
		return nil, missing(tool, "path")
	}
	if in.Content == nil {
		return nil, missing(tool, "content")
	}
	p, err := containerPath(*in.Path)
	if err != nil {
		return nil, err
	}
	if p == "/" {
		return nil, fmt.Errorf("%s is a folder, not a file", p)
	}
	return writeCall{path: p, content: *in.Content}, nil
}

func (c writeCall) summary() string {
	return fmt.Sprintf("write_file: %s (%d bytes)", c.path, len(c.content))
}

func (c writeCall) run(ctx context.Context, x *executor) outcome {
	o, info := writeFile(ctx, x, c.path, []byte(c.content))
	if info != nil {
		o.output = fmt.Sprintf("Wrote %d bytes to %s (sha256 %s).", info.size, info.path, info.sha256)
	}
	return o
}

// writeFile writes content to file p in the sandbox, making its folder. It
// returns what was written, or nil and the failed outcome.
func writeFile(ctx context.Context, x *executor, p string, content []byte) (outcome, *fileInfo) {
	if content == nil {
		content = []byte{}
	}
	info := &fileInfo{path: p, size: len(content), sha256: sha256Hex(content)}
	fr, err := x.file(ctx, FileRequest{Path: p, Write: true, Data: content})
	switch {
	case err == nil:
		return outcome{file: info, duration: fr.Duration}, info
	case !errors.Is(err, ErrNoFileOps):
		return fileFailed(p, opWrite, err, fr), nil
	}
	res, err := x.exec(ctx, ExecRequest{
		Argv:  []string{"/bin/sh", "-c", writeScript, "berth-write", p, path.Dir(p)},
		Stdin: content,
	})
	if err != nil {
		return sandboxFailed(err, res), nil
	}
	if symlinkRefused(res) {
		return ran(failed(symlinkMessage(p)), res), nil
	}
	if res.ExitCode != 0 || res.TimedOut {
		return scriptFailed(res), nil
	}
	if n, err := strconv.Atoi(strings.TrimSpace(text(res.Stdout))); err != nil || n != len(content) {
		o := scriptFailed(res)
		o.output = fmt.Sprintf("writing %s went wrong: %d bytes were sent but the file holds %s", p, len(content), strings.TrimSpace(text(res.Stdout)))
		return o, nil
	}
	return ran(outcome{file: info}, res), info
}
