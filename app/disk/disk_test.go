package disk

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFloorLow(t *testing.T) {
	t.Parallel()
	const gib, mib = 1 << 30, 1 << 20
	cases := []struct {
		name  string
		floor Floor
		s     Space
		want  string
	}{
		{"big disk, plenty", Floor{}, Space{Avail: 100 * gib, Total: 1000 * gib, FreeInodes: 1e6, TotalInodes: 1e7}, ""},
		{"big disk: 2 GiB is the smaller floor", Floor{}, Space{Avail: 2*gib - 1, Total: 1000 * gib, FreeInodes: 1e6, TotalInodes: 1e7}, "2.0 GiB left"},
		{"big disk at exactly 2 GiB", Floor{}, Space{Avail: 2 * gib, Total: 1000 * gib, FreeInodes: 1e6, TotalInodes: 1e7}, ""},
		{"small disk: 5 % is the smaller floor", Floor{}, Space{Avail: 4 * mib, Total: 100 * mib, FreeInodes: 1000, TotalInodes: 10000}, "4.0 MiB left"},
		{"small disk above 5 %", Floor{}, Space{Avail: 6 * mib, Total: 100 * mib, FreeInodes: 1000, TotalInodes: 10000}, ""},
		{"inodes run out first", Floor{}, Space{Avail: 50 * mib, Total: 100 * mib, FreeInodes: 499, TotalInodes: 10000}, "499 files left"},
		{"no inode limit", Floor{}, Space{Avail: 50 * mib, Total: 100 * mib}, ""},
		{"configured floor", Floor{Bytes: 10 * mib, Percent: 50}, Space{Avail: 9 * mib, Total: 100 * mib}, "9.0 MiB left"},
		{"empty disk", Floor{}, Space{Avail: 0, Total: 100 * mib}, "0 B left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.floor.Low(c.s); got != c.want {
				t.Errorf("Low(%+v): got %q, want %q", c.s, got, c.want)
			}
		})
	}
}

func TestFreeReadsARealFilesystem(t *testing.T) {
	t.Parallel()
	s, err := Free(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s.Total == 0 || s.Avail > s.Total {
		t.Errorf("Free: got %+v, want a size and no more room than that", s)
	}
	if _, err := Free("/nonexistent/berth"); err == nil {
		t.Error("Free of a missing folder: want an error")
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "one"), make([]byte, 1000), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "two"), make([]byte, 24), 0o644))
	outside := t.TempDir()
	must(os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1<<20), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "link"))) // not followed
	got, err := Usage(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (FolderUsage{Files: 3, Folders: 2, Bytes: 1024, Complete: true}); got != want {
		t.Errorf("Usage: got %+v, want %+v", got, want)
	}
	if got, err := Usage(dir, 2); err != nil || got.Complete || got.Files+got.Folders != 2 {
		t.Errorf("Usage with a limit of 2: got %+v %v, want 2 entries, incomplete", got, err)
	}
	if _, err := Usage(filepath.Join(dir, "missing"), 0); err == nil {
		t.Error("Usage of a missing folder: want an error")
	}
}
