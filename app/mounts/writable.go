package mounts

import (
	"fmt"
	"os"
	"path/filepath"
)

// Source is a folder some sandbox already sees: a group folder or another
// stored mount, of any group.
type Source struct {
	Path  string // the host path, as stored (resolved when it was added)
	What  string // how a person names it: `the read-write mount "out" of group "work"`
	Write bool   // a sandbox can change what is inside it
}

// checkWritable applies the structural rule against the symlink race (see
// the README's threat model): Docker binds whatever a path leads to when
// the sandbox starts, so a sandbox that can write a folder can swap a
// folder inside it for a link between Berth's check and the bind, and have
// any host folder mounted in its place. Hence no mount may lie strictly
// inside a folder some sandbox can write, and a read-write mount may not
// hold another mount. A folder equal to a writable one is fine: a sandbox
// cannot rename its own mount point, and its parent is out of sight.
//
// Paths are compared as given and resolved, and every parent of resolved is
// also compared by identity (device and inode), so a writable folder
// reached through a host bind mount is caught too.
//
// The path as given and every symlink met while resolving it count too: a
// link that lies in a writable folder was put there by whoever writes it,
// and leads wherever they like.
func checkWritable(abs, resolved string, write bool, home string, others []Source) (string, string) {
	shown := quote(resolved)
	ways := append([]string{resolved, abs}, linkPaths(abs)...)
	for _, o := range others {
		for _, f := range forms(o.Path, home) {
			for _, w := range ways {
				if o.Write && strictlyInside(w, f) {
					return RuleInsideWritable, fmt.Sprintf("%s cannot be mounted: %s inside %q, %s, which a sandbox can change "+
						"(a folder swapped for a link there would make Docker mount another folder); mount %q itself, move the folder out of it, or make that mount read-only",
						shown, wayName(w, resolved), f, o.What, f)
				}
			}
			if write && strictlyInside(f, resolved) {
				return RuleHoldsMount, fmt.Sprintf("%s cannot be mounted read-write: it holds %q, %s, which a sandbox writing it could swap for a link to any folder; "+
					"mount it read-only, or mount a folder that holds no other mount", shown, f, o.What)
			}
		}
	}
	return sameFileWritable(resolved, others)
}

// sameFileWritable compares each parent of resolved by identity with the
// writable folders, for those reached by another path (a bind mount).
func sameFileWritable(resolved string, others []Source) (string, string) {
	type tree struct {
		fi os.FileInfo
		o  Source
	}
	var trees []tree
	for _, o := range others {
		if !o.Write {
			continue
		}
		if fi, err := os.Stat(o.Path); err == nil {
			trees = append(trees, tree{fi, o})
		}
	}
	if len(trees) == 0 {
		return "", ""
	}
	for a := filepath.Dir(resolved); ; a = filepath.Dir(a) {
		if fa, err := os.Stat(a); err == nil {
			for _, t := range trees {
				if os.SameFile(fa, t.fi) {
					return RuleInsideWritable, fmt.Sprintf("%s cannot be mounted: it lies inside %q, the same folder as %q (%s, reached another way, a bind mount?), which a sandbox can change; "+
						"move the folder out of it, or make that mount read-only", quote(resolved), a, t.o.Path, t.o.What)
				}
			}
		}
		if a == filepath.Dir(a) {
			return "", ""
		}
	}
}

// wayName says which of the ways to the folder lies in a writable one.
func wayName(way, resolved string) string {
	if way == resolved {
		return "it lies"
	}
	return fmt.Sprintf("the path to it goes through %q,", way)
}

// strictlyInside reports whether child lies inside parent and is not parent.
func strictlyInside(child, parent string) bool {
	return IsInside(child, parent) && !IsInside(parent, child)
}
