package agent

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestListFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		input    string
		out      string
		stderr   string
		wantArgs []string // root, glob, test
		want     []string
		wantNot  []string
	}{
		{"group folder", `{}`, "/workspace/group/MEMORY.md\n/workspace/group/notes/\n/workspace/group/notes/a.md\nberth-total 3 3\n", "",
			[]string{"/workspace/group", "*", "-name"}, []string{"/workspace/group:\nMEMORY.md\nnotes/\nnotes/a.md\n[3 entries]"}, nil},
		{"name pattern", `{"path":"/workspace/extra/docs","pattern":"*.md"}`, "berth-total 0 0\n", "",
			[]string{"/workspace/extra/docs", "*.md", "-name"}, []string{`Nothing under /workspace/extra/docs matches "*.md".`}, nil},
		{"path pattern", `{"path":"src","pattern":"cmd/*.go"}`, "/workspace/group/src/cmd/main.go\nberth-total 1 1\n", "",
			[]string{"/workspace/group/src", "/workspace/group/src/cmd/*.go", "-path"}, []string{"cmd/main.go"}, nil},
		{"empty folder", `{"path":"empty"}`, "berth-total 0 0\n", "", nil, []string{"/workspace/group/empty is an empty folder."}, nil},
		{"capped", `{}`, "/workspace/group/a\n/workspace/group/b\nberth-total 5000 2\n", "", nil,
			[]string{"a\nb\n[showing the first 2 of 5000 entries"}, []string{"[5000 entries]"}},
		{"unreadable parts", `{}`, "/workspace/group/a\nberth-total 1 1\n", "find: /workspace/group/secret: Permission denied\n", nil,
			[]string{"a\n[1 entries]", "some entries could not be read:\nfind: /workspace/group/secret: Permission denied"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
				return ExecResult{Stdout: []byte(tc.out), Stderr: []byte(tc.stderr)}, nil
			}}
			o := runTool(t, sb, "list_files", tc.input)
			req := sb.requests()[0]
			if req.Argv[2] != listScript || req.Argv[7] != itoa(MaxListEntries) {
				t.Errorf("argv: got %q", req.Argv)
			}
			if tc.wantArgs != nil && !slices.Equal(req.Argv[4:7], tc.wantArgs) {
				t.Errorf("arguments: got %q, want %q", req.Argv[4:7], tc.wantArgs)
			}
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
			if o.isError {
				t.Errorf("got an error result: %q", o.output)
			}
		})
	}
	t.Run("missing folder", func(t *testing.T) {
		t.Parallel()
		sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
			return ExecResult{ExitCode: 2, Stderr: []byte("no such file or folder: /workspace/group/nope\n")}, nil
		}}
		o := runTool(t, sb, "list_files", `{"path":"nope"}`)
		if !o.isError || o.output != "no such file or folder: /workspace/group/nope" {
			t.Errorf("got %q (error %v)", o.output, o.isError)
		}
	})
}

func TestGrep(t *testing.T) {
	t.Parallel()
	long := "/workspace/group/min.js:1:" + strings.Repeat("x", 2000)
	tests := []struct {
		name     string
		input    string
		res      ExecResult
		wantArgs []string // pattern, root, glob
		want     []string
		wantErr  bool
	}{
		{"matches", `{"pattern":"TODO|FIXME"}`, ExecResult{Stdout: []byte("/workspace/group/a.go:3:// TODO x\n")},
			[]string{"TODO|FIXME", "/workspace/group", ""}, []string{"/workspace/group/a.go:3:// TODO x"}, false},
		{"pattern that looks like an option", `{"pattern":"-rf","path":"src","glob":"*.sh"}`, ExecResult{ExitCode: 1},
			[]string{"-rf", "/workspace/group/src", "*.sh"}, []string{"No matches"}, false},
		{"no matches is not an error", `{"pattern":"zzz"}`, ExecResult{ExitCode: 1}, nil, []string{"No matches"}, false},
		{"bad regex", `{"pattern":"("}`, ExecResult{ExitCode: 2, Stderr: []byte("invalid regular expression: grep: bad regex '('\n")},
			nil, []string{"invalid regular expression"}, true},
		{"long lines are cut", `{"pattern":"x"}`, ExecResult{Stdout: []byte(long + "\n")}, nil, []string{"[... line cut: 2026 bytes in all]"}, false},
		{"matches despite unreadable files", `{"pattern":"x"}`, ExecResult{ExitCode: 2, Stdout: []byte("/workspace/group/a:1:x\n"), Stderr: []byte("grep: /workspace/group/b: Permission denied\n")},
			nil, []string{"/workspace/group/a:1:x", "some files could not be searched"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) { return tc.res, nil }}
			o := runTool(t, sb, "grep", tc.input)
			req := sb.requests()[0]
			if req.Argv[2] != grepScript || len(req.Argv) != 7 {
				t.Errorf("argv: got %q", req.Argv)
			}
			if tc.wantArgs != nil && !slices.Equal(req.Argv[4:], tc.wantArgs) {
				t.Errorf("arguments: got %q, want %q", req.Argv[4:], tc.wantArgs)
			}
			for _, w := range tc.want {
				if !strings.Contains(o.output, w) {
					t.Errorf("got %q, want %q in it", o.output, w)
				}
			}
			if o.isError != tc.wantErr {
				t.Errorf("is error: got %v, want %v (%q)", o.isError, tc.wantErr, o.output)
			}
		})
	}
	t.Run("many matches are capped by line", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		for i := range 5000 {
			b.WriteString("/workspace/group/f:" + itoa(i+1) + ":match\n")
		}
		sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
			return ExecResult{Stdout: []byte(b.String())}, nil
		}}
		o := runTool(t, sb, "grep", `{"pattern":"match"}`)
		if len(o.output) > DefaultOutputCap || !strings.Contains(o.output, "of 5000 matching lines") || !o.truncated {
			t.Errorf("got %d bytes ending %q, want at most %d and a note", len(o.output), o.output[max(0, len(o.output)-120):], DefaultOutputCap)
		}
	})
}

func TestContainerPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"notes.md", "/workspace/group/notes.md", false},
		{"./a/../b/./c.txt", "/workspace/group/b/c.txt", false},
		{"/workspace/extra/docs/", "/workspace/extra/docs", false},
		{"/workspace/group//x", "/workspace/group/x", false},
		{"../../etc/passwd", "/etc/passwd", false},
		{"-rf", "/workspace/group/-rf", false},
		{"/", "/", false},
		{"", "", true},
		{"a\x00b", "", true},
	}
	for _, tc := range tests {
		got, err := containerPath(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("containerPath(%q): got %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
