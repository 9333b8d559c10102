package docker

import (
	"bytes"
	"strings"
	"testing"
)

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		limit     int
		writes    []string
		wantHead  string
		wantTail  string
		truncated bool
	}{
		{"fits", 100, []string{"hello ", "world"}, "hello world", "", false},
		{"exactly the limit", 64, []string{strings.Repeat("a", 64)}, strings.Repeat("a", 64), "", false},
		{"one big write", 64, []string{strings.Repeat("h", 32) + strings.Repeat("x", 1000) + strings.Repeat("t", 32)}, strings.Repeat("h", 32), strings.Repeat("t", 32), true},
		{"many small writes", 64, append(append([]string{strings.Repeat("h", 32)}, strings.Split(strings.Repeat("x", 500), "")...), "0123456789abcdefghijklmnopqrstuv"), strings.Repeat("h", 32), "0123456789abcdefghijklmnopqrstuv", true},
		{"tail wraps", 64, []string{strings.Repeat("h", 40), strings.Repeat("m", 30), "END-OF-OUTPUT"}, strings.Repeat("h", 32), "END-OF-OUTPUT", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cp := newCapture(c.limit)
			total := 0
			for _, w := range c.writes {
				cp.Write([]byte(w))
				total += len(w)
			}
			out := cp.Output()
			if out.Total != int64(total) {
				t.Errorf("total: got %d, want %d", out.Total, total)
			}
			if out.Truncated != c.truncated {
				t.Errorf("truncated: got %v, want %v", out.Truncated, c.truncated)
			}
			if !bytes.HasPrefix(out.Data, []byte(c.wantHead)) {
				t.Errorf("head: got %q, want prefix %q", out.Data, c.wantHead)
			}
			if !bytes.HasSuffix(out.Data, []byte(c.wantTail)) {
				t.Errorf("tail: got %q, want suffix %q", out.Data, c.wantTail)
			}
			if c.truncated && !bytes.Contains(out.Data, []byte("bytes cut")) {
				t.Errorf("a truncated output must say so: %q", out.Data)
			}
		})
	}
}

func TestCaptureKeepsBytesAsTheyCame(t *testing.T) {
	t.Parallel()
	cp := newCapture(1024)
	raw := []byte{0xff, 0xfe, 0x00, 'o', 'k', 0xc3}
	cp.Write(raw)
	if got := cp.Output().Data; !bytes.Equal(got, raw) {
		t.Errorf("got %v, want %v", got, raw)
	}
}
