package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxListEntries is the most entries list_files returns.
const MaxListEntries = 1000

var listSpec = toolSpec{
	description: "List the files and folders under path (default /workspace/group), recursively and sorted; folders end " +
		"with /. pattern is a glob on names, such as \"*.md\", or on paths below path when it holds a /, such as " +
		"\"src/*.go\". .git folders are listed but not entered. At most 1000 entries; narrow with path or pattern.",
	schema: `{"type":"object","properties":{` +
		`"path":{"type":"string","description":"The folder to list, absolute or relative to /workspace/group (default /workspace/group)."},` +
		`"pattern":{"type":"string","description":"Only list entries whose name matches this glob, such as \"*.csv\"."}}}`,
	parse: parseList,
}

// listScript lists $1 recursively: folders with a trailing /, .git (and the
// container's /proc and /sys) shown but not entered, entries matching "$3 $2" (-name GLOB or -path GLOB), sorted,
// at most $4 of them within $5 bytes, then "berth-total ALL SHOWN".
const listScript = `root=$1
if [ ! -e "$root" ]; then echo "no such file or folder: $root" >&2; exit 2; fi
if [ ! -d "$root" ]; then echo "$root"; echo "berth-total 1 1"; exit 0; fi
{
	find "$root" -mindepth 1 \( \( -name .git -o -path /proc -o -path /sys \) -type d -prune "$3" "$2" -print \) -o \( -type d "$3" "$2" -print \) | sed 's|$|/|'
	find "$root" -mindepth 1 \( -name .git -o -path /proc -o -path /sys \) -type d -prune -o ! -type d "$3" "$2" -print
} | LC_ALL=C sort | awk -v cap="$4" -v budget="$5" '
!full && NR <= cap && used + length($0) + 1 <= budget { print; used += length($0) + 1; shown++; next }
{ full = 1 }
END { printf "berth-total %d %d\n", NR, shown }'
`

// listCall lists a folder.
type listCall struct {
	path    string
	pattern string
}

func parseList(tool string, input json.RawMessage) (call, error) {
	var in struct {
		Path    *string `json:"path"`
		Pattern *string `json:"pattern"`
	}
	if err := decode(tool, input, &in); err != nil {
		return nil, err
	}
	p, err := optionalPath(in.Path)
	if err != nil {
		return nil, err
	}
	c := listCall{path: p}
	if in.Pattern != nil {
		c.pattern = *in.Pattern
	}
	return c, nil
}

func (c listCall) summary() string {
	if c.pattern != "" {
		return fmt.Sprintf("list_files: %s (%s)", c.path, oneLine(c.pattern, 60))
	}
	return "list_files: " + c.path
}

// findTest returns the find test and glob for the call's pattern.
func (c listCall) findTest() (string, string) {
	switch {
	case c.pattern == "":
		return "-name", "*"
	case strings.HasPrefix(c.pattern, "/"):
		return "-path", c.pattern
	case strings.Contains(c.pattern, "/"):
		return "-path", strings.TrimSuffix(c.path, "/") + "/" + strings.TrimPrefix(c.pattern, "./")
	}
	return "-name", c.pattern
}

func (c listCall) run(ctx context.Context, x *executor) outcome {
	test, glob := c.findTest()
	budget := max(x.outputCap-300, 1024)
	res, err := x.exec(ctx, ExecRequest{
		Argv: []string{"/bin/sh", "-c", listScript, "berth-list", c.path, glob, test,
			strconv.Itoa(MaxListEntries), strconv.Itoa(budget)},
		OutputCap: budget + 4096,
	})
	if err != nil {
		return sandboxFailed(err, res)
	}
	if res.ExitCode != 0 || res.TimedOut {
		return scriptFailed(res)
	}
	o := formatList(c, text(res.Stdout))
	o.output += stderrNote(res, "some entries could not be read")
	return ran(o, res)
}

// formatList turns listScript's output into what the model reads: paths
// relative to the listed folder, and how many there were.
func formatList(c listCall, out string) outcome {
	out = strings.TrimSuffix(out, "\n")
	body, trailer := "", out
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		body, trailer = out[:i], out[i+1:]
	}
	var total, shown int
	if _, err := fmt.Sscanf(trailer, "berth-total %d %d", &total, &shown); err != nil {
		return failed(fmt.Sprintf("could not list %s: unexpected output from the sandbox", c.path))
	}
	if total == 0 {
		if c.pattern != "" {
			return outcome{output: fmt.Sprintf("Nothing under %s matches %q.", c.path, c.pattern)}
		}
		return outcome{output: fmt.Sprintf("%s is an empty folder.", c.path)}
	}
	prefix := strings.TrimSuffix(c.path, "/") + "/"
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", c.path)
	for _, line := range strings.Split(body, "\n") {
		if rel, ok := strings.CutPrefix(line, prefix); ok && rel != "" {
			line = rel
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	o := outcome{}
	if shown < total {
		fmt.Fprintf(&b, "[showing the first %d of %d entries in sorted order; narrow the listing with path or pattern]", shown, total)
		o.truncated = true
	} else {
		fmt.Fprintf(&b, "[%d entries]", total)
	}
	o.output = b.String()
	return o
}
