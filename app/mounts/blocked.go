package mounts

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// defaultBlocked are the names that are never mountable anywhere in a path.
var defaultBlocked = []string{
	".ssh", ".gnupg", ".gpg", ".aws", ".azure", ".gcloud", ".kube", ".docker",
	"credentials", ".env", ".netrc", ".npmrc", ".pypirc",
	"id_rsa", "id_ed25519", "private_key", ".secret",
}

// DefaultBlockedPatterns returns the patterns that are always blocked. A
// path is refused when any of its components equals or contains one of them,
// ignoring case: ".env" also blocks ".envrc".
func DefaultBlockedPatterns() []string {
	return slices.Clone(defaultBlocked)
}

// pattern is one blocked pattern, lowercased.
type pattern struct {
	text string
	user bool // from the user's settings rather than the defaults
}

// matches reports whether the path component name equals or contains the
// pattern, ignoring case. A pattern with glob characters ("*.pem") is also
// tried as a glob against the whole name.
func (p pattern) matches(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, p.text) {
		return true
	}
	if strings.ContainsAny(p.text, "*?[") {
		ok, _ := path.Match(p.text, n)
		return ok
	}
	return false
}

// why says, in words, why a component matched p.
func (p pattern) why(comp string) string {
	from := "a name used for secrets"
	if p.user {
		from = "a pattern blocked in your settings"
	}
	if strings.EqualFold(comp, p.text) {
		if p.user {
			return fmt.Sprintf("%q, %s", comp, from)
		}
		return fmt.Sprintf("%q, which holds secrets", comp)
	}
	return fmt.Sprintf("%q, which matches %q (%s)", comp, p.text, from)
}

// splitPatterns sorts the user's patterns from the defaults into name
// patterns (matched per component) and path patterns: those starting with
// "/" or "~/" block that folder, anything inside it and any folder holding it.
func splitPatterns(extra []string) (names []pattern, paths []string) {
	for _, t := range defaultBlocked {
		names = append(names, pattern{text: t})
	}
	for _, t := range extra {
		t = strings.TrimSpace(t)
		switch {
		case t == "~" || strings.HasPrefix(t, "~/") || strings.HasPrefix(t, "/"):
			paths = append(paths, t)
		case strings.Trim(t, "/") != "":
			names = append(names, pattern{text: strings.ToLower(strings.Trim(t, "/")), user: true})
		}
	}
	return names, paths
}

// checkBlocked applies the blocked patterns to the resolved path, to the
// path as given, and to every link met while resolving it; a single file
// must also not look like a secret.
func checkBlocked(abs, resolved, home string, extra []string) (string, string) {
	names, paths := splitPatterns(extra)
	shown := quote(resolved)
	for _, p := range names {
		if strings.Contains(p.text, "/") {
			if lower := strings.ToLower(filepath.ToSlash(resolved)) + "/"; strings.Contains(lower, p.text) {
				return RuleBlockedPattern, fmt.Sprintf("%s is blocked: its path matches %q, a pattern blocked in your settings", shown, p.text)
			}
		}
	}
	checks := []struct {
		say   string
		comps []string
	}{
		{"its path contains", components(resolved)},
		{"the path as given contains", components(abs)},
		{"it goes through a link that mentions", linkTrail(abs)},
	}
	for _, c := range checks {
		for _, comp := range c.comps {
			for _, p := range names {
				if p.matches(comp) {
					return RuleBlockedPattern, fmt.Sprintf("%s is blocked: %s %s", shown, c.say, p.why(comp))
				}
			}
		}
	}
	for _, bp := range paths {
		for _, f := range forms(bp, home) {
			if rel, ok := relation(resolved, f); ok {
				return RuleBlockedPattern, fmt.Sprintf("%s is blocked: it %s %q, which your settings block", shown, rel, f)
			}
		}
	}
	if fi, err := os.Stat(resolved); err == nil && fi.Mode().IsRegular() && LooksSecret(filepath.Base(resolved)) {
		return RuleBlockedPattern, fmt.Sprintf("%s is blocked: it looks like a secret file (keys, passwords or tokens)", shown)
	}
	return "", ""
}

// relation says how path stands to place: "is", "is inside" or "contains".
func relation(p, place string) (string, bool) {
	switch {
	case IsInside(p, place) && IsInside(place, p):
		return "is", true
	case IsInside(p, place):
		return "is inside", true
	case IsInside(place, p):
		return "contains", true
	}
	return "", false
}
