//go:build unix

package mounts

import (
	"github.com/berth-app/berth/docker/dockertest/need"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckWritableTrees covers the rule against the symlink race: no mount
// inside a folder a sandbox can write, no read-write mount holding another.
func TestCheckWritableTrees(t *testing.T) {
	t.Parallel()
	tr := buildTree(t)
	work := filepath.Join(tr.projects, "work")
	group := filepath.Join(tr.projects, "app")
	rwOut := Source{Path: work, What: `the read-write mount "work" of group "a"`, Write: true}
	roApp := Source{Path: group, What: `the read-only mount "app" of group "b"`}
	symlink(t, filepath.Join(tr.projects, "notes.txt"), filepath.Join(work, "out")) // planted by a sandbox, pointing outside
	symlink(t, filepath.Join(work, "out"), filepath.Join(tr.projects, "via"))
	groupDir := Source{Path: filepath.Join(tr.projects, "ro"), What: `the folder of group "c"`, Write: true}
	cases := []struct {
		name     string
		req      Request
		sources  []Source
		wantRule string
		wantWhy  []string
	}{
		{"inside another group's rw mount", Request{HostPath: work + "/x"}, []Source{rwOut}, RuleInsideWritable,
			[]string{`lies inside "` + work + `"`, `read-write mount "work" of group "a"`, "mount \"" + work + "\" itself"}},
		{"rw inside a rw mount", Request{HostPath: work + "/x", Write: true}, []Source{rwOut}, RuleInsideWritable, nil},
		{"inside a group folder", Request{HostPath: tr.projects + "/ro/x"}, []Source{groupDir}, RuleInsideWritable, []string{`the folder of group "c"`}},
		{"the rw folder itself, read-only", Request{HostPath: work}, []Source{rwOut}, RuleOK, nil},
		{"the rw folder itself, read-write", Request{HostPath: work, Name: "w2", Write: true}, []Source{rwOut}, RuleOK, nil},
		{"a sibling with a common prefix", Request{HostPath: tr.projects + "/work2"}, []Source{rwOut}, RuleOK, nil},
		{"inside a read-only mount", Request{HostPath: group + "/sub"}, []Source{roApp}, RuleOK, nil},
		{"read-write over another mount", Request{HostPath: tr.projects, Name: "p", Write: true}, []Source{roApp}, RuleHoldsMount,
			[]string{`holds "` + group + `"`, `read-only mount "app" of group "b"`, "mount it read-only"}},
		{"read-only over another mount", Request{HostPath: tr.projects, Name: "p"}, []Source{roApp}, RuleOK, nil},
		{"reached through a link", Request{HostPath: "~/projects/worklink/x"}, []Source{rwOut}, RuleInsideWritable, nil},
		{"a link inside a rw mount leading out of it", Request{HostPath: "~/projects/work/out", Name: "o"}, []Source{rwOut}, RuleInsideWritable,
			[]string{`the path to it goes through "` + work + `/out"`}},
		{"a link leading through a link inside a rw mount", Request{HostPath: "~/projects/via", Name: "o"}, []Source{rwOut}, RuleInsideWritable,
			[]string{`goes through "` + work + `/out"`}},
		{"writable tree given through a link", Request{HostPath: work + "/x"}, []Source{{Path: tr.projects + "/worklink", What: "w", Write: true}}, RuleInsideWritable, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := tr.policy()
			p.Sources = c.sources
			d := Check(c.req, p)
			if d.Rule != c.wantRule {
				t.Fatalf("got rule %q (%s), want %q", d.Rule, d.Reason, c.wantRule)
			}
			for _, w := range c.wantWhy {
				if !strings.Contains(d.Reason, w) {
					t.Errorf("reason %q does not say %q", d.Reason, w)
				}
			}
		})
	}
}

// TestCheckWritableBindMount reaches a writable folder through a host bind
// mount, which resolving links cannot see: identity catches it.
func TestCheckWritableBindMount(t *testing.T) {
	tr := buildTree(t)
	work := filepath.Join(tr.projects, "work")
	alias := filepath.Join(tr.base, "bindview")
	mkdir(t, alias)
	err := unix.Mount(work, alias, "", unix.MS_BIND, "")
	need.Require(t, err == nil, "bind mounts need root: "+errString(err))
	t.Cleanup(func() { _ = unix.Unmount(alias, unix.MNT_DETACH) })
	p := tr.policy()
	p.Sources = []Source{{Path: work, What: "the rw mount", Write: true}}
	d := Check(Request{HostPath: alias + "/x"}, p)
	if d.Rule != RuleInsideWritable || !strings.Contains(d.Reason, "reached another way") {
		t.Fatalf("got rule %q (%s), want %q naming the other way", d.Rule, d.Reason, RuleInsideWritable)
	}
}

// TestRecheckWritableTrees: a mount that was fine when added is refused at
// the next start once a read-write mount around it appears (the other way
// round is refused at add; a mode change or an old database can still
// produce it).
func TestRecheckWritableTrees(t *testing.T) {
	t.Parallel()
	tr := buildTree(t)
	p := tr.policy()
	d := Check(Request{HostPath: "~/projects/work/x"}, p)
	if !d.Allowed {
		t.Fatalf("Check: %s", d.Reason)
	}
	p.Sources = []Source{{Path: filepath.Join(tr.projects, "work"), What: `the read-write mount "w" of group "g"`, Write: true}}
	if got := Recheck(d, p); got.Allowed || got.Rule != RuleInsideWritable {
		t.Errorf("Recheck: got rule %q (%s), want %q", got.Rule, got.Reason, RuleInsideWritable)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
