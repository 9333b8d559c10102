package agent

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
)

// TestFileRefusals: what the sandbox's refusal of a file operation tells
// the model, and that a broken call is a sandbox failure, not a refusal.
func TestFileRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tool, input string
		err               error
		want              string
		wantExecErr       bool
	}{
		{"symlink", ToolReadFile, `{"path":"a"}`, &FileError{Errno: syscall.ELOOP}, "/workspace/group/a: a symlink is on the way", false},
		{"missing", ToolReadFile, `{"path":"a"}`, &FileError{Errno: syscall.ENOENT}, "no such file: /workspace/group/a", false},
		{"folder", ToolReadFile, `{"path":"a"}`, &FileError{Errno: syscall.EISDIR}, "is a folder, not a file; use list_files", false},
		{"read-only", ToolWriteFile, `{"path":"/workspace/extra/ro/x","content":"x"}`, &FileError{Errno: syscall.EROFS}, "/workspace/extra/ro/x: Read-only file system", false},
		{"permission", ToolWriteFile, `{"path":"a","content":"x"}`, &FileError{Errno: syscall.EACCES}, "permission denied: /workspace/group/a cannot be written", false},
		{"edit too large", ToolEditFile, `{"path":"a","old_string":"x","new_string":"y"}`, &FileError{Errno: syscall.EFBIG}, "too large for edit_file", false},
		{"unknown reason", ToolReadFile, `{"path":"a"}`, &FileError{Msg: "odd: it broke"}, "odd: it broke", false},
		{"channel broke", ToolReadFile, `{"path":"a"}`, errors.New("the sandbox helper stopped answering"), "the sandbox could not run this call", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := &fakeSandbox{file: func(context.Context, FileRequest) (FileResult, error) { return FileResult{}, tc.err }}
			o := runTool(t, sb, tc.tool, tc.input)
			if !strings.Contains(o.output, tc.want) || !o.isError || (o.execErr != nil) != tc.wantExecErr {
				t.Errorf("got %q (error %v, exec error %v), want %q", o.output, o.isError, o.execErr, tc.want)
			}
			if len(sb.requests()) != 0 {
				t.Errorf("%d execs ran; a refusal must not fall back to the script", len(sb.requests()))
			}
		})
	}
}

// TestReadTooLargeUsesTheScript: a file too large to read whole is read by
// the script, which streams.
func TestReadTooLargeUsesTheScript(t *testing.T) {
	t.Parallel()
	sb := &fakeSandbox{
		file: func(context.Context, FileRequest) (FileResult, error) {
			return FileResult{}, &FileError{Errno: syscall.EFBIG}
		},
		exec: stdout("berth-read 5 0\n     1\thello\nberth-end 1 0\n"),
	}
	o := runTool(t, sb, ToolReadFile, `{"path":"big.log"}`)
	if o.output != "     1\thello" || len(sb.requests()) != 1 {
		t.Errorf("got %q after %d execs, want the script's read", o.output, len(sb.requests()))
	}
}
