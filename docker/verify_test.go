//go:build linux

package docker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestHostIdentity(t *testing.T) {
	t.Parallel()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "a", "b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "a"), filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	dev, ino, err := hostIdentity(dir)
	fi, serr := os.Stat(dir)
	if err != nil || serr != nil {
		t.Fatalf("hostIdentity: %v %v", err, serr)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if dev != uint64(st.Dev) || ino != st.Ino {
		t.Errorf("got %d:%d, want %d:%d as stat says", dev, ino, st.Dev, st.Ino)
	}
	for _, bad := range []string{filepath.Join(base, "link", "b"), filepath.Join(base, "link"), "relative/path", base + "/a/../a/b"} {
		if _, _, err := hostIdentity(bad); err == nil {
			t.Errorf("hostIdentity(%q): got no error, want a refusal (a link on the way, or not a clean absolute path)", bad)
		}
	}
	if _, _, err := hostIdentity(filepath.Join(base, "link", "b")); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("a link on the way: got %v, want it named a symlink", err)
	}
}

func TestParseIdentity(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line     string
		dev, ino uint64
		ok       bool
	}{
		{"65024 10002434", 65024, 10002434, true},
		{"  2049 12  ", 2049, 12, true},
		{"65024", 0, 0, false},
		{"a b", 0, 0, false},
		{"1 2 3", 0, 0, false},
		{"stat: can't stat '/x': No such file or directory", 0, 0, false},
	} {
		dev, ino, ok := parseIdentity(c.line)
		if ok != c.ok || (ok && (dev != c.dev || ino != c.ino)) {
			t.Errorf("parseIdentity(%q) = %d, %d, %v; want %d, %d, %v", c.line, dev, ino, ok, c.dev, c.ino, c.ok)
		}
	}
}

func TestDigestCoversMasks(t *testing.T) {
	t.Parallel()
	s := Spec{Home: "h", Group: "g", Session: "s", User: "1000:1000"}
	with := s
	with.Masks = []Mask{{Path: ExtraDir + "/code/.env"}}
	if s.Digest() == with.Digest() {
		t.Error("a new mask left the digest unchanged: a warm sandbox would be reused without it")
	}
}

func TestMountMismatchErrorNamesTheMount(t *testing.T) {
	t.Parallel()
	err := error(&MountMismatchError{Mount: Mount{Host: "/home/u/w/x", Container: ExtraDir + "/x"}, Host: "1:2", Got: "1:3"})
	var mm *MountMismatchError
	if !errors.As(err, &mm) || !strings.Contains(err.Error(), ExtraDir+"/x") || !strings.Contains(err.Error(), "/home/u/w/x") {
		t.Errorf("got %q", err)
	}
}
