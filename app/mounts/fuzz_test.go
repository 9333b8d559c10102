//go:build unix

package mounts

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzCheck throws paths, names and modes at Check over a small tree with a
// fake home full of secrets and links, and checks that whatever is allowed
// is safe to mount. A HostPath starting with "@" is relative to the tree.
// Bit 0 of mode turns allowed roots on, bit 1 adds user patterns, bit 2
// drops the name.
//
//	go test -run='^$' -fuzz=FuzzCheck -fuzztime=60s ./app/mounts/
func FuzzCheck(f *testing.F) {
	tr := buildTree(f)
	seeds := []string{
		"~/projects/app", "~/projects/app/", "~/.ssh", "~/.ssh/id_rsa", "~/link-to-ssh",
		"~/projects/.kube", "~/projects/.kube/../work", "~/projects/up/projects", "~/projects/up",
		"~/projects/etc-link", "~/projects/etc-link/..", "~/projects/worklink/x", "~/projects/loop",
		"~/projects/notes.txt", "~/projects/server.pem", "~/projects/.envrc", "~/projects/.SSH",
		"~/.colima/default", "~", "~/", "~/..", "@", "@/alias", "@/alias/groups", "@/berth",
		"@/berth/config", "@/run", "@/run/docker.sock", "@/run/other.sock", "@/run/fifo",
		"@/run/engine", "/", "/etc", "/proc/self/root", "/proc/self/cwd", "/dev/null", "/lib",
		"/var/run/docker.sock", "/tmp", ".", "..", "../../..", "testdata", "",
	}
	names := []string{"", "x", "..", "a:b", "taken", "notes.txt", strings.Repeat("n", 65)}
	for i, s := range seeds {
		f.Add(s, names[i%len(names)], i%2 == 0, uint8(i%8))
	}
	f.Fuzz(func(t *testing.T, hostPath, name string, write bool, mode uint8) {
		if strings.HasPrefix(hostPath, "@") {
			hostPath = tr.base + hostPath[1:]
		}
		p := tr.policy()
		if mode&1 != 0 {
			withRoots(tr, &p)
		}
		if mode&2 != 0 {
			p.ExtraBlocked = []string{"work2", "~/projects/ro", "*.TXT"}
		}
		if mode&4 != 0 {
			name = "" // take the name from the folder: keeps the fuzzer on paths
		}
		req := Request{HostPath: hostPath, Name: name, Write: write}
		d := Check(req, p)
		if d.Reason == "" || d.Rule == "" {
			t.Fatalf("Check(%+v): got empty rule or reason: %+v", req, d)
		}
		if d.Allowed != (d.Rule == RuleOK) {
			t.Fatalf("Check(%+v): got Allowed %v with rule %q", req, d.Allowed, d.Rule)
		}
		if d.Allowed {
			assertSafe(t, tr, p, req, d)
		}
	})
}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// assertSafe checks, independently of Check's own code, everything an
// allowed decision promises.
func assertSafe(t *testing.T, tr tree, p Policy, req Request, d Decision) {
	t.Helper()
	h := d.Host
	if !filepath.IsAbs(h) || filepath.Clean(h) != h {
		t.Fatalf("%+v: host %q is not absolute and clean", req, h)
	}
	fi, err := os.Lstat(h)
	if err != nil {
		t.Fatalf("%+v: host %q: %v", req, h, err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		t.Fatalf("%+v: host %q is a %v", req, h, fi.Mode().Type())
	}
	if fi.Mode().IsRegular() && LooksSecret(filepath.Base(h)) {
		t.Fatalf("%+v: host %q looks like a secret file", req, h)
	}
	for a := h; a != "/"; a = filepath.Dir(a) {
		if fi, err := os.Lstat(a); err != nil || fi.Mode()&fs.ModeSymlink != 0 {
			t.Fatalf("%+v: host %q has a symlink or missing component %q", req, h, a)
		}
	}
	if !validName.MatchString(d.Name) || d.Name == "." || d.Name == ".." || slices.Contains(p.ExistingNames, d.Name) {
		t.Fatalf("%+v: bad name %q", req, d.Name)
	}
	if d.Container != "/workspace/extra/"+d.Name || d.ReadOnly != !req.Write {
		t.Fatalf("%+v: got container %q read-only %v", req, d.Container, d.ReadOnly)
	}
	blocked := DefaultBlockedPatterns()
	if len(p.ExtraBlocked) > 0 {
		blocked = append(blocked, "work2")
		if strings.HasSuffix(strings.ToLower(h), ".txt") {
			t.Fatalf("%+v: host %q matches the blocked glob", req, h)
		}
	}
	for _, c := range strings.Split(strings.ToLower(h), "/") {
		for _, b := range blocked {
			if strings.Contains(c, b) {
				t.Fatalf("%+v: host %q has blocked component %q", req, h, c)
			}
		}
	}
	if h == "/" || h == tr.home || under(tr.home, h) {
		t.Fatalf("%+v: host %q is or holds the home folder", req, h)
	}
	forbidden := []string{tr.data, tr.config, filepath.Join(tr.home, ".colima"), filepath.Join(tr.run, "engine")}
	for _, s := range systemDirs {
		forbidden = append(forbidden, s)
		if r, err := filepath.EvalSymlinks(s); err == nil {
			forbidden = append(forbidden, r)
		}
	}
	for _, f := range forbidden {
		if under(h, f) || under(f, h) {
			t.Fatalf("%+v: host %q is, is inside or holds %q", req, h, f)
		}
	}
	if len(p.AllowedRoots) > 0 {
		work, ro := filepath.Join(tr.projects, "work"), filepath.Join(tr.projects, "ro")
		if !under(h, work) && (!under(h, ro) || req.Write) {
			t.Fatalf("%+v: host %q is outside the allowed roots for write=%v", req, h, req.Write)
		}
	}
	if len(p.ExtraBlocked) > 0 {
		if ro := filepath.Join(tr.projects, "ro"); under(h, ro) || under(ro, h) {
			t.Fatalf("%+v: host %q meets the blocked path %q", req, h, ro)
		}
	}
}

// under reports whether a is b or lies inside it, as plain strings.
func under(a, b string) bool {
	return a == b || b == "/" || strings.HasPrefix(a, b+"/")
}
