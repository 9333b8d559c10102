package agent

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-app/berth/docker/dockertest"
)

// hostSandbox runs the tools' commands on this machine, in a temp folder
// standing in for /workspace/group, to check the scripts against dash, mawk
// and GNU find and grep — the tools of Debian, the default sandbox image. It
// exists only in tests: Berth itself never runs a tool on the host.
type hostSandbox struct{ root string }

func (h hostSandbox) Exec(ctx context.Context, req ExecRequest) (ExecResult, error) {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, req.Argv[0], req.Argv[1:]...)
	cmd.Dir = h.root
	if req.WorkDir != "" && req.WorkDir != GroupDir {
		cmd.Dir = req.WorkDir
	}
	if req.Stdin != nil {
		cmd.Stdin = bytes.NewReader(req.Stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	res := ExecResult{Stdout: out.Bytes(), Stderr: errOut.Bytes(), StdoutTotal: int64(out.Len()), StderrTotal: int64(errOut.Len()), Duration: time.Since(start)}
	if limit := req.OutputCap; limit > 0 && out.Len() > limit {
		res.Stdout = append(append(bytes.Clone(res.Stdout[:limit/2]), "\n[cut]\n"...), res.Stdout[out.Len()-limit/2:]...)
		res.Truncated = true
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.TimedOut, res.ExitCode = true, 137
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		return res, err
	}
	return res, nil
}

// File: the host stands in for a sandbox without a helper.
func (hostSandbox) File(context.Context, FileRequest) (FileResult, error) {
	return FileResult{}, ErrNoFileOps
}

// writeFixture fills dir with the files checkScripts expects.
func writeFixture(t *testing.T, dir string) {
	t.Helper()
	var long strings.Builder
	for i := 1; i <= 3000; i++ {
		if i == 5 {
			long.WriteString(strings.Repeat("w", 5000) + "\n")
			continue
		}
		long.WriteString("line " + itoa(i) + "\n")
	}
	files := map[string]string{
		"notes/todo.md":    "- buy milk\n- call Bob\n",
		"notes/flags.txt":  "use -v to invert\n",
		"long.txt":         long.String(),
		"bin.dat":          "PNG\x00\x01\x02",
		"empty.txt":        "",
		".hidden":          "secret-ish\n",
		".git/HEAD":        "ref: refs/heads/main\n",
		".git/objects/ab":  "x",
		"src/main.go":      "package main\n",
		"src/util/util.go": "package util\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	// The sandbox may run as another user: let it write everywhere.
	if err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode().Perm()|0o666|func() os.FileMode {
			if info.IsDir() {
				return 0o111
			}
			return 0
		}())
	}); err != nil {
		t.Fatal(err)
	}
}

// checkScripts runs every tool against the fixture at root (a path as the
// sandbox sees it) through sb, in order: later checks see earlier writes.
func checkScripts(t *testing.T, sb Sandbox, root string) {
	x := &executor{sb: sb, callTimeout: 30 * time.Second, maxTimeout: time.Minute, outputCap: DefaultOutputCap}
	r := strings.NewReplacer("{root}", root)
	tests := []struct {
		name    string
		tool    string
		input   string
		want    []string
		wantNot []string
		wantErr bool
	}{
		{"read a file", "read_file", `{"path":"{root}/notes/todo.md"}`, []string{"     1\t- buy milk\n     2\t- call Bob"}, []string{"[lines"}, false},
		{"read a slice", "read_file", `{"path":"{root}/long.txt","offset":2,"limit":2}`, []string{"     2\tline 2\n     3\tline 3\n[lines 2-3 of 3000 — read on with offset=4]"}, nil, false},
		{"long line cut", "read_file", `{"path":"{root}/long.txt","offset":5,"limit":1}`, []string{"     5\twwww", "[... line cut: 5000 bytes in all]"}, nil, false},
		{"stop before the cap", "read_file", `{"path":"{root}/long.txt"}`, []string{"     1\tline 1", "stopped early to keep the output short — read on with offset="}, nil, false},
		{"binary", "read_file", `{"path":"{root}/bin.dat"}`, []string{"is a binary file (6 bytes)"}, nil, false},
		{"empty", "read_file", `{"path":"{root}/empty.txt"}`, []string{"is empty (0 bytes)"}, nil, false},
		{"missing", "read_file", `{"path":"{root}/nope.txt"}`, []string{"no such file: " + root + "/nope.txt"}, nil, true},
		{"folder", "read_file", `{"path":"{root}/notes"}`, []string{"is a folder, not a file"}, nil, true},
		{"list", "list_files", `{"path":"{root}"}`, []string{root + ":\n.git/\n.hidden\nbin.dat\n", "notes/\nnotes/flags.txt\nnotes/todo.md\nsrc/\nsrc/main.go\nsrc/util/\nsrc/util/util.go\n[12 entries]"},
			[]string{".git/HEAD", ".git/objects"}, false},
		{"list by name", "list_files", `{"path":"{root}","pattern":"*.go"}`, []string{":\nsrc/main.go\nsrc/util/util.go\n[2 entries]"}, nil, false},
		{"list by path", "list_files", `{"path":"{root}/src","pattern":"util/*"}`, []string{":\nutil/util.go\n[1 entries]"}, nil, false},
		{"list nothing", "list_files", `{"path":"{root}","pattern":"*.xls"}`, []string{"Nothing under"}, nil, false},
		{"list missing", "list_files", `{"path":"{root}/nope"}`, []string{"no such file or folder"}, nil, true},
		{"grep", "grep", `{"pattern":"call (Bob|Alice)","path":"{root}"}`, []string{root + "/notes/todo.md:2:- call Bob"}, nil, false},
		{"grep a glob", "grep", `{"pattern":"^package","path":"{root}","glob":"*.go"}`, []string{root + "/src/main.go:1:package main", root + "/src/util/util.go:1:package util"}, []string{"todo"}, false},
		{"grep an option-like pattern", "grep", `{"pattern":"-v","path":"{root}"}`, []string{"flags.txt:1:use -v to invert"}, nil, false},
		{"grep skips .git", "grep", `{"pattern":"refs/heads","path":"{root}"}`, []string{"No matches"}, nil, false},
		{"grep no matches", "grep", `{"pattern":"zzz-nothing","path":"{root}"}`, []string{"No matches"}, nil, false},
		{"grep a bad regex", "grep", `{"pattern":"(","path":"{root}"}`, []string{"invalid regular expression"}, nil, true},
		{"write new folders", "write_file", `{"path":"{root}/new/deep/it's \"odd\".txt","content":"hello\n"}`, []string{"Wrote 6 bytes to " + root + `/new/deep/it's "odd".txt`}, nil, false},
		{"read it back", "read_file", `{"path":"{root}/new/deep/it's \"odd\".txt"}`, []string{"     1\thello"}, nil, false},
		{"edit", "edit_file", `{"path":"{root}/notes/todo.md","old_string":"call Bob","new_string":"call Alice"}`, []string{"replaced 1 match", "     2\t- call Alice"}, nil, false},
		{"edit not unique", "edit_file", `{"path":"{root}/notes/todo.md","old_string":"- ","new_string":"* "}`, []string{"matches 2 places"}, nil, true},
		{"edit missing", "edit_file", `{"path":"{root}/nope.md","old_string":"a","new_string":"b"}`, []string{"No such file"}, nil, true},
		{"bash in the group folder", "bash", `{"command":"pwd; echo \"$0\" >&2; exit 3"}`, []string{"[stderr]\n", "[exit code 3]"}, nil, true},
		{"bash killed at its timeout", "bash", `{"command":"echo started; sleep 30","timeout_s":1}`, []string{"started\n", "[killed after 1 s"}, nil, true},
		// Attacks: a symlink in the sandbox pointing outside the group
		// folder, and a symlinked parent folder. The file tools refuse both,
		// through the helper and through docker exec alike.
		{"plant symlinks", "bash", `{"command":"cd {root} && echo outside > /tmp/berth-outside.txt && ln -s /tmp/berth-outside.txt link-out && ln -s notes linkdir && echo planted"}`, []string{"planted"}, nil, false},
		{"read through a symlink", "read_file", `{"path":"{root}/link-out"}`, []string{"link-out: a symlink is on the way"}, []string{"outside"}, true},
		{"read through a symlinked folder", "read_file", `{"path":"{root}/linkdir/todo.md"}`, []string{"a symlink is on the way"}, []string{"milk"}, true},
		{"write over a symlink", "write_file", `{"path":"{root}/link-out","content":"overwritten"}`, []string{"a symlink is on the way"}, nil, true},
		{"write through a symlinked folder", "write_file", `{"path":"{root}/linkdir/new/planted.txt","content":"planted"}`, []string{"a symlink is on the way"}, nil, true},
		{"edit through a symlink", "edit_file", `{"path":"{root}/link-out","old_string":"outside","new_string":"edited"}`, []string{"a symlink is on the way"}, nil, true},
		{"edit through a symlinked folder", "edit_file", `{"path":"{root}/linkdir/todo.md","old_string":"milk","new_string":"beer"}`, []string{"a symlink is on the way"}, nil, true},
		{"nothing written through them", "bash", `{"command":"cat /tmp/berth-outside.txt {root}/notes/todo.md; ls {root}/notes"}`, []string{"outside\n- buy milk"}, []string{"overwritten", "edited", "beer", "new"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCall(tc.tool, []byte(r.Replace(tc.input)), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			o := c.run(context.Background(), x)
			for _, w := range tc.want {
				if !strings.Contains(o.output, w) {
					t.Errorf("got %q, want %q in it", o.output, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(o.output, w) {
					t.Errorf("got %q, want no %q", o.output, w)
				}
			}
			if o.isError != tc.wantErr || o.execErr != nil {
				t.Errorf("is error: got %v (exec error %v), want %v; output %q", o.isError, o.execErr, tc.wantErr, o.output)
			}
		})
	}
}

func TestScriptsWithDebianTools(t *testing.T) {
	for _, tool := range []string{"dash", "awk", "find", "grep", "sort", "sed"} {
		_, err := exec.LookPath(tool)
		dockertest.Require(t, err == nil, "no "+tool+" on this machine to check the scripts with")
	}
	dir := t.TempDir()
	writeFixture(t, dir)
	checkScripts(t, hostSandbox{root: dir}, dir)
	if got, _ := os.ReadFile(filepath.Join(dir, "notes/todo.md")); string(got) != "- buy milk\n- call Alice\n" {
		t.Errorf("todo.md: got %q", got)
	}
}
