//go:build unix

package mounts

import (
	"context"
	"errors"
	"fmt"
	"github.com/berth-app/berth/docker/dockertest/need"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeFiles creates each slash-separated path under root with content
// "12345", creating parents; a path ending in "/" is a folder.
func makeFiles(t testing.TB, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			mkdir(t, full)
			continue
		}
		mkdir(t, filepath.Dir(full))
		writeFile(t, full, "12345")
	}
}

func TestScanMasksSecrets(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "proj")
	outside := filepath.Join(base, "outside")
	makeFiles(t, root,
		"README.md", ".env", "id_rsa", "id_rsa.pub", "id_utils.go",
		"a/.env.local", "a/b/server.pem", "a/b/main.go", "a/b/c/.git-credentials",
		"config/credentials.json", "k8s/secrets.yaml", "tf/terraform.tfstate.backup",
		".ssh/id_ed25519", ".ssh/config", "Keys/.AWS/credentials",
	)
	for i := range 50 {
		makeFiles(t, outside, fmt.Sprintf("f%d.pem", i))
	}
	symlink(t, "/etc", filepath.Join(root, "abs"))
	symlink(t, "a", filepath.Join(root, "in"))
	symlink(t, "../..", filepath.Join(root, "a", "up"))
	symlink(t, outside, filepath.Join(root, "big"))
	symlink(t, "../outside", filepath.Join(root, "rel-out"))
	if err := unix.Mkfifo(filepath.Join(root, "a", "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}

	got, err := Scan(context.Background(), root, ScanLimits{})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	wantMasked := []string{
		".env", ".ssh/", "Keys/.AWS/", "a/.env.local", "a/b/c/.git-credentials", "a/b/server.pem",
		"a/fifo", "config/credentials.json", "id_rsa", "k8s/secrets.yaml", "tf/terraform.tfstate.backup",
	}
	if !slices.Equal(got.Masked, wantMasked) {
		t.Errorf("got masked %q, want %q", got.Masked, wantMasked)
	}
	wantLinks := []string{"a/up", "abs", "big", "rel-out"}
	if !slices.Equal(got.Symlinks, wantLinks) {
		t.Errorf("got symlinks %q, want %q", got.Symlinks, wantLinks)
	}
	// 12 regular files, 5 links and 1 pipe seen; 9 folders, of which .ssh
	// and .AWS are counted but not walked.
	if got.Files != 18 || got.Dirs != 9 || got.Bytes != 12*5 {
		t.Errorf("got files %d dirs %d bytes %d, want 18, 9, %d", got.Files, got.Dirs, got.Bytes, 12*5)
	}
	if got.Truncated {
		t.Errorf("got truncated (%s), want a full scan", got.TruncatedReason)
	}
}

func TestScanLimits(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for i := range 30 {
		makeFiles(t, root, fmt.Sprintf("d%d/f.txt", i))
	}
	makeFiles(t, root, "deep/1/2/3/.env", "deep/.env")
	fakeClock := func() func() time.Time {
		now := time.Unix(0, 0)
		return func() time.Time { now = now.Add(time.Second); return now }
	}
	cases := []struct {
		name      string
		lim       ScanLimits
		clock     func() time.Time
		wantTrunc string // substring of TruncatedReason; "" means not truncated
		wantSeen  int    // Files+Dirs when set
		wantFix   string // substring of Incomplete's reason
	}{
		{name: "max files", lim: ScanLimits{MaxFiles: 10}, wantTrunc: "after 10 files", wantSeen: 10, wantFix: "more than 10 files and folders, so it cannot be fully checked for secrets; mount a smaller folder or raise the limit (scan_max_files) in Settings"},
		{name: "max files exactly reached", lim: ScanLimits{MaxFiles: 66}, wantSeen: 66},
		{name: "max time", lim: ScanLimits{MaxTime: 5 * time.Second}, clock: fakeClock(), wantTrunc: "after 5s", wantFix: "longer than 5s; mount a smaller folder"},
		{name: "max depth", lim: ScanLimits{MaxDepth: 2}, wantTrunc: "deeper than 2", wantFix: "deeper than 2 levels"},
		{name: "defaults", wantSeen: 66},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := tc.clock
			if clock == nil {
				clock = time.Now
			}
			got, err := scan(context.Background(), root, tc.lim, clock)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			if got.Truncated != (tc.wantTrunc != "") || !strings.Contains(got.TruncatedReason, tc.wantTrunc) {
				t.Errorf("got truncated %v (%q), want %q", got.Truncated, got.TruncatedReason, tc.wantTrunc)
			}
			if fix := got.Incomplete(tc.lim, "scan_max_files"); (fix == "") != (tc.wantFix == "") || !strings.Contains(fix, tc.wantFix) {
				t.Errorf("got Incomplete %q, want %q", fix, tc.wantFix)
			}
			if tc.wantSeen != 0 && got.Files+got.Dirs != tc.wantSeen {
				t.Errorf("got %d entries seen, want %d", got.Files+got.Dirs, tc.wantSeen)
			}
			if tc.name == "max depth" && !slices.Contains(got.Masked, "deep/.env") {
				t.Errorf("got masked %q, want the shallow deep/.env still found", got.Masked)
			}
		})
	}
}

func TestScanCancelled(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeFiles(t, root, "a.txt")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := Scan(ctx, root, ScanLimits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if !got.Truncated {
		t.Errorf("got a complete scan after cancel, want truncated")
	}
}

func TestScanRoots(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	makeFiles(t, base, "dir/", "notes.txt", "server.key")
	symlink(t, "dir", filepath.Join(base, "link"))
	cases := []struct {
		name       string
		root       string
		wantErr    bool
		wantMasked []string
		wantFiles  int
	}{
		{name: "symlink root refused", root: "link", wantErr: true},
		{name: "missing root", root: "nope", wantErr: true},
		{name: "single file", root: "notes.txt", wantFiles: 1},
		{name: "single secret file", root: "server.key", wantFiles: 1, wantMasked: []string{"."}},
		{name: "empty folder", root: "dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Scan(context.Background(), filepath.Join(base, tc.root), ScanLimits{})
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got.Masked, tc.wantMasked) || got.Files != tc.wantFiles {
				t.Errorf("got masked %q files %d, want %q files %d", got.Masked, got.Files, tc.wantMasked, tc.wantFiles)
			}
		})
	}
}

func TestScanSocketMasked(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	need.Require(t, listen(t, filepath.Join(root, "agent.sock")), "cannot create a unix socket in the temp folder")
	got, err := Scan(context.Background(), root, ScanLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Masked, []string{"agent.sock"}) {
		t.Errorf("got masked %q, want the socket", got.Masked)
	}
}

func BenchmarkScan(b *testing.B) {
	root := b.TempDir()
	for i := range 2000 {
		makeFiles(b, root, fmt.Sprintf("d%d/f%d.go", i%50, i))
	}
	b.ResetTimer()
	var files int
	for b.Loop() {
		res, err := Scan(context.Background(), root, ScanLimits{})
		if err != nil {
			b.Fatal(err)
		}
		files += res.Files
	}
	b.ReportMetric(float64(files)/b.Elapsed().Seconds(), "files/s")
}

func BenchmarkCheck(b *testing.B) {
	tr := buildTree(b)
	p := tr.policy()
	req := Request{HostPath: "~/projects/app"}
	for b.Loop() {
		if d := Check(req, p); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}
