package assistant

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// verifyingEngine is a fakeEngine that can also verify mounts.
type verifyingEngine struct {
	fakeEngine
	verify  func(ms []docker.Mount) (docker.Verification, error)
	removed []string
}

func (e *verifyingEngine) VerifyMounts(_ context.Context, _ string, spec docker.Spec) (docker.Verification, error) {
	return e.verify(spec.Mounts)
}

func (e *verifyingEngine) RemoveSandbox(_ context.Context, id string) error {
	e.removed = append(e.removed, id)
	return nil
}

func TestVerifyMountsOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sb := docker.Sandbox{ID: "abc", Name: "berth-g-1", Group: "g", Session: "s"}
	spec := docker.Spec{Mounts: []docker.Mount{{Host: "/h/g", Container: docker.GroupDir}, {Host: "/h/x", Container: docker.ExtraDir + "/x"}}}
	cases := []struct {
		name        string
		err         error
		wantKind    string // audit event written, "" for none
		wantRemoved bool
		wantErr     string
	}{
		{"verified", nil, "", false, ""},
		{"mismatch", &docker.MountMismatchError{Mount: spec.Mounts[1], Host: "1:2", Got: "1:3"}, AuditMountMismatch, true, "not the folder /h/x"},
		{"unverifiable", fmt.Errorf("%w: stat: not found", docker.ErrUnverifiable), AuditSandboxError, true, "cannot verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &verifyingEngine{verify: func(ms []docker.Mount) (docker.Verification, error) {
				if len(ms) != 2 {
					t.Errorf("verify got %d mounts, want the spec's 2", len(ms))
				}
				return docker.Verification{Verified: c.err == nil}, c.err
			}}
			svc, st := newService(t, e)
			ver, err := svc.verifyMounts(ctx, sb, spec)
			if (err != nil) != (c.wantErr != "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("got %v, want an error saying %q", err, c.wantErr)
			}
			if err == nil && !ver.Verified {
				t.Errorf("got %+v, want verified", ver)
			}
			if got := len(e.removed) == 1 && e.removed[0] == sb.ID; got != c.wantRemoved {
				t.Errorf("removed %v, want removed %v", e.removed, c.wantRemoved)
			}
			evs, _ := st.Events(ctx, store.Filter{Group: "g"})
			switch {
			case c.wantKind == "" && len(evs) != 0:
				t.Errorf("got events %+v, want none", evs)
			case c.wantKind != "" && (len(evs) != 1 || evs[0].Kind != c.wantKind):
				t.Errorf("got events %+v, want one %s", evs, c.wantKind)
			case c.wantKind == AuditMountMismatch && !strings.Contains(evs[0].Summary, docker.ExtraDir+"/x"):
				t.Errorf("the mismatch event does not name the mount: %q", evs[0].Summary)
			}
		})
	}
	// An engine that cannot compare says so instead of claiming a proof.
	svc, _ := newService(t, fakeEngine{})
	if ver, err := svc.verifyMounts(ctx, sb, spec); err != nil || ver.Verified || ver.Why == "" {
		t.Errorf("fake engine: got %+v %v, want unverified with a reason", ver, err)
	}
}
