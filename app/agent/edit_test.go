package agent

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestApplyEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		content   string
		old, new  string
		all       bool
		want      string
		wantN     int
		wantFirst int
		wantErr   string
	}{
		{"one match", "a b c", "b", "B", false, "a B c", 1, 2, ""},
		{"delete", "keep\ndrop\nkeep\n", "drop\n", "", false, "keep\nkeep\n", 1, 5, ""},
		{"replace all", "x1 x2 x3", "x", "y", true, "y1 y2 y3", 3, 0, ""},
		{"replace all with one match", "only one", "one", "1", true, "only 1", 1, 5, ""},
		{"not found", "hello", "bye", "ciao", false, "", 0, 0, "old_string was not found; read the file again"},
		{"whitespace matters", "\tindented", "    indented", "x", false, "", 0, 0, "was not found"},
		{"windows line endings", "a\r\nb\r\n", "a\nb", "c", false, "", 0, 0, "Windows line endings"},
		{"not unique", "dup dup dup", "dup", "x", false, "", 0, 0, "old_string matches 3 places; include more surrounding lines"},
		{"not unique suggests replace_all", "dup dup", "dup", "x", false, "", 0, 0, "set replace_all to true"},
		{"empty old", "abc", "", "x", false, "", 0, 0, "use write_file"},
		{"old equals new", "abc", "b", "b", false, "", 0, 0, "the same"},
		{"unicode", "café ☕ crème", "☕", "🍵", false, "café 🍵 crème", 1, 6, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, n, first, err := applyEdit(tc.content, tc.old, tc.new, tc.all)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || n != tc.wantN || first != tc.wantFirst {
				t.Errorf("got %q, %d matches at %d; want %q, %d at %d", got, n, first, tc.want, tc.wantN, tc.wantFirst)
			}
		})
	}
}

func TestEditFile(t *testing.T) {
	t.Parallel()
	file := "line 1\nline 2\ntarget = old\nline 4\n"
	tests := []struct {
		name      string
		input     string
		cat       ExecResult // the first exec: editScript (cat)
		wantWrite string     // stdin of the second exec; empty: no write
		want      []string
		wantErr   bool
	}{
		{"edits in place", `{"path":"cfg.txt","old_string":"target = old","new_string":"target = new"}`,
			ExecResult{Stdout: []byte(file), StdoutTotal: int64(len(file))},
			"line 1\nline 2\ntarget = new\nline 4\n",
			[]string{"Edited /workspace/group/cfg.txt: replaced 1 match;", "     3\ttarget = new", "     1\tline 1"}, false},
		{"not unique", `{"path":"cfg.txt","old_string":"line","new_string":"row"}`,
			ExecResult{Stdout: []byte(file)}, "", []string{"matches 3 places", "replace_all"}, true},
		{"replace all", `{"path":"cfg.txt","old_string":"line","new_string":"row","replace_all":true}`,
			ExecResult{Stdout: []byte(file)}, "row 1\nrow 2\ntarget = old\nrow 4\n", []string{"replaced 3 matches"}, false},
		{"not found", `{"path":"cfg.txt","old_string":"nowhere","new_string":"x"}`,
			ExecResult{Stdout: []byte(file)}, "", []string{"/workspace/group/cfg.txt: old_string was not found"}, true},
		{"missing file", `{"path":"gone.txt","old_string":"a","new_string":"b"}`,
			ExecResult{ExitCode: 1, Stderr: []byte("cat: can't open '/workspace/group/gone.txt': No such file or directory\n")},
			"", []string{"No such file or directory"}, true},
		{"binary", `{"path":"x.bin","old_string":"a","new_string":"b"}`,
			ExecResult{Stdout: []byte("a\x00b")}, "", []string{"binary file"}, true},
		{"too large", `{"path":"big.log","old_string":"a","new_string":"b"}`,
			ExecResult{Stdout: []byte("a…"), StdoutTotal: 50 << 20, Truncated: true}, "", []string{"too large for edit_file"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: func(_ context.Context, req ExecRequest) (ExecResult, error) {
				if len(req.Argv) > 3 && req.Argv[3] == "berth-edit" {
					return tc.cat, nil
				}
				return ExecResult{Stdout: []byte(itoa(len(req.Stdin)) + "\n")}, nil
			}}
			o := runTool(t, sb, "edit_file", tc.input)
			reqs := sb.requests()
			if len(reqs[0].Argv) != 5 || reqs[0].Argv[2] != editScript || !strings.HasPrefix(reqs[0].Argv[4], "/workspace/") {
				t.Errorf("read argv: got %q", reqs[0].Argv)
			}
			if reqs[0].OutputCap != maxEditBytes {
				t.Errorf("read cap: got %d, want %d", reqs[0].OutputCap, maxEditBytes)
			}
			switch {
			case tc.wantWrite == "" && len(reqs) != 1:
				t.Errorf("got %d execs, want only the read", len(reqs))
			case tc.wantWrite != "":
				if len(reqs) != 2 {
					t.Fatalf("got %d execs, want a read and a write", len(reqs))
				}
				if string(reqs[1].Stdin) != tc.wantWrite || !slices.Contains(reqs[1].Argv, reqs[0].Argv[4]) {
					t.Errorf("write: got argv %q stdin %q, want %q", reqs[1].Argv, reqs[1].Stdin, tc.wantWrite)
				}
				if o.file == nil || o.file.sha256 != sha256Hex([]byte(tc.wantWrite)) {
					t.Errorf("file: got %+v, want the new content's sha256", o.file)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(o.output, w) {
					t.Errorf("got %q, want %q in it", o.output, w)
				}
			}
			if o.isError != tc.wantErr {
				t.Errorf("is error: got %v, want %v", o.isError, tc.wantErr)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	content := "1\n2\n3\n4\n5\nNEW\n7\n8\n9\n10\n"
	got := snippet(content, strings.Index(content, "NEW"), 3)
	want := "     3\t3\n     4\t4\n     5\t5\n     6\tNEW\n     7\t7\n     8\t8\n     9\t9"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
