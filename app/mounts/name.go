package mounts

import (
	"fmt"
	"slices"
	"strings"
)

// nameProblem says what is wrong with a mount name, or "" when it is fine.
// A name becomes one folder under ContainerRoot, so it is a single path
// component of letters, digits, ".", "_" and "-".
func nameProblem(name string, existing []string) string {
	shown := quote(name)
	switch {
	case name == "":
		return "the mount name is empty"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("the mount name %s is too long (%d characters; at most %d)", shown, len(name), MaxNameLen)
	case name == "." || name == "..":
		return fmt.Sprintf("the mount name %s is not allowed: it is not a folder name", shown)
	case strings.Contains(name, ":"):
		return fmt.Sprintf("the mount name %s contains \":\", which Docker reads as a separator", shown)
	case strings.ContainsAny(name, `/\`):
		return fmt.Sprintf("the mount name %s contains a slash; it must be a single folder name", shown)
	case strings.IndexFunc(name, badNameRune) >= 0:
		return fmt.Sprintf("the mount name %s may only use letters, digits, \".\", \"_\" and \"-\"", shown)
	case slices.Contains(existing, name):
		return fmt.Sprintf("the mount name %s is already used in this group", shown)
	}
	return ""
}

// badNameRune reports whether r is outside [A-Za-z0-9._-].
func badNameRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	case r == '.' || r == '_' || r == '-':
		return false
	}
	return true
}

// quote quotes s for a reason, shortening very long values so that a
// reason stays readable.
func quote(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
