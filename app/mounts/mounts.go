// Package mounts decides which host folders a group's sandbox may see.
//
// A group has extra mounts: host folders (or single files) the user picked,
// mounted at /workspace/extra/<name>, read-only unless the user explicitly
// asks for write. Check validates one such request against the Policy and
// says why it was refused; Scan lists the secret-looking files inside an
// accepted folder so that the docker layer can mask them.
//
// The package is pure logic plus read-only inspection of the file system:
// it never opens a file for writing, never talks to Docker and never
// touches the database.
package mounts

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-app/berth/docker/workspace"
)

// ContainerRoot is the folder inside the sandbox under which extra mounts live.
const ContainerRoot = workspace.ExtraDir

// The rules a Decision can name. Rule values are stable: they are stored in
// the audit log and matched by scripts.
const (
	RuleName            = "name"
	RuleMissing         = "missing"
	RuleBlockedPattern  = "blocked-pattern"
	RuleSystem          = "system"
	RuleHome            = "home"
	RuleRoot            = "root"
	RuleBerthData       = "berth-data"
	RuleDockerSocket    = "docker-socket"
	RuleNotAFolder      = "not-a-folder"
	RuleAllowedRoots    = "allowed-roots"
	RuleWriteNotAllowed = "write-not-allowed"
	RuleChanged         = "changed"
	RuleInsideWritable  = "inside-writable"
	RuleHoldsMount      = "holds-mount"
	RuleScanIncomplete  = "scan-incomplete"
	RuleOK              = "ok"
)

// MaxNameLen is the longest mount name accepted.
const MaxNameLen = 64

// Request is one mount the user asked for.
type Request struct {
	HostPath string // as typed or picked; "~" and "~/" are expanded
	Name     string // optional; defaults to the base name of the resolved path
	Write    bool   // the user explicitly asked for read-write
}

// Root is an allowed root folder from the settings.
type Root struct {
	Path       string
	AllowWrite bool
}

// Policy holds everything Check needs to know besides the request.
type Policy struct {
	Home          string   // the user's home folder; empty means os.UserHomeDir
	ProtectedDirs []string // Berth's own config and data folders: never mountable
	ExtraBlocked  []string // the user's own blocked patterns
	AllowedRoots  []Root   // when non-empty, the path must be inside one of them
	ExistingNames []string // mount names already used in the group
	DockerSockets []string // socket paths to refuse on top of the defaults
	// Sources are the folders sandboxes already see (group folders and the
	// stored mounts of every group), for the rule against the symlink race.
	Sources []Source
}

// Decision is the outcome of Check.
type Decision struct {
	Allowed   bool
	Reason    string // a sentence a person understands
	Rule      string // the machine name of the rule that decided
	Host      string // the resolved absolute path: this is what gets mounted
	Name      string
	Container string // ContainerRoot + "/" + Name
	ReadOnly  bool
}

// Check validates a mount request. The rules run in this order, and the
// first one that fails decides:
//
//  1. name: an explicit name must be a valid, unused folder name;
//  2. missing: the host path must exist; symlinks are resolved and the
//     resolved path is what is checked below and what gets mounted;
//  3. blocked-pattern: no component of the resolved path, of the path as
//     given, or of any link met on the way may contain a blocked pattern,
//     and a single file must not look like a secret;
//  4. root, docker-socket, home, system, berth-data, not-a-folder: "/";
//     Docker sockets; the home folder and any folder holding it; system
//     folders, Docker socket folders and Berth's own folders, anything
//     inside them and any folder holding them; anything that is neither a
//     folder nor a regular file (single-file mounts are allowed);
//  5. allowed-roots, write-not-allowed: the optional allowed roots;
//  6. inside-writable, holds-mount: the path must not lie strictly inside
//     a folder a sandbox can write (a group folder or a read-write mount
//     in Policy.Sources, any group's), and a read-write mount must not hold
//     another mount's folder (see checkWritable for why).
//
// A name taken from the folder (Request.Name empty) is checked last, so that
// a forbidden folder is reported as forbidden rather than as a bad name.
// Write is never silently downgraded: a write request that cannot be
// granted is refused.
func Check(req Request, p Policy) Decision {
	d := Decision{ReadOnly: !req.Write}
	if req.Name != "" {
		if why := nameProblem(req.Name, p.ExistingNames); why != "" {
			return d.reject(RuleName, why)
		}
		d.setName(req.Name)
	}

	home := homeDir(p.Home)
	abs, why := absPath(req.HostPath, home)
	if why != "" {
		return d.reject(RuleMissing, why)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return d.reject(RuleMissing, missingReason(req.HostPath, err))
	}
	d.Host = resolved

	via := ""
	if resolved != abs {
		via = " (" + quote(req.HostPath) + " leads there)"
	}
	if rule, why := checkBlocked(abs, resolved, home, p.ExtraBlocked); rule != "" {
		return d.reject(rule, why+via)
	}
	if rule, why := checkPlaces(resolved, home, p); rule != "" {
		return d.reject(rule, why+via)
	}
	if rule, why := checkRoots(resolved, req.Write, home, p.AllowedRoots); rule != "" {
		return d.reject(rule, why+via)
	}
	if rule, why := checkWritable(abs, resolved, req.Write, home, p.Sources); rule != "" {
		return d.reject(rule, why+via)
	}

	if req.Name == "" {
		name := filepath.Base(resolved)
		if why := nameProblem(name, p.ExistingNames); why != "" {
			why = strings.Replace(why, "the mount name", "the folder name", 1)
			return d.reject(RuleName, why+"; choose a mount name with --as NAME")
		}
		d.setName(name)
	}
	d.Allowed = true
	d.Rule = RuleOK
	mode := "read-only"
	if req.Write {
		mode = "read-write"
	}
	d.Reason = quote(resolved) + " can be mounted " + mode + " at " + d.Container
	return d
}

// Recheck validates a stored mount again, right before a sandbox starts:
// the policy may have changed, and a folder the sandbox can write to may
// have had a component swapped for a symlink since (Docker follows links
// when it mounts). m is the Decision stored when the mount was added; its
// own name is not counted as taken, and p.Sources must not hold the mount
// itself. The mount is refused with rule
// "changed" when its path no longer resolves to m.Host.
func Recheck(m Decision, p Policy) Decision {
	p.ExistingNames = slices.DeleteFunc(slices.Clone(p.ExistingNames), func(n string) bool { return n == m.Name })
	d := Check(Request{HostPath: m.Host, Name: m.Name, Write: !m.ReadOnly}, p)
	if d.Allowed && d.Host != m.Host {
		return d.reject(RuleChanged, fmt.Sprintf("%s now leads to %s; add the mount again if that is intended", quote(m.Host), quote(d.Host)))
	}
	return d
}

// reject fills in a refusal.
func (d Decision) reject(rule, why string) Decision {
	d.Allowed = false
	d.Rule = rule
	d.Reason = why
	return d
}

// setName records the mount name and the container path it implies.
func (d *Decision) setName(name string) {
	d.Name = name
	d.Container = ContainerRoot + "/" + name
}
