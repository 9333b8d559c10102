package ui

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

func TestMountRows(t *testing.T) {
	t.Parallel()
	stat := func(p string) error {
		if p == "/gone" {
			return os.ErrNotExist
		}
		return nil
	}
	got := MountRows([]assistant.Mount{
		{Name: "src", HostPath: "/home/me/src", ReadOnly: true, Masks: []string{".env", "id_rsa"}},
		{Name: "notes", HostPath: "/gone", ReadOnly: false},
	}, stat)
	want := []MountRow{
		{Name: "src", Host: "/home/me/src", Container: "/workspace/extra/src", Mode: ModeReadOnly, Masked: 2, Status: "OK"},
		{Name: "notes", Host: "/gone", Container: "/workspace/extra/notes", Mode: ModeReadWrite, Status: "Missing: the folder cannot be read, so the sandbox will not start", Problem: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\ngot  %+v\nwant %+v", got, want)
	}
	if s := got[0].Summary(); s != "Read-only · 2 secret files masked" {
		t.Errorf("summary: got %q", s)
	}
	if s := got[1].Summary(); s != "Read-write · 0 secret files masked" {
		t.Errorf("summary: got %q", s)
	}
	at := time.Date(2026, 12, 1, 20, 5, 0, 0, time.Local)
	changed := MountRows([]assistant.Mount{{Name: "src", HostPath: "/home/me/src", ReadOnly: true, Masks: []string{".env", "b.pem"}, MasksBefore: []string{".env", "a.key", "id_rsa"}, MasksChanged: at}}, nil)
	if s := changed[0].Summary(); s != "Read-only · 2 secret files masked · masks changed 1 Dec 20:05 (+1, −2)" {
		t.Errorf("summary after a change of masks: got %q", s)
	}
}

func accepted(masked ...string) assistant.MountCheck {
	return assistant.MountCheck{
		Decision: assistant.MountDecision{Allowed: true, Rule: assistant.MountRuleOK, Host: "/home/me/src/app", Name: "app", Container: "/workspace/extra/app", ReadOnly: true},
		Scan:     &assistant.MountScan{Masked: masked, Files: 1234, Bytes: 12_900_000},
	}
}

func TestCheckStateFrom(t *testing.T) {
	t.Parallel()
	many := make([]string, MaskedShown+3)
	for i := range many {
		many[i] = "f" + string(rune('a'+i)) + ".pem"
	}
	truncated := accepted()
	truncated.Scan.Truncated, truncated.Scan.TruncatedReason, truncated.Scan.Symlinks = true, "100000 files", []string{"a", "b"}
	refused := assistant.MountCheck{Decision: assistant.MountDecision{Rule: assistant.MountRuleHome, Reason: "the home folder holds your keys; mount a folder inside it"}}
	taken := assistant.MountCheck{Decision: assistant.MountDecision{Rule: assistant.MountRuleName, Reason: `the folder name "app" is already used; choose a mount name with --as NAME`}}
	tests := []struct {
		name  string
		write bool
		mc    assistant.MountCheck
		err   error
		want  CheckState
	}{
		{"accepted with secrets", false, accepted(".env", "keys/"), nil, CheckState{Path: "~/src/app", Allowed: true, Name: "app",
			Container: "/workspace/extra/app", Masked: []string{".env", "keys/"}, Size: "1,234 files · 12.3 MB"}},
		{"accepted, many secrets", true, accepted(many...), nil, CheckState{Path: "~/src/app", Write: true, Allowed: true, Name: "app",
			Container: "/workspace/extra/app", Masked: many[:MaskedShown], More: 3, Size: "1,234 files · 12.3 MB"}},
		{"scan stopped, links out", false, truncated, nil, CheckState{Path: "~/src/app", Allowed: true, Name: "app",
			Container: "/workspace/extra/app", Size: "1,234 files · 12.3 MB", Notes: []string{
				"The scan stopped early (100000 files): files beyond it were not checked for secrets.",
				"2 links point outside the folder; the sandbox sees them broken."}}},
		{"refused", false, refused, nil, CheckState{Path: "~/src/app", Reason: "The home folder holds your keys; mount a folder inside it"}},
		{"name taken says where to fix it", false, taken, nil, CheckState{Path: "~/src/app",
			Reason: `The folder name "app" is already used; choose a mount name in the Name box`}},
		{"refused on add", true, assistant.MountCheck{}, &assistant.MountRejectedError{Decision: assistant.MountDecision{Reason: "writing is not allowed under /srv"}},
			CheckState{Path: "~/src/app", Write: true, Reason: "Writing is not allowed under /srv"}},
		{"check failed", false, assistant.MountCheck{}, errors.New("scan: permission denied"),
			CheckState{Path: "~/src/app", Reason: "The folder could not be checked: scan: permission denied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := CheckStateFrom("~/src/app", tc.write, tc.mc, tc.err)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if req := got.Request(); req.HostPath != "~/src/app" || req.Write != tc.write {
				t.Errorf("request: got %+v, want the picked path and write %v", req, tc.write)
			}
		})
	}
}

func TestSizeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KB"}, {12_900_000, "12.3 MB"}, {3 << 30, "3.0 GB"}}
	for _, tc := range tests {
		if got := sizeText(tc.n); got != tc.want {
			t.Errorf("sizeText(%d): got %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestGroupFormChanges(t *testing.T) {
	t.Parallel()
	old := assistant.GroupSettings{Image: "py:3", Network: "none", MemoryMB: 512, CPUs: 1.5}
	tests := []struct {
		name    string
		edit    func(*GroupForm)
		want    []string
		wantErr bool
	}{
		{"nothing changed", func(*GroupForm) {}, nil, false},
		{"network and approval", func(f *GroupForm) { f.Network, f.Approval = "bridge", assistant.ApprovalAskWrites },
			[]string{"network=bridge", "approval=ask-writes"}, false},
		{"limits", func(f *GroupForm) { f.MemoryMB, f.CPUs, f.Pids = "1024", "", " 64 " },
			[]string{"memory=1024", "cpus=0", "pids=64"}, false},
		{"image back to the default", func(f *GroupForm) { f.Image = "" }, []string{"image="}, false},
		{"memory too small", func(f *GroupForm) { f.MemoryMB = "16" }, nil, true},
		{"memory not whole", func(f *GroupForm) { f.MemoryMB = "1.5" }, nil, true},
		{"pids not a number", func(f *GroupForm) { f.Pids = "many" }, nil, true},
		{"negative cpus", func(f *GroupForm) { f.CPUs = "-1" }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := GroupFormFrom(old)
			tc.edit(&f)
			got, err := f.Changes(old)
			if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
			if err != nil {
				return
			}
			gs := old
			for _, kv := range got {
				if err := gs.Set(kv); err != nil {
					t.Errorf("SetGroup would refuse %q: %v", kv, err)
				}
			}
		})
	}
}
