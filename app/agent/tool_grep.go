package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// maxMatchBytes is how much of one matching line grep shows.
const maxMatchBytes = 500

var grepSpec = toolSpec{
	description: "Search the contents of files for a regular expression (extended syntax, like grep -E), recursively " +
		"under path (default /workspace/group). glob limits which files are searched, such as \"*.py\". Prints " +
		"file:line:text for each matching line, or \"No matches\". .git folders are skipped; with ripgrep in the " +
		"image, hidden and .gitignored files are skipped too.",
	schema: `{"type":"object","properties":{` +
		`"pattern":{"type":"string","description":"The regular expression to search for, such as \"func [A-Z]\\\\w*\" or \"TODO|FIXME\"."},` +
		`"path":{"type":"string","description":"The folder or file to search (default /workspace/group)."},` +
		`"glob":{"type":"string","description":"Only search files whose name matches this glob, such as \"*.md\"."}},` +
		`"required":["pattern"]}`,
	parse: parseGrep,
}

// grepScript searches $2 for the pattern $1 in files matching the glob $3
// (empty: all files): ripgrep when the image has it, else find and grep -E.
// Exit 1 with no output means no matches.
const grepScript = `pat=$1 root=$2 glob=$3
if [ ! -e "$root" ]; then echo "no such file or folder: $root" >&2; exit 2; fi
if command -v rg >/dev/null 2>&1; then
	if [ -n "$glob" ]; then exec rg --line-number --with-filename --no-heading --color never -g "$glob" -e "$pat" -- "$root"; fi
	exec rg --line-number --with-filename --no-heading --color never -e "$pat" -- "$root"
fi
msg=$(echo x | grep -E -e "$pat" 2>&1 >/dev/null)
if [ $? -gt 1 ]; then echo "invalid regular expression: $msg" >&2; exit 2; fi
[ -n "$glob" ] || glob='*'
find "$root" \( -name .git -o -path /proc -o -path /sys \) -type d -prune -o -type f -name "$glob" -exec grep -nHE -e "$pat" {} +
`

// grepCall searches file contents.
type grepCall struct {
	pattern string
	path    string
	glob    string
}

func parseGrep(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Pattern *string `json:"pattern"`
		Path    *string `json:"path"`
		Glob    *string `json:"glob"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	if in.Pattern == nil || *in.Pattern == "" {
		return nil, missing(tool, "pattern")
	}
	p, err := optionalPath(in.Path)
	if err != nil {
		return nil, err
	}
	c := grepCall{pattern: *in.Pattern, path: p}
	if in.Glob != nil {
		c.glob = *in.Glob
	}
	if strings.IndexByte(c.pattern+c.glob, 0) >= 0 {
		return nil, fmt.Errorf("the pattern contains a NUL byte")
	}
	return c, nil
}

func (c grepCall) summary() string {
	s := fmt.Sprintf("grep: %s in %s", oneLine(c.pattern, 80), c.path)
	if c.glob != "" {
		s += " (" + oneLine(c.glob, 40) + ")"
	}
	return s
}

func (c grepCall) run(ctx context.Context, x *executor) outcome {
	res, err := x.exec(ctx, ExecRequest{
		Argv:      []string{"/bin/sh", "-c", grepScript, "berth-grep", c.pattern, c.path, c.glob},
		OutputCap: 2 * x.outputCap,
	})
	if err != nil {
		return sandboxFailed(err, res)
	}
	if res.TimedOut {
		return scriptFailed(res)
	}
	matches := strings.TrimRight(text(res.Stdout), "\n")
	switch {
	case matches == "" && (res.ExitCode == 0 || res.ExitCode == 1) && len(strings.TrimSpace(string(res.Stderr))) == 0:
		return ran(outcome{output: "No matches"}, res)
	case matches == "":
		if res.ExitCode == 0 || res.ExitCode == 1 {
			return ran(outcome{output: "No matches" + stderrNote(res, "some files could not be searched")}, res)
		}
		return scriptFailed(res)
	}
	o := formatMatches(matches, res, max(x.outputCap-500, 1024))
	o.output += stderrNote(res, "some files could not be searched")
	return ran(o, res)
}

// formatMatches keeps whole matching lines, each cut at maxMatchBytes, up to
// budget bytes, and says how many more there were.
func formatMatches(matches string, res ExecResult, budget int) outcome {
	lines := strings.Split(matches, "\n")
	var b strings.Builder
	shown := 0
	for _, line := range lines {
		if len(line) > maxMatchBytes {
			line = string(cutUTF8([]byte(line), maxMatchBytes)) + fmt.Sprintf(" [... line cut: %d bytes in all]", len(line))
		}
		if b.Len()+len(line)+1 > budget && shown > 0 {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
		shown++
	}
	o := outcome{}
	switch {
	case res.Truncated:
		fmt.Fprintf(&b, "[showing the first %d matching lines of %d bytes of matches; narrow the pattern, path or glob]", shown, res.StdoutTotal)
		o.truncated = true
	case shown < len(lines):
		fmt.Fprintf(&b, "[showing %d of %d matching lines; narrow the pattern, path or glob]", shown, len(lines))
		o.truncated = true
	}
	o.output = strings.TrimSuffix(b.String(), "\n")
	return o
}
