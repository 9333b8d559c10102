package assistant

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestGroupFolderUsage(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, fakeEngine{})
	ctx := context.Background()
	g, err := svc.AddGroup(ctx, "sized", "", GroupSettings{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := svc.GroupFolderUsage(ctx, "sized")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(g.Folder, "data.bin"), make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GroupFolderUsage(ctx, "sized")
	if err != nil || !got.Complete || got.Files != base.Files+1 || got.Bytes != base.Bytes+5000 {
		t.Errorf("GroupFolderUsage: got %+v %v, want one more file and 5000 more bytes than %+v", got, err, base)
	}
	if _, err := svc.GroupFolderUsage(ctx, "nosuch"); err == nil {
		t.Error("GroupFolderUsage of a missing group: want an error")
	}
}
