//go:build unix

package disk

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Free reads the room left on the filesystem holding path.
func Free(path string) (Space, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Space{Path: path}, fmt.Errorf("free space of %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return Space{Path: path, Avail: uint64(st.Bavail) * bs, Total: uint64(st.Blocks) * bs,
		FreeInodes: uint64(st.Ffree), TotalInodes: uint64(st.Files)}, nil
}
