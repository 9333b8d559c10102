package agent

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runTool parses input for tool and runs it against sb with the default limits.
func runTool(t *testing.T, sb *fakeSandbox, tool, input string) outcome {
	t.Helper()
	c, err := parseCall(tool, json.RawMessage(input), nil, nil)
	if err != nil {
		t.Fatalf("parse %s %s: %v", tool, input, err)
	}
	x := &executor{sb: sb, callTimeout: DefaultCallTimeout, maxTimeout: DefaultMaxCallTimeout, outputCap: DefaultOutputCap}
	return c.run(context.Background(), x)
}

func TestBashRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		wantCommand string
		wantTimeout time.Duration
		wantNote    bool
	}{
		{"default timeout", `{"command":"make test"}`, "make test", DefaultCallTimeout, false},
		{"own timeout", `{"command":"sleep 1","timeout_s":5}`, "sleep 1", 5 * time.Second, false},
		{"fractional timeout", `{"command":"true","timeout_s":0.5}`, "true", 500 * time.Millisecond, false},
		{"timeout capped", `{"command":"true","timeout_s":9999}`, "true", DefaultMaxCallTimeout, true},
		{"zero timeout is the default", `{"command":"true","timeout_s":0}`, "true", DefaultCallTimeout, false},
		{"shell text stays one argument", `{"command":"echo \"$HOME\" '; rm -rf /' $(id)"}`, `echo "$HOME" '; rm -rf /' $(id)`, DefaultCallTimeout, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: stdout("ok\n")}
			o := runTool(t, sb, "bash", tc.input)
			reqs := sb.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d execs, want 1", len(reqs))
			}
			want := []string{"/bin/sh", "-c", bashScript, "berth", tc.wantCommand}
			if !slices.Equal(reqs[0].Argv, want) {
				t.Errorf("argv: got %q, want %q", reqs[0].Argv, want)
			}
			if reqs[0].WorkDir != GroupDir || reqs[0].Timeout != tc.wantTimeout || reqs[0].Stdin != nil {
				t.Errorf("got workdir %q timeout %v stdin %q, want %q %v none", reqs[0].WorkDir, reqs[0].Timeout, reqs[0].Stdin, GroupDir, tc.wantTimeout)
			}
			if reqs[0].OutputCap != DefaultOutputCap {
				t.Errorf("output cap: got %d, want %d", reqs[0].OutputCap, DefaultOutputCap)
			}
			if got := strings.Contains(o.output, "timeout_s was lowered"); got != tc.wantNote {
				t.Errorf("capped note: got %v, want %v in %q", got, tc.wantNote, o.output)
			}
			if o.isError || !strings.HasPrefix(o.output, "ok") {
				t.Errorf("got %q (error %v), want ok", o.output, o.isError)
			}
		})
	}
}

func TestFormatCommand(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("o", 5000)
	tests := []struct {
		name      string
		res       ExecResult
		limit     int
		want      []string // substrings, in order
		wantNot   []string
		wantCut   bool
		maxLength int
	}{
		{"stdout", ExecResult{Stdout: []byte("hello\n")}, 1000, []string{"hello"}, []string{"[exit code", "[stderr]"}, false, 0},
		{"no output", ExecResult{}, 1000, []string{"(no output)"}, nil, false, 0},
		{"stderr and exit code", ExecResult{Stdout: []byte("partial"), Stderr: []byte("boom\n"), ExitCode: 2}, 1000,
			[]string{"partial\n[stderr]\nboom\n[exit code 2]"}, []string{"(no output)"}, false, 0},
		{"read-only file system", ExecResult{Stderr: []byte("sh: can't create /workspace/extra/ro/x: Read-only file system\n"), ExitCode: 1}, 1000,
			[]string{"[stderr]\nsh: can't create", "Read-only file system", "[exit code 1]"}, nil, false, 0},
		{"timed out", ExecResult{Stdout: []byte("started\n"), ExitCode: 137, TimedOut: true}, 1000,
			[]string{"started\n[killed after 1 s"}, []string{"[exit code"}, false, 0},
		{"cut by the sandbox", ExecResult{Stdout: []byte("head…tail"), StdoutTotal: 1 << 20, Truncated: true}, 1000,
			[]string{"head…tail", "stdout 1048576 bytes"}, nil, true, 0},
		{"shared cap keeps both ends", ExecResult{Stdout: []byte("START" + long + "END"), Stderr: []byte("E-START" + long + "E-END"), ExitCode: 1}, 3000,
			[]string{"START", "bytes cut from the middle", "END", "[stderr]\nE-START", "E-END", "[exit code 1]"}, nil, true, 3200},
		{"invalid UTF-8 is replaced", ExecResult{Stdout: []byte("a\xffb")}, 1000, []string{"a\uFFFDb"}, nil, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, cut := formatCommand(tc.res, tc.limit, time.Second)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("got %q, want %q in it (in order)", got, w)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("got %q, want no %q", got, w)
				}
			}
			if cut != tc.wantCut {
				t.Errorf("cut: got %v, want %v", cut, tc.wantCut)
			}
			if tc.maxLength > 0 && len(got) > tc.maxLength {
				t.Errorf("got %d bytes, want at most %d", len(got), tc.maxLength)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			b.WriteString(strings.Repeat(" ", 6-len(itoa(i))) + itoa(i) + "\tline " + itoa(i) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name     string
		input    string
		out      string // the script's stdout
		exit     int
		stderr   string
		wantArgs []string // path, offset, limit
		want     []string
		wantErr  bool
	}{
		{"whole file", `{"path":"notes.md"}`, "berth-read 20 0\n" + lines(1, 2) + "berth-end 2 0\n", 0, "",
			[]string{"/workspace/group/notes.md", "1", "2000"}, []string{"     1\tline 1\n     2\tline 2"}, false},
		{"more to read", `{"path":"/workspace/group/a","offset":2,"limit":2}`, "berth-read 50 0\n" + lines(2, 3) + "berth-end 5 0\n", 0, "",
			[]string{"/workspace/group/a", "2", "2"}, []string{"     2\tline 2", "[lines 2-3 of 5 — read on with offset=4]"}, false},
		{"end of file from an offset", `{"path":"a","offset":4}`, "berth-read 50 0\n" + lines(4, 5) + "berth-end 5 0\n", 0, "",
			[]string{"/workspace/group/a", "4", "2000"}, []string{"[lines 4-5 of 5; end of file]"}, false},
		{"stopped early", `{"path":"a"}`, "berth-read 99999 0\n" + lines(1, 3) + "berth-end 900 4\n", 0, "",
			nil, []string{"     3\tline 3", "stopped early", "offset=4"}, false},
		{"binary", `{"path":"img.png"}`, "berth-read 1234 7\n", 0, "",
			nil, []string{"binary file (1234 bytes)"}, false},
		{"empty", `{"path":"/workspace/extra/app/.env"}`, "berth-read 0 0\n", 0, "",
			nil, []string{"/workspace/extra/app/.env is empty"}, false},
		{"offset past the end", `{"path":"a","offset":10}`, "berth-read 20 0\nberth-end 2 0\n", 0, "",
			nil, []string{"has 2 lines; offset 10 is past its end"}, true},
		{"missing file", `{"path":"nope"}`, "", 2, "no such file: /workspace/group/nope\n",
			nil, []string{"no such file: /workspace/group/nope"}, true},
		{"a folder", `{"path":"/workspace"}`, "", 2, "/workspace is a folder, not a file; use list_files to see what it holds\n",
			nil, []string{"use list_files"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
				return ExecResult{Stdout: []byte(tc.out), Stderr: []byte(tc.stderr), ExitCode: tc.exit}, nil
			}}
			o := runTool(t, sb, "read_file", tc.input)
			req := sb.requests()[0]
			if len(req.Argv) != 9 || req.Argv[0] != "/bin/sh" || req.Argv[2] != readScript {
				t.Fatalf("argv: got %q", req.Argv)
			}
			if tc.wantArgs != nil && !slices.Equal(req.Argv[4:7], tc.wantArgs) {
				t.Errorf("arguments: got %q, want %q", req.Argv[4:7], tc.wantArgs)
			}
			for _, w := range tc.want {
				if !strings.Contains(o.output, w) {
					t.Errorf("got %q, want %q in it", o.output, w)
				}
			}
			if o.isError != tc.wantErr {
				t.Errorf("is error: got %v, want %v (%q)", o.isError, tc.wantErr, o.output)
			}
			if strings.Contains(o.output, "berth-") {
				t.Errorf("got %q: the script's markers leaked", o.output)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestWriteFile(t *testing.T) {
	t.Parallel()
	t.Run("content on stdin", func(t *testing.T) {
		t.Parallel()
		content := "# Notes\n'quotes' and \"$(danger)\"\n"
		sb := &fakeSandbox{exec: stdout(itoa(len(content)) + "\n")}
		o := runTool(t, sb, "write_file", `{"path":"sub/dir/notes.md","content":`+mustJSON(t, content)+`}`)
		req := sb.requests()[0]
		want := []string{"/bin/sh", "-c", writeScript, "berth-write", "/workspace/group/sub/dir/notes.md", "/workspace/group/sub/dir"}
		if !slices.Equal(req.Argv, want) {
			t.Errorf("argv: got %q, want %q", req.Argv, want)
		}
		if string(req.Stdin) != content {
			t.Errorf("stdin: got %q, want %q", req.Stdin, content)
		}
		sum := sha256Hex([]byte(content))
		if o.isError || !strings.Contains(o.output, "Wrote 33 bytes") || !strings.Contains(o.output, sum) {
			t.Errorf("got %q, want 33 bytes and sha256 %s", o.output, sum)
		}
		if o.file == nil || o.file.path != "/workspace/group/sub/dir/notes.md" || o.file.size != 33 || o.file.sha256 != sum {
			t.Errorf("file: got %+v", o.file)
		}
	})
	t.Run("empty content", func(t *testing.T) {
		t.Parallel()
		sb := &fakeSandbox{exec: stdout("0\n")}
		o := runTool(t, sb, "write_file", `{"path":"empty","content":""}`)
		if o.isError || sb.requests()[0].Stdin == nil || o.file.size != 0 {
			t.Errorf("got %q (error %v), stdin %v", o.output, o.isError, sb.requests()[0].Stdin)
		}
	})
	t.Run("read-only file system", func(t *testing.T) {
		t.Parallel()
		sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) {
			return ExecResult{ExitCode: 1, Stderr: []byte("sh: can't create /workspace/extra/ro/x: Read-only file system\n")}, nil
		}}
		o := runTool(t, sb, "write_file", `{"path":"/workspace/extra/ro/x","content":"x"}`)
		if !o.isError || !strings.Contains(o.output, "Read-only file system") || o.file != nil {
			t.Errorf("got %q (error %v, file %v), want a read-only error", o.output, o.isError, o.file)
		}
	})
	t.Run("size mismatch", func(t *testing.T) {
		t.Parallel()
		sb := &fakeSandbox{exec: stdout("1\n")}
		o := runTool(t, sb, "write_file", `{"path":"x","content":"abc"}`)
		if !o.isError || !strings.Contains(o.output, "3 bytes were sent") {
			t.Errorf("got %q, want a mismatch error", o.output)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSandboxError(t *testing.T) {
	t.Parallel()
	gone := errors.New("sandbox no longer exists")
	for _, tc := range []struct{ tool, input string }{
		{"bash", `{"command":"ls"}`},
		{"read_file", `{"path":"a"}`},
		{"write_file", `{"path":"a","content":"x"}`},
		{"edit_file", `{"path":"a","old_string":"x","new_string":"y"}`},
		{"list_files", `{}`},
		{"grep", `{"pattern":"x"}`},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{exec: func(context.Context, ExecRequest) (ExecResult, error) { return ExecResult{}, gone }}
			o := runTool(t, sb, tc.tool, tc.input)
			if !o.isError || !errors.Is(o.execErr, gone) || !strings.Contains(o.output, "the sandbox could not run this call") {
				t.Errorf("got %q (error %v, exec error %v), want a sandbox failure", o.output, o.isError, o.execErr)
			}
		})
	}
}
