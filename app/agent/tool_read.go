package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"syscall"
)

// Read limits.
const (
	DefaultReadLimit = 2000 // lines read_file returns when the model does not say
	maxLineBytes     = 2000 // a longer line is cut, with a marker
)

var readSpec = toolSpec{
	description: "Read a text file, with line numbers like `cat -n`. path is a path in the sandbox, absolute or relative to " +
		"/workspace/group. Returns up to limit lines (default 2000) starting at line offset (1-based, default 1), and says " +
		"how many lines the file has and where to read on; very long lines are cut. Binary and empty files are reported " +
		"as such. Read a file before you edit it.",
	schema: `{"type":"object","properties":{` +
		`"path":{"type":"string","description":"The file to read, such as \"notes/todo.md\" or \"/workspace/extra/docs/README.md\"."},` +
		`"offset":{"type":"integer","minimum":1,"description":"The first line to show, counting from 1 (default 1)."},` +
		`"limit":{"type":"integer","minimum":1,"description":"How many lines to show (default 2000)."}},` +
		`"required":["path"]}`,
	parse: parseRead,
}

// readScript checks the file ($1), prints "berth-read SIZE NULS" (NUL bytes
// in its first 8000 bytes: binary), then for text lines $2.. ($3 of them,
// each cut at $4 bytes, stopping before $5 bytes of output) numbered like
// cat -n, then "berth-end LINES STOPPEDAT".
const readScript = noLinkScript + `f=$1
nolink "$f"
if [ -d "$f" ]; then echo "$f is a folder, not a file; use list_files to see what it holds" >&2; exit 2; fi
if [ ! -e "$f" ]; then echo "no such file: $f" >&2; exit 2; fi
if [ ! -r "$f" ]; then echo "permission denied: $f cannot be read" >&2; exit 2; fi
size=$(wc -c < "$f") || exit 2
nul=$(head -c 8000 < "$f" | tr -d -c '\000' | wc -c)
echo "berth-read $size $nul"
[ "$nul" -gt 0 ] && exit 0
exec awk -v s="$2" -v n="$3" -v w="$4" -v budget="$5" '
NR >= s && NR < s + n && !stop {
	line = $0
	if (length(line) > w) line = substr(line, 1, w) " [... line cut: " length($0) " bytes in all]"
	used += length(line) + 8
	if (used > budget && shown > 0) stop = NR
	else { printf "%6d\t%s\n", NR, line; shown++ }
}
END { printf "berth-end %d %d\n", NR, stop }' < "$f"
`

// readCall reads lines of a file.
type readCall struct {
	path          string
	offset, limit int
}

func parseRead(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Path   *string `json:"path"`
		Offset *int    `json:"offset"`
		Limit  *int    `json:"limit"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	if in.Path == nil || *in.Path == "" {
		return nil, missing(tool, "path")
	}
	p, err := containerPath(*in.Path)
	if err != nil {
		return nil, err
	}
	c := readCall{path: p, offset: 1, limit: DefaultReadLimit}
	if in.Offset != nil && *in.Offset > 1 {
		c.offset = *in.Offset
	}
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, fmt.Errorf("limit must be at least 1, not %d", *in.Limit)
		}
		c.limit = *in.Limit
	}
	return c, nil
}

func (c readCall) summary() string {
	if c.offset > 1 {
		return fmt.Sprintf("read_file: %s from line %d", c.path, c.offset)
	}
	return "read_file: " + c.path
}

func (c readCall) run(ctx context.Context, x *executor) outcome {
	budget := max(x.outputCap-200, 1024)
	fr, err := x.file(ctx, FileRequest{Path: c.path, Limit: maxDirectRead})
	switch {
	case err == nil:
		o := formatRead(c, readScriptOutput(fr.Data, c.offset, c.limit, maxLineBytes, budget))
		o.duration, o.bytes = fr.Duration, int64(len(fr.Data))
		return o
	case errors.Is(err, ErrNoFileOps), errors.Is(err, syscall.EFBIG):
		// No helper, or a file too large to read whole: the script streams it.
	default:
		return fileFailed(c.path, opRead, err, fr)
	}
	res, err := x.exec(ctx, ExecRequest{
		Argv: []string{"/bin/sh", "-c", readScript, "berth-read", c.path,
			strconv.Itoa(c.offset), strconv.Itoa(c.limit), strconv.Itoa(maxLineBytes), strconv.Itoa(budget)},
		OutputCap: budget + 2*maxLineBytes + 4096,
	})
	if err != nil {
		return sandboxFailed(err, res)
	}
	if symlinkRefused(res) {
		return ran(failed(symlinkMessage(c.path)), res)
	}
	if res.ExitCode != 0 || res.TimedOut {
		return scriptFailed(res)
	}
	return ran(formatRead(c, text(res.Stdout)), res)
}

// formatRead turns readScript's output into what the model reads.
func formatRead(c readCall, out string) outcome {
	head, body, _ := strings.Cut(out, "\n")
	var size, nuls int64
	if _, err := fmt.Sscanf(head, "berth-read %d %d", &size, &nuls); err != nil {
		return failed(fmt.Sprintf("could not read %s: unexpected output from the sandbox: %s", c.path, oneLine(out, 200)))
	}
	if nuls > 0 {
		return outcome{output: fmt.Sprintf("%s is a binary file (%d bytes); read_file shows text only. "+
			"Use bash to inspect it (for example `od -c %s | head`).", c.path, size, path.Base(c.path))}
	}
	if size == 0 {
		return outcome{output: fmt.Sprintf("%s is empty (0 bytes).", c.path)}
	}
	body = strings.TrimSuffix(body, "\n")
	i := strings.LastIndex(body, "berth-end ")
	var total, stopped int
	if i < 0 || (i > 0 && body[i-1] != '\n') {
		return failed(fmt.Sprintf("could not read %s: the sandbox's output was cut short", c.path))
	}
	if _, err := fmt.Sscanf(body[i:], "berth-end %d %d", &total, &stopped); err != nil {
		return failed(fmt.Sprintf("could not read %s: unexpected output from the sandbox", c.path))
	}
	lines := strings.TrimSuffix(body[:i], "\n")
	if c.offset > total {
		return failed(fmt.Sprintf("%s has %d lines; offset %d is past its end", c.path, total, c.offset))
	}
	last := min(c.offset+c.limit-1, total)
	var note string
	switch {
	case stopped > 0:
		last = stopped - 1
		note = fmt.Sprintf("[lines %d-%d of %d; stopped early to keep the output short — read on with offset=%d]", c.offset, last, total, stopped)
	case last < total:
		note = fmt.Sprintf("[lines %d-%d of %d — read on with offset=%d]", c.offset, last, total, last+1)
	case c.offset > 1:
		note = fmt.Sprintf("[lines %d-%d of %d; end of file]", c.offset, last, total)
	}
	if note != "" {
		lines += "\n" + note
	}
	return outcome{output: lines, truncated: note != "" && last < total}
}
