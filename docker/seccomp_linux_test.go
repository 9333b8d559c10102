package docker

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var updateSeccomp = flag.Bool("update-seccomp", false, "rewrite docker/seccomp.json from Docker's default profile")

// deriveProfile is Docker's default profile less forbiddenSyscalls, with
// personality(2) allowed only for allowedPersonas.
func deriveProfile() *seccomp.Seccomp {
	p := seccomp.DefaultProfile()
	var kept []*seccomp.Syscall
	for _, sc := range p.Syscalls {
		names := slices.DeleteFunc(slices.Clone(sc.Names), func(n string) bool { return slices.Contains(forbiddenSyscalls, n) })
		if len(names) == 0 {
			continue
		}
		if slices.Contains(names, "personality") {
			if len(names) != 1 || len(sc.Args) != 1 || sc.Args[0].Op != specs.OpEqualTo || !slices.Contains(allowedPersonas, sc.Args[0].Value) {
				continue
			}
		}
		sc.Names = names
		kept = append(kept, sc)
	}
	p.Syscalls = kept
	return p
}

func encodeProfile(t *testing.T, p *seccomp.Seccomp) []byte {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestSeccompProfileIsCurrent pins seccomp.json to what deriveProfile makes
// of the moby/profiles version in go.mod.
func TestSeccompProfileIsCurrent(t *testing.T) {
	want := encodeProfile(t, deriveProfile())
	if *updateSeccomp {
		if err := os.WriteFile("seccomp.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(seccompProfile, want) {
		t.Fatal("docker/seccomp.json is stale or was edited by hand: run `go test ./docker -run TestSeccompProfileIsCurrent -update-seccomp`")
	}
}

// allowedBy lists, per syscall name, the allow rules of a profile.
func allowedBy(p *seccomp.Seccomp) map[string][]*seccomp.Syscall {
	out := map[string][]*seccomp.Syscall{}
	for _, sc := range p.Syscalls {
		if sc.Action != specs.ActAllow {
			continue
		}
		for _, n := range sc.Names {
			out[n] = append(out[n], sc)
		}
	}
	return out
}

func TestSeccompProfileTakesAwayOnlyTheForbiddenCalls(t *testing.T) {
	t.Parallel()
	var berth seccomp.Seccomp
	if err := json.Unmarshal(seccompProfile, &berth); err != nil {
		t.Fatalf("seccomp.json: %v", err)
	}
	if berth.DefaultAction != specs.ActErrno || berth.DefaultErrnoRet == nil || *berth.DefaultErrnoRet != 1 {
		t.Fatalf("default action: got %s errno %v, want SCMP_ACT_ERRNO with EPERM", berth.DefaultAction, berth.DefaultErrnoRet)
	}
	got, docker := allowedBy(&berth), allowedBy(seccomp.DefaultProfile())
	for _, name := range forbiddenSyscalls {
		t.Run("denied "+name, func(t *testing.T) {
			if rules := got[name]; len(rules) > 0 {
				t.Errorf("%s is allowed by %d rules (first: %+v)", name, len(rules), rules[0])
			}
		})
	}
	t.Run("personality only for the default persona", func(t *testing.T) {
		var values []uint64
		for _, sc := range got["personality"] {
			if len(sc.Args) != 1 || sc.Args[0].Op != specs.OpEqualTo || sc.Includes != nil {
				t.Errorf("personality rule with args %+v includes %+v", sc.Args, sc.Includes)
				continue
			}
			values = append(values, sc.Args[0].Value)
		}
		slices.Sort(values)
		if !slices.Equal(values, allowedPersonas) {
			t.Errorf("personality allowed for %#x, want %#x", values, allowedPersonas)
		}
	})
	// Everything else Docker allows is allowed by the very same rules.
	for _, name := range []string{"read", "write", "openat", "execve", "clone", "clone3", "kill", "wait4", "mmap", "socket", "setsid", "chmod", "fallocate"} {
		t.Run("kept "+name, func(t *testing.T) {
			if len(got[name]) == 0 {
				t.Errorf("%s is no longer allowed", name)
			}
		})
	}
	for name, rules := range docker {
		if slices.Contains(forbiddenSyscalls, name) || name == "personality" {
			continue
		}
		if len(got[name]) != len(rules) {
			t.Errorf("%s: %d allow rules, Docker's default has %d", name, len(got[name]), len(rules))
		}
	}
	for name := range got {
		if _, ok := docker[name]; !ok {
			t.Errorf("%s is allowed by Berth but not by Docker's default", name)
		}
	}
}
