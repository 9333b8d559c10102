// Package workspace names the folders every sandbox has: the one owner of
// these container paths, which docker (the mounts it makes), mounts (where
// extra folders go), agent (what the model is told) and assistant share.
// It is a leaf under docker/ because docker, the lowest layer, needs it too.
package workspace

import "path"

const (
	// GroupDir is the group's folder, mounted read-write.
	GroupDir = "/workspace/group"
	// ExtraDir holds the group's extra mounts, one folder each.
	ExtraDir = "/workspace/extra"
)

// Extra is where the extra mount called name appears inside the sandbox.
func Extra(name string) string { return path.Join(ExtraDir, name) }
