package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/berth-app/berth/docker/workspace"
)

// Labels every sandbox carries, so that Berth can find and reap it later.
const (
	LabelApp     = "berth.app"     // always "1"
	LabelHome    = "berth.home"    // which Berth installation (BERTH_HOME) owns it
	LabelGroup   = "berth.group"   // group slug
	LabelSession = "berth.session" // session id
	LabelExpires = "berth.expires" // unix seconds after which it must not be used
	LabelSpec    = "berth.spec"    // digest of the spec it was made from (see Spec.Digest)
	LabelEgress  = "berth.egress"  // "1": network egress through the helper (Spec.Egress)
)

// Sandbox paths inside the container.
const (
	GroupDir     = workspace.GroupDir
	ExtraDir     = workspace.ExtraDir
	SandboxHome  = "/home/berth"
	NobodyUser   = "65534:65534"
	defaultImage = "berth-sandbox:latest"
)

// DefaultImage is the sandbox image `make image` builds.
const DefaultImage = defaultImage

// Mount is a host folder or file made visible in the sandbox.
type Mount struct {
	Host      string `json:"host"`
	Container string `json:"container"`
	ReadOnly  bool   `json:"readonly"`
}

// Mask hides a path inside a mount: an empty read-only file over a file, an
// empty read-only tmpfs over a folder.
type Mask struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir,omitempty"`
}

// Spec is everything that decides what a sandbox is. The zero value of
// each limit means "Berth's default", never "unlimited".
type Spec struct {
	Image          string `json:"image"`
	InstallationID string `json:"home"`    // owning installation id (LabelHome)
	Group          string `json:"group"`   // group slug
	Session        string `json:"session"` // session id
	User           string `json:"user"`    // uid:gid; empty = the host user (nobody when Berth runs as root)
	Network        string `json:"network"` // "none" (default) or "bridge"
	// Egress makes the helper listen on EgressListen inside the sandbox and
	// hand each connection to the client's EgressHandler (docker/egress.go).
	// Only with Network "none": the proxy is then the only way out.
	Egress  bool          `json:"egress,omitempty"`
	Mounts  []Mount       `json:"mounts"`
	Masks   []Mask        `json:"masks"`
	Env     []string      `json:"env,omitempty"`
	Memory  int64         `json:"memory_bytes"`
	CPUs    float64       `json:"cpus"`
	Pids    int64         `json:"pids"`
	TmpSize int64         `json:"tmp_bytes"`
	MaxAge  time.Duration `json:"max_age"`
	Runtime string        `json:"runtime,omitempty"` // "runsc" for strong isolation
	Seccomp string        `json:"seccomp"`           // the seccomp profile: always SeccompProfile

	// The knobs below are never allowed. They exist so that a spec asking
	// for them is refused loudly instead of being silently ignored.
	Privileged bool     `json:"privileged,omitempty"`
	CapAdd     []string `json:"cap_add,omitempty"`
	PidMode    string   `json:"pid_mode,omitempty"`
	IPCMode    string   `json:"ipc_mode,omitempty"`
}

// Defaults applied by WithDefaults.
const (
	DefaultMemory  = 1 << 30 // 1 GiB
	DefaultCPUs    = 1.0
	DefaultPids    = 256
	DefaultTmpSize = 256 << 20 // 256 MiB, for /tmp and the home folder each
	DefaultMaxAge  = 2 * time.Hour
	helperTmpSize  = 16 << 20 // HelperDir: the helper binary, twice while a new one is written
)

// WithDefaults fills every unset field with Berth's hardened default.
func (s Spec) WithDefaults() Spec {
	if s.Image == "" {
		s.Image = defaultImage
	}
	if s.Network == "" {
		s.Network = "none"
	}
	if s.User == "" {
		s.User = HostUser()
	}
	if s.Memory == 0 {
		s.Memory = DefaultMemory
	}
	if s.CPUs == 0 {
		s.CPUs = DefaultCPUs
	}
	if s.Pids == 0 {
		s.Pids = DefaultPids
	}
	if s.TmpSize == 0 {
		// Files in a tmpfs are memory charged to the sandbox and cannot be
		// reclaimed by killing processes: keep both tmpfs together at half of
		// the memory limit at most, or a full /tmp would leave no memory to
		// run even the `rm` that empties it.
		s.TmpSize = min(DefaultTmpSize, s.Memory/4)
	}
	if s.MaxAge == 0 {
		s.MaxAge = DefaultMaxAge
	}
	if s.Seccomp == "" {
		s.Seccomp = SeccompProfile
	}
	return s
}

// Digest names what a sandbox was made from, so that a warm sandbox is
// reused only while the group's settings, mounts and masks are unchanged:
// masks are included so that a secret-looking file that appeared in a mount
// since the sandbox started gets the sandbox replaced, not exposed.
func (s Spec) Digest() string {
	s = s.WithDefaults()
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// HostUser is the uid:gid sandboxes run as: the user running Berth, so that
// files written to read-write mounts belong to them. Under sudo that is the
// user who ran sudo; as plain root the sandbox runs as nobody instead: a
// sandbox never runs as root.
func HostUser() string {
	uid, gid := os.Getuid(), os.Getgid()
	if uid > 0 {
		return fmt.Sprintf("%d:%d", uid, gid)
	}
	su, sg := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if userRe.MatchString(su+":"+sg) && su != "0" && sg != "0" {
		return su + ":" + sg
	}
	return NobodyUser
}

var (
	userRe  = regexp.MustCompile(`^([0-9]+):([0-9]+)$`)
	labelRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,127}$`)
	// secretEnvRe names environment variables that look like credentials.
	// Keys never enter a sandbox (NanoClaw leaked them via /proc/self/environ).
	secretEnvRe = regexp.MustCompile(`(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)`)
)

// ErrUnsafeSpec is wrapped by every refusal of containerConfig.
var ErrUnsafeSpec = errors.New("unsafe sandbox spec")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsafeSpec, fmt.Sprintf(format, a...))
}

// containerConfig turns a spec into the Engine's container and host config.
// It is the single place where sandbox hardening is decided, and it refuses
// a spec that would weaken it instead of quietly fixing it up.
func containerConfig(s Spec, now time.Time) (*container.Config, *container.HostConfig, error) {
	s = s.WithDefaults()
	if err := checkSpec(s); err != nil {
		return nil, nil, err
	}
	m := userRe.FindStringSubmatch(s.User)
	uid, gid := m[1], m[2]
	secs := int64(s.MaxAge / time.Second)
	if secs < 1 {
		secs = 1
	}
	workdir := "/tmp"
	var mounts []mount.Mount
	for _, mt := range s.Mounts {
		if mt.Container == GroupDir {
			workdir = GroupDir
		}
		mounts = append(mounts, mount.Mount{
			Type:        mount.TypeBind,
			Source:      mt.Host,
			Target:      mt.Container,
			ReadOnly:    mt.ReadOnly,
			BindOptions: &mount.BindOptions{Propagation: mount.PropagationRPrivate},
		})
	}
	for _, mk := range s.Masks {
		if mk.Dir {
			mounts = append(mounts, mount.Mount{
				Type: mount.TypeTmpfs, Target: mk.Path, ReadOnly: true,
				TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 4096, Mode: 0o500},
			})
			continue
		}
		// /dev/null is the one empty file every engine host has; bound
		// read-only over a secret, it reads as empty and cannot be written.
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: "/dev/null", Target: mk.Path, ReadOnly: true})
	}
	tmpOpts := func(extra string) string {
		return fmt.Sprintf("rw,nosuid,nodev,size=%d%s", s.TmpSize, extra)
	}
	env := append([]string{"HOME=" + SandboxHome, "USER=berth", "LANG=C.UTF-8",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, s.Env...)
	if s.Egress {
		env = append(env, EgressEnv()...)
	}
	init := true
	pids := s.Pids
	cfg := &container.Config{
		Image:      s.Image,
		User:       s.User,
		Env:        env,
		WorkingDir: workdir,
		Entrypoint: []string{"sleep"},
		// The main process ends by itself at the max age, and AutoRemove then
		// removes the container, so even a sandbox Berth forgot goes away.
		Cmd:             []string{strconv.FormatInt(secs, 10)},
		NetworkDisabled: s.Network == "none",
		StopSignal:      "SIGTERM",
		Labels: map[string]string{
			LabelApp:     "1",
			LabelHome:    s.InstallationID,
			LabelGroup:   s.Group,
			LabelSession: s.Session,
			LabelExpires: strconv.FormatInt(now.Add(s.MaxAge).Unix(), 10),
			LabelSpec:    s.Digest(),
		},
	}
	if s.Egress {
		cfg.Labels[LabelEgress] = "1"
	}
	stopTimeout := 2
	cfg.StopTimeout = &stopTimeout
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(s.Network),
		AutoRemove:     true,
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges:true", "seccomp=" + string(seccompJSON)},
		Init:           &init,
		OomScoreAdj:    500, // the sandbox dies before Berth or the desktop does
		LogConfig:      container.LogConfig{Type: "none"},
		Tmpfs: map[string]string{
			"/tmp":      tmpOpts(fmt.Sprintf(",mode=1777,uid=%s,gid=%s", uid, gid)), // see settleTmpfs
			SandboxHome: tmpOpts(fmt.Sprintf(",mode=0700,uid=%s,gid=%s", uid, gid)),
			// The helper's own small tmpfs: the one place where a file may be
			// executed (everything else that is writable is noexec).
			HelperDir: fmt.Sprintf("rw,exec,nosuid,nodev,size=%d,mode=0700,uid=%s,gid=%s", helperTmpSize, uid, gid),
		},
		Mounts:  mounts,
		Runtime: s.Runtime,
		Resources: container.Resources{
			Memory:     s.Memory,
			MemorySwap: s.Memory, // no swap: the memory limit is the limit
			NanoCPUs:   int64(s.CPUs * 1e9),
			PidsLimit:  &pids,
		},
	}
	return cfg, host, nil
}

// checkSpec refuses what must never happen to a sandbox.
func checkSpec(s Spec) error {
	if s.Privileged {
		return refuse("privileged sandboxes are never allowed")
	}
	if len(s.CapAdd) > 0 {
		return refuse("adding capabilities (%s) is never allowed", strings.Join(s.CapAdd, ", "))
	}
	if s.PidMode != "" {
		return refuse("sharing a PID namespace (%q) is never allowed", s.PidMode)
	}
	if s.IPCMode != "" {
		return refuse("sharing an IPC namespace (%q) is never allowed", s.IPCMode)
	}
	switch s.Network {
	case "none", "bridge":
	case "host":
		return refuse("host networking is never allowed; use \"none\" or \"bridge\"")
	default:
		return refuse("network %q is not supported; use \"none\" or \"bridge\"", s.Network)
	}
	if s.Egress && s.Network != "none" {
		return refuse("egress through the host needs network \"none\" (the proxy must be the only way out), not %q", s.Network)
	}
	if s.Seccomp != SeccompProfile {
		return refuse("seccomp profile %q is not Berth's own (%s); every sandbox runs under it", s.Seccomp, SeccompProfile)
	}
	if s.Runtime != "" && s.Runtime != "runsc" && s.Runtime != "runc" {
		return refuse("runtime %q is not supported; use runc or runsc", s.Runtime)
	}
	m := userRe.FindStringSubmatch(s.User)
	if m == nil {
		return refuse("user %q must be numeric uid:gid", s.User)
	}
	if m[1] == "0" || m[2] == "0" {
		return refuse("a sandbox never runs as root (user %s)", s.User)
	}
	if s.Image == "" || strings.ContainsAny(s.Image, " \t\n") {
		return refuse("image %q is not a valid image reference", s.Image)
	}
	for _, v := range []struct{ name, val string }{{"installation id", s.InstallationID}, {"group", s.Group}, {"session", s.Session}} {
		if !labelRe.MatchString(v.val) {
			return refuse("%s %q must be lowercase letters, digits, '.', '_' or '-'", v.name, v.val)
		}
	}
	if s.Memory < 16<<20 || s.Pids < 8 || s.CPUs <= 0 || s.TmpSize < 1<<20 {
		return refuse("limits too small to run anything (memory %d, pids %d, cpus %.2f, tmp %d)", s.Memory, s.Pids, s.CPUs, s.TmpSize)
	}
	if 2*s.TmpSize > s.Memory/2 {
		return refuse("tmpfs of %d bytes each would let files take more than half of the %d bytes of memory", s.TmpSize, s.Memory)
	}
	for _, e := range s.Env {
		name, _, _ := strings.Cut(e, "=")
		if secretEnvRe.MatchString(name) {
			return refuse("environment variable %s looks like a credential; keys never enter a sandbox", name)
		}
		if s.Egress && slices.Contains(egressVars, name) {
			return refuse("environment variable %s is Berth's own in a sandbox with egress (it names the helper's proxy)", name)
		}
	}
	targets := map[string]bool{}
	for _, mt := range s.Mounts {
		if err := checkMount(mt); err != nil {
			return err
		}
		if targets[mt.Container] {
			return refuse("two mounts at %s", mt.Container)
		}
		targets[mt.Container] = true
	}
	for _, mk := range s.Masks {
		if !path.IsAbs(mk.Path) || path.Clean(mk.Path) != mk.Path || !strings.HasPrefix(mk.Path, "/workspace/") {
			return refuse("mask %q must be a clean path under /workspace", mk.Path)
		}
	}
	return nil
}

// socketNames are engine sockets that would hand the sandbox the host.
var socketNames = []string{"docker.sock", "containerd.sock", "podman.sock", "dockershim.sock", "crio.sock"}

func checkMount(mt Mount) error {
	if !filepath.IsAbs(mt.Host) || filepath.Clean(mt.Host) != mt.Host {
		return refuse("mount source %q must be a clean absolute path", mt.Host)
	}
	if !path.IsAbs(mt.Container) || path.Clean(mt.Container) != mt.Container ||
		!(mt.Container == GroupDir || strings.HasPrefix(mt.Container, ExtraDir+"/")) {
		return refuse("mount target %q must be %s or under %s/", mt.Container, GroupDir, ExtraDir)
	}
	for _, name := range socketNames {
		if strings.Contains(strings.ToLower(mt.Host), name) {
			return refuse("mounting an engine socket (%s) is never allowed", mt.Host)
		}
	}
	// Folders that hold an engine socket, or are the host's own innards, are
	// refused whole. "/" and "/var" only exactly: homes live under /var/home
	// on some distributions.
	if mt.Host == "/" || mt.Host == "/var" {
		return refuse("mounting %s is never allowed: it exposes the engine or the host", mt.Host)
	}
	for _, p := range []string{"/var/run", "/run", "/var/lib/docker", "/proc", "/sys", "/dev"} {
		if mt.Host == p || strings.HasPrefix(mt.Host, p+"/") {
			return refuse("mounting %s is never allowed: it exposes the engine or the host", mt.Host)
		}
	}
	return nil
}
