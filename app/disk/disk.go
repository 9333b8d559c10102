// Package disk reads how much room a filesystem has left and decides when
// that is too little. It is a leaf: the audit store keeps room with it, and
// the assistant's disk guard watches the folders sandboxes write with it.
package disk

import (
	"fmt"
	"math"
)

// Space is what one filesystem has left, as an unprivileged user sees it.
type Space struct {
	Path        string `json:"path"`  // the folder asked about
	Avail       uint64 `json:"avail"` // bytes a user may still write
	Total       uint64 `json:"total"`
	FreeInodes  uint64 `json:"free_inodes"`
	TotalInodes uint64 `json:"total_inodes"` // 0: the filesystem has no inode limit (btrfs, some FUSE)
}

// Floor is how little room is too little. The floor in bytes is the
// smaller of Bytes and Percent of the filesystem's size (a small disk is not
// "almost full" just because it has less than 2 GiB), the floor in inodes
// the smaller of Inodes and Percent of its inodes.
type Floor struct {
	Bytes   uint64  `json:"bytes"`
	Inodes  uint64  `json:"inodes"`
	Percent float64 `json:"percent"`
}

// Defaults for Floor: 2 GiB or 5 %, whichever is smaller; for inodes
// 100,000 or 5 %.
const (
	DefaultFloorBytes   = 2 << 30
	DefaultFloorInodes  = 100_000
	DefaultFloorPercent = 5.0
)

// DefaultFloor is the floor Berth uses unless the settings say otherwise.
var DefaultFloor = Floor{Bytes: DefaultFloorBytes, Inodes: DefaultFloorInodes, Percent: DefaultFloorPercent}

// WithDefaults fills unset fields from DefaultFloor.
func (f Floor) WithDefaults() Floor {
	if f.Bytes == 0 {
		f.Bytes = DefaultFloorBytes
	}
	if f.Inodes == 0 {
		f.Inodes = DefaultFloorInodes
	}
	if f.Percent <= 0 {
		f.Percent = DefaultFloorPercent
	}
	return f
}

func (f Floor) of(total, absolute uint64) uint64 {
	share := uint64(math.Ceil(float64(total) * f.Percent / 100))
	return min(absolute, share)
}

// BytesFor and InodesFor are the floors on a filesystem of that size.
func (f Floor) BytesFor(s Space) uint64  { return f.of(s.Total, f.Bytes) }
func (f Floor) InodesFor(s Space) uint64 { return f.of(s.TotalInodes, f.Inodes) }

// Low says what is running out on s, "" when neither space nor inodes is
// below the floor, e.g. "1.2 MiB left" or "180 files left".
func (f Floor) Low(s Space) string {
	f = f.WithDefaults()
	if s.Avail < f.BytesFor(s) {
		return Size(s.Avail) + " left"
	}
	if s.TotalInodes > 0 && s.FreeInodes < f.InodesFor(s) {
		return fmt.Sprintf("%d files left", s.FreeInodes)
	}
	return ""
}

// Size writes a byte count the way a person reads it: 512 B, 3.4 MiB, 1.9 GiB.
func Size(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
