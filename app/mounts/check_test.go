//go:build unix

package mounts

import (
	"fmt"
	"github.com/berth-app/berth/docker/dockertest/need"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkCase is one row of the validation table. Paths starting with "@"
// are relative to the tree's base folder.
type checkCase struct {
	name     string
	req      Request
	pol      func(tr tree, p *Policy) // adjusts the tree's policy
	wantRule string
	wantHost string // "@…" or absolute; checked when set
	wantName string // checked when set
	wantWhy  string // a substring of Reason; checked when set
}

func TestCheck(t *testing.T) {
	tr := buildTree(t)
	long := strings.Repeat("a", MaxNameLen)
	cases := []checkCase{
		// 1. name rules
		{name: "dot dot name", req: Request{HostPath: "~/projects/app", Name: ".."}, wantRule: RuleName},
		{name: "dot name", req: Request{HostPath: "~/projects/app", Name: "."}, wantRule: RuleName},
		{name: "colon in name", req: Request{HostPath: "~/projects/app", Name: "a:b"}, wantRule: RuleName, wantWhy: `":"`},
		{name: "slash in name", req: Request{HostPath: "~/projects/app", Name: "a/b"}, wantRule: RuleName, wantWhy: "slash"},
		{name: "backslash in name", req: Request{HostPath: "~/projects/app", Name: `a\b`}, wantRule: RuleName, wantWhy: "slash"},
		{name: "space in name", req: Request{HostPath: "~/projects/app", Name: "a b"}, wantRule: RuleName},
		{name: "name too long", req: Request{HostPath: "~/projects/app", Name: long + "a"}, wantRule: RuleName, wantWhy: "too long"},
		{name: "name at the length limit", req: Request{HostPath: "~/projects/app", Name: long}, wantRule: RuleOK, wantName: long},
		{name: "duplicate name", req: Request{HostPath: "~/projects/app", Name: "taken"}, wantRule: RuleName, wantWhy: "already used"},
		{name: "name differing in case only", req: Request{HostPath: "~/projects/app", Name: "Taken"}, wantRule: RuleOK, wantName: "Taken"},
		{name: "name checked before the path", req: Request{HostPath: "~/nope", Name: ".."}, wantRule: RuleName},
		{name: "default name from base name", req: Request{HostPath: "~/projects/app"}, wantRule: RuleOK, wantName: "app", wantHost: "@home/projects/app"},
		{name: "default name from resolved base name", req: Request{HostPath: "~/projects/worklink"}, wantRule: RuleOK, wantName: "work", wantHost: "@home/projects/work"},
		{name: "default name invalid", req: Request{HostPath: "~/projects/my folder"}, wantRule: RuleName, wantWhy: "--as NAME"},
		{name: "default name duplicate", req: Request{HostPath: "~/projects/taken"}, wantRule: RuleName, wantWhy: "already used"},

		// 2. host path
		{name: "missing path", req: Request{HostPath: "~/nope"}, wantRule: RuleMissing, wantWhy: "does not exist"},
		{name: "empty path", req: Request{}, wantRule: RuleMissing},
		{name: "other user's home", req: Request{HostPath: "~bob/x"}, wantRule: RuleMissing, wantWhy: "full path"},
		{name: "dangling link", req: Request{HostPath: "~/projects/dangling"}, wantRule: RuleMissing},
		{name: "link loop", req: Request{HostPath: "~/projects/loop"}, wantRule: RuleMissing},
		{name: "tilde expanded", req: Request{HostPath: "~/projects/work", Name: "w"}, wantRule: RuleOK, wantHost: "@home/projects/work"},
		{name: "path cleaned", req: Request{HostPath: "@/home/projects/./app/../work/", Name: "w"}, wantRule: RuleOK, wantHost: "@home/projects/work"},

		// 3. blocked patterns
		{name: "ssh folder", req: Request{HostPath: "~/.ssh"}, wantRule: RuleBlockedPattern, wantWhy: `contains ".ssh", which holds secrets`},
		{name: "file inside ssh", req: Request{HostPath: "~/.ssh/id_rsa"}, wantRule: RuleBlockedPattern},
		{name: "innocent link to ssh", req: Request{HostPath: "~/link-to-ssh"}, wantRule: RuleBlockedPattern, wantHost: "@home/.ssh"},
		{name: "link named like a secret", req: Request{HostPath: "~/projects/.kube"}, wantRule: RuleBlockedPattern, wantHost: "@home/projects/app", wantWhy: ".kube"},
		{name: "component containing .env", req: Request{HostPath: "~/projects/.envrc"}, wantRule: RuleBlockedPattern, wantWhy: `matches ".env"`},
		{name: "component containing credentials", req: Request{HostPath: "~/projects/my-credentials"}, wantRule: RuleBlockedPattern},
		{name: "component containing .env in the middle", req: Request{HostPath: "~/projects/prod.env.d"}, wantRule: RuleBlockedPattern},
		{name: "upper case .SSH", req: Request{HostPath: "~/projects/.SSH"}, wantRule: RuleBlockedPattern},
		{name: "env file", req: Request{HostPath: "~/projects/app/.env"}, wantRule: RuleBlockedPattern},
		{name: "secret-looking single file", req: Request{HostPath: "~/projects/server.pem"}, wantRule: RuleBlockedPattern, wantWhy: "secret file"},
		{
			name: "user pattern ignores case", req: Request{HostPath: "~/projects/secret-stuff"}, wantRule: RuleBlockedPattern, wantWhy: "your settings",
			pol: func(_ tree, p *Policy) { p.ExtraBlocked = []string{"Secret-Stuff"} },
		},
		{
			name: "user glob pattern", req: Request{HostPath: "~/projects/notes.txt"}, wantRule: RuleBlockedPattern,
			pol: func(_ tree, p *Policy) { p.ExtraBlocked = []string{"*.TXT"} },
		},
		{
			name: "user path pattern blocks inside", req: Request{HostPath: "~/projects/work/x"}, wantRule: RuleBlockedPattern,
			pol: func(_ tree, p *Policy) { p.ExtraBlocked = []string{"~/projects/work"} },
		},
		{
			name: "user path pattern blocks a parent", req: Request{HostPath: "~/projects", Name: "p"}, wantRule: RuleBlockedPattern,
			pol: func(_ tree, p *Policy) { p.ExtraBlocked = []string{"~/projects/work"} },
		},
		{
			name: "empty user pattern ignored", req: Request{HostPath: "~/projects/app"}, wantRule: RuleOK,
			pol: func(_ tree, p *Policy) { p.ExtraBlocked = []string{"", "  "} },
		},

		// 4. never mountable
		{name: "root of the computer", req: Request{HostPath: "/"}, wantRule: RuleRoot},
		{name: "home itself", req: Request{HostPath: "~"}, wantRule: RuleHome, wantWhy: "your home folder"},
		{name: "home with a slash", req: Request{HostPath: "~/", Name: "h"}, wantRule: RuleHome},
		{name: "parent of home", req: Request{HostPath: "@", Name: "b"}, wantRule: RuleHome, wantWhy: "contains your home folder"},
		{name: "link to home", req: Request{HostPath: "~/projects/up"}, wantRule: RuleHome, wantHost: "@home"},
		{name: "link to etc", req: Request{HostPath: "~/projects/etc-link"}, wantRule: RuleSystem},
		{name: "data dir", req: Request{HostPath: "@/berth/data"}, wantRule: RuleBerthData},
		{name: "inside the data dir", req: Request{HostPath: "@/berth/data/groups/g1"}, wantRule: RuleBerthData, wantWhy: "is inside"},
		{name: "parent of the data dir", req: Request{HostPath: "@/berth"}, wantRule: RuleBerthData, wantWhy: "contains"},
		{name: "config dir", req: Request{HostPath: "@/berth/config"}, wantRule: RuleBerthData},
		{name: "link to the data dir", req: Request{HostPath: "@/alias", Name: "a"}, wantRule: RuleBerthData, wantHost: "@berth/data"},
		{
			name: "data dir given as a link", req: Request{HostPath: "@/berth/data/groups"}, wantRule: RuleBerthData,
			pol: func(tr tree, p *Policy) { p.ProtectedDirs = []string{filepath.Join(tr.base, "alias")} },
		},
		{name: "docker socket default location", req: Request{HostPath: "~/.colima/default"}, wantRule: RuleDockerSocket},
		{name: "folder holding docker sockets", req: Request{HostPath: "~/.colima"}, wantRule: RuleDockerSocket},
		{name: "file named docker.sock", req: Request{HostPath: "~/.colima/default/docker.sock"}, wantRule: RuleDockerSocket},
		{name: "folder holding a listed socket", req: Request{HostPath: "@/run/engine"}, wantRule: RuleDockerSocket, wantWhy: "podman.sock"},
		{name: "listed socket", req: Request{HostPath: "@/run/engine/podman.sock"}, wantRule: RuleDockerSocket},
		{name: "named pipe", req: Request{HostPath: "@/run/fifo"}, wantRule: RuleNotAFolder, wantWhy: "named pipe"},
		{name: "regular file", req: Request{HostPath: "~/projects/notes.txt"}, wantRule: RuleOK, wantName: "notes.txt", wantHost: "@home/projects/notes.txt"},

		// 5. allowed roots
		{name: "inside a root", req: Request{HostPath: "~/projects/work/x"}, pol: withRoots, wantRule: RuleOK},
		{name: "inside a root with write", req: Request{HostPath: "~/projects/work/x", Write: true}, pol: withRoots, wantRule: RuleOK},
		{name: "the root itself", req: Request{HostPath: "~/projects/work", Write: true}, pol: withRoots, wantRule: RuleOK},
		{name: "prefix is not inside", req: Request{HostPath: "~/projects/work2"}, pol: withRoots, wantRule: RuleAllowedRoots},
		{name: "outside every root", req: Request{HostPath: "~/projects/app"}, pol: withRoots, wantRule: RuleAllowedRoots},
		{name: "read-only root read", req: Request{HostPath: "~/projects/ro/x", Name: "r"}, pol: withRoots, wantRule: RuleOK},
		{name: "read-only root write refused", req: Request{HostPath: "~/projects/ro/x", Name: "r", Write: true}, pol: withRoots, wantRule: RuleWriteNotAllowed, wantWhy: "read-only"},
		{
			name: "root given as a link", req: Request{HostPath: "~/projects/work/x"}, wantRule: RuleOK,
			pol: func(tr tree, p *Policy) { p.AllowedRoots = []Root{{Path: "~/projects/worklink"}} },
		},
	}
	if tr.socket {
		cases = append(cases,
			checkCase{name: "docker socket", req: Request{HostPath: "@/run/docker.sock"}, wantRule: RuleDockerSocket},
			checkCase{name: "other socket", req: Request{HostPath: "@/run/other.sock"}, wantRule: RuleNotAFolder, wantWhy: "socket"},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCheckCase(t, tr, tc)
		})
	}
	t.Run("sockets", func(t *testing.T) {
		need.Require(t, tr.socket, "cannot create unix sockets in the temp folder")
	})
}

// withRoots allows ~/projects/work read-write and ~/projects/ro read-only.
func withRoots(_ tree, p *Policy) {
	p.AllowedRoots = []Root{{Path: "~/projects/work", AllowWrite: true}, {Path: "~/projects/ro"}}
}

// runCheckCase runs one table row.
func runCheckCase(t *testing.T, tr tree, tc checkCase) {
	t.Helper()
	p := tr.policy()
	if tc.pol != nil {
		tc.pol(tr, &p)
	}
	req := tc.req
	if strings.HasPrefix(req.HostPath, "@") {
		req.HostPath = tr.base + req.HostPath[1:]
	}
	d := Check(req, p)
	if d.Rule != tc.wantRule {
		t.Fatalf("Check(%+v): got rule %q (%s), want %q", req, d.Rule, d.Reason, tc.wantRule)
	}
	if d.Allowed != (tc.wantRule == RuleOK) {
		t.Errorf("got Allowed %v, want %v", d.Allowed, tc.wantRule == RuleOK)
	}
	if d.Reason == "" {
		t.Errorf("got an empty reason")
	}
	if tc.wantWhy != "" && !strings.Contains(d.Reason, tc.wantWhy) {
		t.Errorf("got reason %q, want it to mention %q", d.Reason, tc.wantWhy)
	}
	if tc.wantHost != "" {
		want := tc.wantHost
		if strings.HasPrefix(want, "@") {
			want = filepath.Join(tr.base, want[1:])
		}
		if d.Host != want {
			t.Errorf("got host %q, want %q", d.Host, want)
		}
	}
	if tc.wantName != "" && d.Name != tc.wantName {
		t.Errorf("got name %q, want %q", d.Name, tc.wantName)
	}
	if d.Allowed {
		if d.Container != ContainerRoot+"/"+d.Name {
			t.Errorf("got container %q, want %q", d.Container, ContainerRoot+"/"+d.Name)
		}
		if d.ReadOnly != !req.Write {
			t.Errorf("got ReadOnly %v, want %v", d.ReadOnly, !req.Write)
		}
	}
}

// TestCheckSystemFolders uses the real system folders. Some are links on
// the host (/lib -> usr/lib on Debian, /etc -> private/etc on macOS); the
// rule must trigger after resolution too. A folder this host lacks must
// be reported missing instead.
func TestCheckSystemFolders(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	paths := []string{
		"/etc", "/etc/hostname", "/proc", "/proc/self", "/proc/self/cwd", "/sys", "/dev", "/dev/null",
		"/run", "/var/run", "/boot", "/usr", "/usr/share", "/bin", "/sbin", "/lib", "/lib64",
		"/var/lib/docker", "/var", "/var/lib",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			want := RuleSystem
			if _, err := filepath.EvalSymlinks(p); err != nil {
				want = RuleMissing
			}
			d := Check(Request{HostPath: p, Name: "sys"}, Policy{Home: home})
			if p == "/proc/self/cwd" {
				// The test's working folder: fine unless it is itself forbidden.
				if !d.Allowed && d.Rule == RuleSystem {
					t.Errorf("got rule %q (%s) for the working folder", d.Rule, d.Reason)
				}
				return
			}
			if d.Rule != want {
				t.Errorf("Check(%q): got rule %q (%s), want %q", p, d.Rule, d.Reason, want)
			}
		})
	}
}

// TestCheckPlacesWithoutDisk covers forbidden places this host may lack,
// straight through the path rules.
func TestCheckPlacesWithoutDisk(t *testing.T) {
	t.Parallel()
	home := "/nonexistent-home/u"
	cases := []struct {
		path, want string
	}{
		{"/var/lib/docker/volumes/x", RuleSystem},
		{"/var/lib/containerd", RuleSystem},
		{"/boot/efi", RuleSystem},
		{"/lib/modules", RuleSystem},
		{"/etc/shadow", RuleSystem},
		{"/System/Library", RuleSystem},
		{"/nonexistent-home", RuleHome},
		{"/nonexistent-home/u", RuleHome},
		{"/nonexistent-home/u/.colima/default", RuleDockerSocket},
		{"/nonexistent-home/u/.docker/run", RuleDockerSocket},
		{"/nonexistent-home/u/.orbstack", RuleDockerSocket},
		{"/srv/docker.sock", RuleDockerSocket},
		{"/srv/Docker.raw.sock", RuleDockerSocket},
		{"/", RuleRoot},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			rule, why := checkPlaces(tc.path, home, Policy{})
			if rule != tc.want {
				t.Errorf("checkPlaces(%q): got %q (%s), want %q", tc.path, rule, why, tc.want)
			}
		})
	}
}

// TestCheckDockerSocketPath covers /var/run/docker.sock whether or not this
// host has one: missing comes first when it does not exist.
func TestCheckDockerSocketPath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/var/run/docker.sock", "/run/docker.sock"} {
		want := RuleDockerSocket
		if _, err := os.Stat(p); err != nil {
			want = RuleMissing
		}
		d := Check(Request{HostPath: p}, Policy{Home: t.TempDir()})
		if d.Rule != want {
			t.Errorf("Check(%q): got rule %q (%s), want %q", p, d.Rule, d.Reason, want)
		}
	}
}

func TestCheckEmptyHomeUsesOS(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	need.Require(t, err == nil && home != "", "no home folder for this user")
	_, err = os.Stat(home)
	need.Require(t, err == nil, fmt.Sprintf("home folder %q does not exist", home))
	d := Check(Request{HostPath: "~"}, Policy{})
	if d.Allowed || (d.Rule != RuleHome && d.Rule != RuleSystem) {
		t.Errorf("Check(~): got rule %q (%s), want %q", d.Rule, d.Reason, RuleHome)
	}
}

func TestRecheck(t *testing.T) {
	t.Parallel()
	tr := buildTree(t)
	p := tr.policy()
	d := Check(Request{HostPath: "~/projects/work", Write: true}, p)
	if !d.Allowed {
		t.Fatalf("Check: %s", d.Reason)
	}
	p.ExistingNames = append(p.ExistingNames, d.Name)
	if got := Recheck(d, p); !got.Allowed || got.Host != d.Host || got.ReadOnly {
		t.Fatalf("Recheck unchanged: got %+v, want allowed read-write at %q", got, d.Host)
	}
	// The sandbox swaps the folder for a link to somewhere harmless-looking.
	if err := os.Rename(d.Host, d.Host+".old"); err != nil {
		t.Fatal(err)
	}
	symlink(t, "app", d.Host)
	if got := Recheck(d, p); got.Allowed || got.Rule != RuleChanged {
		t.Errorf("Recheck after swap to a plain folder: got rule %q (%s), want %q", got.Rule, got.Reason, RuleChanged)
	}
	// Or to a secret folder.
	if err := os.Remove(d.Host); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(tr.home, ".ssh"), d.Host)
	if got := Recheck(d, p); got.Allowed || got.Rule != RuleBlockedPattern {
		t.Errorf("Recheck after swap to .ssh: got rule %q (%s), want %q", got.Rule, got.Reason, RuleBlockedPattern)
	}
	// Or the policy now forbids writing there.
	withRoots(tr, &p)
	p.AllowedRoots[0].AllowWrite = false
	if err := os.Remove(d.Host); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(d.Host+".old", d.Host); err != nil {
		t.Fatal(err)
	}
	if got := Recheck(d, p); got.Allowed || got.Rule != RuleWriteNotAllowed {
		t.Errorf("Recheck after settings change: got rule %q (%s), want %q", got.Rule, got.Reason, RuleWriteNotAllowed)
	}
}
