package mounts

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// maxLinkHops bounds how many symlinks linkTrail follows, like the kernel's
// own limit (40 on Linux, 32 on macOS) with room to spare.
const maxLinkHops = 255

// foldCase is true where the usual file systems ignore case, so that
// "/USERS/u" and "/Users/u" are compared as the same folder.
var foldCase = runtime.GOOS == "darwin" || runtime.GOOS == "windows"

// IsInside reports whether child is parent itself or lies inside it. Both
// are cleaned and compared component by component, not as strings:
// "/home/u/work2" is not inside "/home/u/work". An absolute path is never
// inside a relative one, nor the other way round.
func IsInside(child, parent string) bool {
	if child == "" || parent == "" {
		return false
	}
	child, parent = filepath.Clean(child), filepath.Clean(parent)
	if filepath.IsAbs(child) != filepath.IsAbs(parent) {
		return false
	}
	if foldCase {
		child, parent = strings.ToLower(child), strings.ToLower(parent)
	}
	if child == parent {
		return true
	}
	if parent == "." {
		return child != ".." && !strings.HasPrefix(child, ".."+string(filepath.Separator))
	}
	if !strings.HasSuffix(parent, string(filepath.Separator)) {
		parent += string(filepath.Separator)
	}
	return strings.HasPrefix(child, parent)
}

// homeDir returns the cleaned home folder, asking the OS when h is empty.
// It returns "" when the home folder is unknown.
func homeDir(h string) string {
	if h == "" {
		h, _ = os.UserHomeDir()
	}
	if h == "" || !filepath.IsAbs(h) {
		return ""
	}
	return filepath.Clean(h)
}

// absPath expands "~" and "~/" with home, makes in absolute and cleans it.
// It returns a reason instead when in cannot be a path.
func absPath(in, home string) (string, string) {
	switch {
	case in == "":
		return "", "no folder was given"
	case strings.ContainsRune(in, 0):
		return "", quote(in) + " is not a valid path"
	case in == "~" || strings.HasPrefix(in, "~/"):
		if home == "" {
			return "", quote(in) + " starts with \"~\", but the home folder is unknown; give the full path"
		}
		in = filepath.Join(home, strings.TrimPrefix(in[1:], "/"))
	case strings.HasPrefix(in, "~"):
		return "", quote(in) + ": only \"~\" and \"~/\" are expanded; give the full path"
	}
	abs, err := filepath.Abs(in)
	if err != nil {
		return "", quote(in) + " cannot be made absolute: " + err.Error()
	}
	return abs, ""
}

// missingReason explains why a path could not be resolved.
func missingReason(in string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return quote(in) + " does not exist"
	case errors.Is(err, fs.ErrPermission):
		return quote(in) + " cannot be opened: permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return quote(in) + " cannot be resolved: " + err.Error()
}

// components splits a path into its non-empty names, "." and ".." left out.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(filepath.ToSlash(p), "/") {
		if c != "" && c != "." && c != ".." {
			out = append(out, c)
		}
	}
	return out
}

// linkTrail follows the absolute path p the way the kernel does and returns
// the name of every symlink met on the way plus every name in their
// targets. A link named ".ssh" pointing somewhere harmless leaves no trace
// in the resolved path; this is how Check still sees it.
func linkTrail(p string) []string {
	var names []string
	walkLinks(p, func(at, target string) {
		names = append(names, filepath.Base(at))
		names = append(names, components(target)...)
	})
	return names
}

// linkPaths returns the absolute path of every symlink met while following
// the absolute path p.
func linkPaths(p string) []string {
	var out []string
	walkLinks(p, func(at, _ string) { out = append(out, at) })
	return out
}

// walkLinks follows the absolute path p the way the kernel does and calls
// link with the location and target of every symlink met on the way. It
// stops quietly where the path cannot be followed.
func walkLinks(p string, link func(at, target string)) {
	pending := strings.Split(filepath.ToSlash(p), "/")
	cur := string(filepath.Separator)
	for hops := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return
		}
		target, err := os.Readlink(next)
		if err != nil {
			return
		}
		link(next, target)
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		pending = append(strings.Split(filepath.ToSlash(target), "/"), pending...)
	}
}

// forms returns the cleaned absolute path p and, when it differs and p
// exists, its resolved form. Relative or empty paths give nothing.
func forms(p, home string) []string {
	if !filepath.IsAbs(p) && p != "~" && !strings.HasPrefix(p, "~/") {
		return nil
	}
	abs, why := absPath(p, home)
	if why != "" {
		return nil
	}
	out := []string{abs}
	if r, err := filepath.EvalSymlinks(abs); err == nil && r != abs {
		out = append(out, r)
	}
	return out
}
