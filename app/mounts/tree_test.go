//go:build unix

package mounts

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// tree is a small world on disk: a fake home with secrets and links,
// Berth's own folders, and sockets.
type tree struct {
	base     string // resolved temp folder holding everything
	home     string // fake home
	projects string // home/projects
	data     string // Berth's data folder (protected)
	config   string // Berth's config folder (protected)
	run      string // sockets and pipes
	socket   bool   // run/docker.sock and run/other.sock are real sockets
}

// policy returns the policy the tree is meant for.
func (tr tree) policy() Policy {
	return Policy{
		Home:          tr.home,
		ProtectedDirs: []string{tr.data, tr.config},
		ExistingNames: []string{"taken"},
		DockerSockets: []string{filepath.Join(tr.run, "engine", "podman.sock")},
	}
}

// buildTree creates the tree in a fresh temp folder. Keep blocked words out
// of the calling test's name: the temp folder is named after it.
func buildTree(t testing.TB) tree {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := tree{
		base:     base,
		home:     filepath.Join(base, "home"),
		projects: filepath.Join(base, "home", "projects"),
		data:     filepath.Join(base, "berth", "data"),
		config:   filepath.Join(base, "berth", "config"),
		run:      filepath.Join(base, "run"),
	}
	dirs := []string{
		"home/.ssh", "home/.aws", "home/.colima/default",
		"home/projects/app/sub", "home/projects/.envrc", "home/projects/my-credentials",
		"home/projects/prod.env.d", "home/projects/.SSH", "home/projects/my folder",
		"home/projects/taken", "home/projects/work/x", "home/projects/work2",
		"home/projects/ro/x", "home/projects/secret-stuff",
		"berth/data/groups/g1", "berth/config", "run/engine",
	}
	for _, d := range dirs {
		mkdir(t, filepath.Join(base, d))
	}
	files := []string{
		"home/.ssh/id_rsa", "home/.aws/credentials", "home/.colima/default/docker.sock",
		"home/projects/app/main.go", "home/projects/app/.env", "home/projects/app/sub/.envrc",
		"home/projects/notes.txt", "home/projects/server.pem", "run/engine/podman.sock",
	}
	for _, f := range files {
		writeFile(t, filepath.Join(base, f), "x")
	}
	links := map[string]string{
		"home/link-to-ssh":       ".ssh",
		"home/projects/.kube":    "app",
		"home/projects/etc-link": "/etc",
		"home/projects/up":       "..",
		"home/projects/loop":     "loop",
		"home/projects/dangling": "nowhere",
		"home/projects/worklink": "work",
		"alias":                  "berth/data",
	}
	for name, target := range links {
		symlink(t, target, filepath.Join(base, name))
	}
	if err := unix.Mkfifo(filepath.Join(tr.run, "fifo"), 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	tr.socket = listen(t, filepath.Join(tr.run, "docker.sock")) && listen(t, filepath.Join(tr.run, "other.sock"))
	return tr
}

// listen creates a unix socket file at p for the test's lifetime.
func listen(t testing.TB, p string) bool {
	t.Helper()
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Logf("unix socket %s: %v", p, err)
		return false
	}
	t.Cleanup(func() { l.Close() })
	return true
}

func mkdir(t testing.TB, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}
