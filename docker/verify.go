package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// MountProof is what VerifyMounts established about one mount: the host
// folder as validated, its identity on the host (opened without following
// any symlink) and the identity the sandbox sees at the mount point.
type MountProof struct {
	Host      string `json:"host"`
	Container string `json:"container"`
	Dev       uint64 `json:"dev"`
	Ino       uint64 `json:"ino"`
}

// Verification is the outcome of VerifyMounts.
type Verification struct {
	// Verified is true when every mount was proven to be its host folder.
	Verified bool         `json:"verified"`
	Why      string       `json:"why"` // how, or why the proof was not possible
	Mounts   []MountProof `json:"mounts,omitempty"`
}

// MountMismatchError means a mount inside a sandbox is not the host folder
// Berth validated: something swapped the folder between check and bind.
type MountMismatchError struct {
	Mount     Mount
	Host, Got string // "dev:ino" on the host and inside the sandbox
}

func (e *MountMismatchError) Error() string {
	return fmt.Sprintf("the mount at %s is not the folder %s that was checked (host %s, inside the sandbox %s): it was swapped while the sandbox started",
		e.Mount.Container, e.Mount.Host, e.Host, e.Got)
}

// ErrUnverifiable wraps a verification that could not be completed.
var ErrUnverifiable = errors.New("cannot verify the sandbox's mounts")

// SharesHostFS reports whether the engine binds folders from this
// computer's own file system, so that a device and inode seen inside a
// sandbox can be compared with the host's. That holds for a local Linux
// engine only: a unix socket (a tcp or ssh engine is elsewhere), an engine
// on Linux, running on this kernel (Docker Desktop and colima run theirs in
// a VM with its own kernel and file system, reached through a local
// socket) under this host name (a socket forwarded from another machine has
// another). A rootless engine passes: it binds the same files.
func (c *Client) SharesHostFS(ctx context.Context) (bool, string) {
	if runtime.GOOS != "linux" {
		return false, "the engine runs in a VM on " + runtime.GOOS
	}
	if !strings.HasPrefix(c.endpoint.Host, "unix://") {
		return false, "the engine at " + c.endpoint.Host + " is not a local socket"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := c.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return false, "engine info: " + err.Error()
	}
	info := res.Info
	kernel := kernelRelease()
	host, _ := os.Hostname()
	switch {
	case info.OSType != "linux":
		return false, "the engine runs " + info.OSType + " containers"
	case strings.Contains(info.OperatingSystem, "Docker Desktop"):
		return false, "Docker Desktop runs its engine in a VM"
	case kernel == "" || info.KernelVersion != kernel:
		return false, fmt.Sprintf("the engine runs kernel %q, this computer %q: it is a VM or another machine", info.KernelVersion, kernel)
	case info.Name != host:
		return false, fmt.Sprintf("the engine's host is %q, this computer is %q", info.Name, host)
	}
	return true, "local engine (same kernel and host name)"
}

// VerifyMounts proves, right after a sandbox started and before anything
// runs in it, that each bind mount is the host folder that was validated:
// the host path is opened without following any symlink, and its device
// and inode must equal what stat(1) inside the sandbox reports at the mount
// point (bind mounts keep the host's device number). On an engine that does
// not share this computer's file system nothing can be compared and the
// result says so (Verified false, no error); the rule that keeps mounts out
// of folders a sandbox can write is then the only guard. A mismatch is a
// *MountMismatchError; a check that cannot be completed wraps
// ErrUnverifiable. Either way the caller must not use the sandbox.
//
// Under gVisor (runsc) the sandbox's kernel shows device numbers of its own,
// so nothing can be compared there either.
func (c *Client) VerifyMounts(ctx context.Context, sandboxID string, spec Spec) (Verification, error) {
	mounts := spec.Mounts
	if spec.Runtime == "runsc" {
		return Verification{Why: "not verified: gVisor (runsc) shows the sandbox its own device numbers"}, nil
	}
	if ok, why := c.SharesHostFS(ctx); !ok {
		return Verification{Why: "not verified: " + why}, nil
	}
	if len(mounts) == 0 {
		return Verification{Verified: true, Why: "no mounts"}, nil
	}
	argv := []string{"stat", "-c", "%d %i"}
	for _, m := range mounts {
		argv = append(argv, m.Container)
	}
	res, err := c.Exec(ctx, sandboxID, ExecRequest{Argv: argv, WorkDir: "/", Timeout: 30 * time.Second, OutputCap: 64 << 10})
	if err != nil {
		return Verification{}, fmt.Errorf("%w: stat inside the sandbox: %v", ErrUnverifiable, err)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout.String()), "\n")
	if res.ExitCode != 0 || len(lines) != len(mounts) {
		return Verification{}, fmt.Errorf("%w: `stat` inside the sandbox exited %d with %q %q; the sandbox image needs a working stat (coreutils or busybox)",
			ErrUnverifiable, res.ExitCode, clipOut(res.Stdout.String()), clipOut(res.Stderr.String()))
	}
	v := Verification{Verified: true, Why: "device and inode of every mount matched inside the sandbox"}
	for i, m := range mounts {
		dev, ino, err := hostIdentity(m.Host)
		if err != nil {
			return Verification{}, fmt.Errorf("%w: %s: %v", ErrUnverifiable, m.Host, err)
		}
		gotDev, gotIno, ok := parseIdentity(lines[i])
		if !ok {
			return Verification{}, fmt.Errorf("%w: stat printed %q for %s", ErrUnverifiable, lines[i], m.Container)
		}
		if gotDev != dev || gotIno != ino {
			return Verification{}, &MountMismatchError{Mount: m, Host: fmt.Sprintf("%d:%d", dev, ino), Got: fmt.Sprintf("%d:%d", gotDev, gotIno)}
		}
		v.Mounts = append(v.Mounts, MountProof{Host: m.Host, Container: m.Container, Dev: dev, Ino: ino})
	}
	return v, nil
}

// parseIdentity reads "DEV INO" as stat -c '%d %i' prints it.
func parseIdentity(line string) (dev, ino uint64, ok bool) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, 0, false
	}
	dev, err1 := strconv.ParseUint(f[0], 10, 64)
	ino, err2 := strconv.ParseUint(f[1], 10, 64)
	return dev, ino, err1 == nil && err2 == nil
}

func clipOut(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
