package mounts

import (
	"fmt"
	"strings"
)

// checkRoots applies the optional allowed roots: the resolved path must be
// one of them or lie inside one, and a write request needs a root that
// allows write. A write request is refused, never quietly made read-only.
func checkRoots(resolved string, write bool, home string, roots []Root) (string, string) {
	if len(roots) == 0 {
		return "", ""
	}
	var within, all []string
	writable := false
	for _, r := range roots {
		all = append(all, quote(r.Path))
		for _, f := range forms(r.Path, home) {
			if IsInside(resolved, f) {
				within = append(within, r.Path)
				writable = writable || r.AllowWrite
				break
			}
		}
	}
	shown := quote(resolved)
	if len(within) == 0 {
		return RuleAllowedRoots, fmt.Sprintf("%s is outside the allowed folders (%s); pick a folder inside one, or add it in settings", shown, strings.Join(all, ", "))
	}
	if write && !writable {
		return RuleWriteNotAllowed, fmt.Sprintf("%s cannot be mounted read-write: the allowed folder %q is read-only in settings; mount it read-only, or allow write for that folder", shown, within[0])
	}
	return "", ""
}
