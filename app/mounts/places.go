package mounts

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// systemDirs are never mountable, nor anything inside them, nor any folder
// holding one of them. They are also compared in resolved form, so that
// /lib (a link to usr/lib on Debian) and /etc (/private/etc on macOS) are
// caught however they are reached.
var systemDirs = []string{
	"/etc", "/proc", "/sys", "/dev", "/run", "/var/run", "/boot",
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/containers",
	"/System",
}

// defaultSockets are where Docker's socket lives on the usual set-ups.
// An entry with glob characters forbids its whole fixed prefix folder
// (all of ~/.colima, say), since sockets there come and go.
var defaultSockets = []string{
	"/var/run/docker.sock",
	"/run/docker.sock",
	"~/.docker/run/docker.sock",
	"~/.docker/desktop/docker.sock",
	"~/.colima/*/docker.sock",
	"~/.lima/*/sock/docker.sock",
	"~/.rd/docker.sock",
	"~/.orbstack/run/docker.sock",
	"~/Library/Containers/com.docker.docker/Data/*.sock",
}

// isDockerSocketName reports whether a base name looks like a Docker
// socket: "docker.sock", "docker.raw.sock" and the like.
func isDockerSocketName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "docker") && strings.HasSuffix(n, ".sock")
}

// socketPlaces expands the socket list into concrete paths to compare with.
func socketPlaces(extra []string, home string) []string {
	var out []string
	for _, s := range append(append([]string(nil), defaultSockets...), extra...) {
		if i := strings.IndexAny(s, "*?["); i >= 0 {
			s = path.Dir(s[:i+1])
		}
		out = append(out, forms(s, home)...)
	}
	return out
}

// checkPlaces refuses the places that are never mountable, in this order:
// "/", a Docker socket, the home folder and its parents, system folders,
// folders holding a Docker socket, Berth's own folders, and anything that
// is not a folder or a regular file.
func checkPlaces(resolved, home string, p Policy) (string, string) {
	shown := quote(resolved)
	if resolved == string(filepath.Separator) {
		return RuleRoot, `"/" cannot be mounted: it is the whole computer`
	}
	if isDockerSocketName(filepath.Base(resolved)) {
		return RuleDockerSocket, shown + " cannot be mounted: it is a Docker socket, which would give the sandbox control of Docker and of this computer"
	}
	homes := forms(home, home)
	for _, h := range homes {
		switch rel, _ := relation(resolved, h); rel {
		case "is":
			return RuleHome, shown + " cannot be mounted: it is your home folder; pick a folder inside it"
		case "contains":
			return RuleHome, fmt.Sprintf("%s cannot be mounted: it contains your home folder %q; pick a folder inside it", shown, h)
		}
	}
	var system []string
	for _, s := range systemDirs {
		system = append(system, forms(s, home)...)
	}
	for _, s := range system {
		if rel, ok := relation(resolved, s); ok {
			return RuleSystem, fmt.Sprintf("%s cannot be mounted: it %s the system folder %q", shown, rel, s)
		}
	}
	sockets := socketPlaces(p.DockerSockets, home)
	for _, s := range sockets {
		if rel, ok := relation(resolved, s); ok {
			return RuleDockerSocket, fmt.Sprintf("%s cannot be mounted: it %s %q, where a Docker socket lives; access to Docker gives control of this computer", shown, rel, s)
		}
	}
	var protected []string
	for _, d := range p.ProtectedDirs {
		protected = append(protected, forms(d, home)...)
	}
	for _, d := range protected {
		if rel, ok := relation(resolved, d); ok {
			return RuleBerthData, fmt.Sprintf("%s cannot be mounted: it %s Berth's own folder %q (settings, audit log, group data)", shown, rel, d)
		}
	}
	if rule, why := checkSameFile(resolved, sockets, system, homes, protected); rule != "" {
		return rule, why
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return RuleMissing, missingReason(resolved, err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return RuleNotAFolder, fmt.Sprintf("%s cannot be mounted: it is a %s, not a folder or a regular file", shown, kind(fi.Mode()))
	}
	return "", ""
}

// checkSameFile catches forbidden folders reached through another path
// that resolving symlinks cannot see, such as a bind mount of /etc
// elsewhere: resolved and each of its parents are compared by identity
// (device and inode) with the forbidden folders.
func checkSameFile(resolved string, sockets, system, homes, protected []string) (string, string) {
	type place struct {
		rule, path string
		inside     bool // also forbid what lies inside it
	}
	var places []place
	places = append(places, place{RuleRoot, string(filepath.Separator), false})
	for _, s := range sockets {
		places = append(places, place{RuleDockerSocket, s, true})
	}
	for _, s := range system {
		places = append(places, place{RuleSystem, s, true})
	}
	for _, h := range homes {
		places = append(places, place{RuleHome, h, false})
	}
	for _, d := range protected {
		places = append(places, place{RuleBerthData, d, true})
	}
	var infos []fs.FileInfo
	for i := range places {
		fi, _ := os.Stat(places[i].path)
		infos = append(infos, fi)
	}
	for a, first := resolved, true; ; a, first = filepath.Dir(a), false {
		fa, err := os.Lstat(a)
		for i, pl := range places {
			if err != nil || infos[i] == nil || (!first && !pl.inside) || !os.SameFile(fa, infos[i]) {
				continue
			}
			return pl.rule, fmt.Sprintf("%s cannot be mounted: %q is the same folder as %q, reached another way (a bind mount?)", quote(resolved), a, pl.path)
		}
		if a == filepath.Dir(a) {
			return "", ""
		}
	}
}

// kind names a file type the way a person would.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}
