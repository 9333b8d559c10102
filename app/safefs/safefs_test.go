//go:build linux || darwin

package safefs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// world is a group folder next to an outside folder holding a file the
// sandbox would like the host to read or overwrite.
type world struct {
	root, outside, target string
}

func newWorld(t *testing.T) world {
	t.Helper()
	base := t.TempDir()
	w := world{
		root:    filepath.Join(base, "group"),
		outside: filepath.Join(base, "outside"),
		target:  filepath.Join(base, "outside", "passwd"),
	}
	for _, d := range []string{w.root, w.outside, filepath.Join(w.root, "notes")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	put(t, w.target, "root:x:0:0")
	put(t, filepath.Join(w.root, "notes", "inside.md"), "inside")
	return w
}

func put(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// untouched fails the test if the outside target changed or gained files.
func (w world) untouched(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(w.target)
	if err != nil || string(b) != "root:x:0:0" {
		t.Errorf("target: got %q, %v; want it untouched", b, err)
	}
	ents, _ := os.ReadDir(w.outside)
	if len(ents) != 1 {
		t.Errorf("outside folder: got %d entries, want 1", len(ents))
	}
}

func TestReadWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := WriteFile(w.root, "MEMORY.md", []byte("one"), 0o600); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if err := WriteFile(w.root, filepath.Join("a", "b", "c.md"), []byte("deep"), 0o644); err != nil {
		t.Fatalf("WriteFile nested: %v", err)
	}
	cases := map[string]string{"MEMORY.md": "one", "a/b/c.md": "deep", "notes/inside.md": "inside"}
	for rel, want := range cases {
		got, err := ReadFile(w.root, filepath.FromSlash(rel))
		if err != nil || string(got) != want {
			t.Errorf("ReadFile(%q): got %q, %v; want %q", rel, got, err, want)
		}
	}
	fi, err := os.Stat(filepath.Join(w.root, "MEMORY.md"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v, %v; want 0600", fi.Mode(), err)
	}
	if fi, err := os.Lstat(filepath.Join(w.root, "a", "b")); err != nil || !fi.IsDir() {
		t.Errorf("got parent %v, %v; want a real folder", fi, err)
	}
}

func TestWriteIsAtomic(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := filepath.Join(w.root, "MEMORY.md")
	put(t, p, "old")
	hard := filepath.Join(w.root, "hard")
	if err := os.Link(p, hard); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(w.root, "MEMORY.md", []byte("new"), 0o644); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("got %q, want %q", b, "new")
	}
	if b, _ := os.ReadFile(hard); string(b) != "old" {
		t.Errorf("hard link: got %q, want the old inode left alone", b)
	}
	ents, _ := os.ReadDir(w.root)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("got leftover temp file %q", e.Name())
		}
	}
}

func TestSymlinksRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		plant func(t *testing.T, w world) // plants links under w.root
		rel   string
	}{
		{"final component to outside", func(t *testing.T, w world) { link(t, w.target, filepath.Join(w.root, "MEMORY.md")) }, "MEMORY.md"},
		{"final component relative", func(t *testing.T, w world) { link(t, "../outside/passwd", filepath.Join(w.root, "MEMORY.md")) }, "MEMORY.md"},
		{"final component staying inside", func(t *testing.T, w world) { link(t, "notes/inside.md", filepath.Join(w.root, "MEMORY.md")) }, "MEMORY.md"},
		{"dangling final component", func(t *testing.T, w world) { link(t, "../outside/new", filepath.Join(w.root, "MEMORY.md")) }, "MEMORY.md"},
		{"intermediate folder", func(t *testing.T, w world) { link(t, w.outside, filepath.Join(w.root, "docs")) }, "docs/passwd"},
		{"intermediate folder for a new file", func(t *testing.T, w world) { link(t, w.outside, filepath.Join(w.root, "docs")) }, "docs/new.md"},
		{"deep intermediate folder", func(t *testing.T, w world) { link(t, w.outside, filepath.Join(w.root, "notes", "sub")) }, "notes/sub/passwd"},
		{"dangling intermediate folder", func(t *testing.T, w world) { link(t, "../outside/nodir", filepath.Join(w.root, "docs")) }, "docs/x.md"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tc.plant(t, w)
			rel := filepath.FromSlash(tc.rel)
			_, err := ReadFile(w.root, rel)
			if !errors.Is(err, ErrSymlink) {
				t.Errorf("ReadFile(%q): got %v, want ErrSymlink", rel, err)
			}
			err = WriteFile(w.root, rel, []byte("pwned"), 0o644)
			if !errors.Is(err, ErrSymlink) {
				t.Errorf("WriteFile(%q): got %v, want ErrSymlink", rel, err)
			}
			if err != nil && !strings.Contains(err.Error(), w.root) {
				t.Errorf("got error %q, want it to name the path", err)
			}
			w.untouched(t)
			if b, _ := os.ReadFile(filepath.Join(w.root, "notes", "inside.md")); string(b) != "inside" {
				t.Errorf("inside file: got %q, want it untouched", b)
			}
		})
	}
}

func TestBadPaths(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, rel := range []string{"", ".", "..", "../outside/passwd", "notes/../../outside/passwd", "/etc/passwd", "notes//inside.md", "notes/./inside.md", "notes/"} {
		if _, err := ReadFile(w.root, rel); !errors.Is(err, ErrBadPath) {
			t.Errorf("ReadFile(%q): got %v, want ErrBadPath", rel, err)
		}
		if err := WriteFile(w.root, rel, []byte("x"), 0o644); !errors.Is(err, ErrBadPath) {
			t.Errorf("WriteFile(%q): got %v, want ErrBadPath", rel, err)
		}
	}
	if _, err := ReadFile("", "x"); !errors.Is(err, ErrBadPath) {
		t.Errorf("ReadFile with no root: got %v, want ErrBadPath", err)
	}
	w.untouched(t)
}

func TestSpecialFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := unix.Mkfifo(filepath.Join(w.root, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, rel string
		read      error
		write     error
	}{
		{"named pipe does not hang", "pipe", ErrNotRegular, ErrNotRegular},
		{"folder", "notes", ErrNotRegular, ErrNotRegular},
		{"missing file", "nope.md", fs.ErrNotExist, nil},
		{"file used as a folder", "notes/inside.md/x", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := filepath.FromSlash(tc.rel)
			_, err := ReadFile(w.root, rel)
			if tc.read != nil && !errors.Is(err, tc.read) || err == nil {
				t.Errorf("ReadFile(%q): got %v, want %v", rel, err, tc.read)
			}
			if tc.name == "missing file" {
				return // writing it is the normal case
			}
			err = WriteFile(w.root, rel, []byte("x"), 0o644)
			if tc.write != nil && !errors.Is(err, tc.write) || err == nil {
				t.Errorf("WriteFile(%q): got %v, want %v", rel, err, tc.write)
			}
		})
	}
}

func TestRootMayBeALink(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	alias := filepath.Join(t.TempDir(), "alias")
	link(t, w.root, alias)
	if err := WriteFile(alias, "MEMORY.md", []byte("ok"), 0o644); err != nil {
		t.Fatalf("WriteFile through a trusted root link: %v", err)
	}
	if b, err := ReadFile(alias, "MEMORY.md"); err != nil || string(b) != "ok" {
		t.Errorf("got %q, %v; want %q", b, err, "ok")
	}
}

func BenchmarkWriteFile(b *testing.B) {
	root := b.TempDir()
	data := make([]byte, 4096)
	for b.Loop() {
		if err := WriteFile(root, filepath.Join("a", "MEMORY.md"), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
