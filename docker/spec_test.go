package docker

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func baseSpec() Spec {
	return Spec{Image: "img:1", InstallationID: "h1", Group: "work", Session: "s1", User: "1000:1000",
		Mounts: []Mount{{Host: "/home/u/berth/groups/work", Container: GroupDir}}}
}

func TestContainerConfigDefaultsAreHardened(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	cfg, host, err := containerConfig(baseSpec(), now)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"network none", host.NetworkMode == "none" && cfg.NetworkDisabled},
		{"read-only root", host.ReadonlyRootfs},
		{"cap drop ALL", len(host.CapDrop) == 1 && host.CapDrop[0] == "ALL" && len(host.CapAdd) == 0},
		{"no-new-privileges", len(host.SecurityOpt) == 2 && host.SecurityOpt[0] == "no-new-privileges:true"},
		{"berth seccomp profile", len(host.SecurityOpt) == 2 && host.SecurityOpt[1] == "seccomp="+string(seccompJSON)},
		{"not privileged", !host.Privileged},
		{"init", host.Init != nil && *host.Init},
		{"pids limit", host.PidsLimit != nil && *host.PidsLimit == DefaultPids},
		{"memory limit, no swap", host.Memory == DefaultMemory && host.MemorySwap == DefaultMemory},
		{"cpu limit", host.NanoCPUs == 1e9},
		{"user", cfg.User == "1000:1000"},
		{"tmp tmpfs capped", strings.Contains(host.Tmpfs["/tmp"], "size=268435456")},
		{"home tmpfs owned by user", strings.Contains(host.Tmpfs[SandboxHome], "uid=1000,gid=1000")},
		{"only the helper's tmpfs allows exec", strings.Contains(host.Tmpfs[HelperDir], ",exec,") && strings.Contains(host.Tmpfs[HelperDir], "uid=1000,gid=1000") &&
			!strings.Contains(host.Tmpfs["/tmp"], ",exec") && !strings.Contains(host.Tmpfs[SandboxHome], ",exec") && len(host.Tmpfs) == 3},
		{"auto remove", host.AutoRemove},
		{"max age ends main process", len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "sleep" && cfg.Cmd[0] == "7200"},
		{"labels", cfg.Labels[LabelApp] == "1" && cfg.Labels[LabelHome] == "h1" && cfg.Labels[LabelGroup] == "work" && cfg.Labels[LabelSession] == "s1"},
		{"expiry label", cfg.Labels[LabelExpires] == "1700007200"},
		{"workdir is the group folder", cfg.WorkingDir == GroupDir},
		{"no host pid/ipc", host.PidMode == "" && host.IpcMode == ""},
		{"group folder rw bind", len(host.Mounts) == 1 && !host.Mounts[0].ReadOnly && host.Mounts[0].Target == GroupDir},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not applied (config %+v, host %+v)", c.name, cfg, host)
		}
	}
	for _, b := range host.Binds {
		t.Errorf("unexpected bind %q", b)
	}
}

func TestContainerConfigMountsAndMasks(t *testing.T) {
	t.Parallel()
	s := baseSpec()
	s.Mounts = append(s.Mounts, Mount{Host: "/home/u/code", Container: ExtraDir + "/code", ReadOnly: true})
	s.Masks = []Mask{{Path: ExtraDir + "/code/.env"}, {Path: ExtraDir + "/code/.ssh", Dir: true}}
	_, host, err := containerConfig(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(host.Mounts); got != 4 {
		t.Fatalf("got %d mounts, want 4", got)
	}
	if m := host.Mounts[1]; !m.ReadOnly || m.Source != "/home/u/code" {
		t.Errorf("extra mount: got %+v, want read-only /home/u/code", m)
	}
	if m := host.Mounts[2]; m.Source != "/dev/null" || !m.ReadOnly || m.Target != ExtraDir+"/code/.env" {
		t.Errorf("file mask: got %+v", m)
	}
	if m := host.Mounts[3]; m.Type != "tmpfs" || !m.ReadOnly {
		t.Errorf("dir mask: got %+v", m)
	}
}

func TestContainerConfigRefusesUnsafeSpecs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"privileged", func(s *Spec) { s.Privileged = true }, "privileged"},
		{"cap add", func(s *Spec) { s.CapAdd = []string{"SYS_ADMIN"} }, "capabilities"},
		{"host network", func(s *Spec) { s.Network = "host" }, "host networking"},
		{"container network", func(s *Spec) { s.Network = "container:abc" }, "not supported"},
		{"host pid", func(s *Spec) { s.PidMode = "host" }, "PID namespace"},
		{"host ipc", func(s *Spec) { s.IPCMode = "host" }, "IPC namespace"},
		{"root user", func(s *Spec) { s.User = "0:0" }, "never runs as root"},
		{"root group", func(s *Spec) { s.User = "1000:0" }, "never runs as root"},
		{"named user", func(s *Spec) { s.User = "root" }, "numeric"},
		{"docker socket", func(s *Spec) {
			s.Mounts = append(s.Mounts, Mount{Host: "/var/run/docker.sock", Container: ExtraDir + "/d"})
		}, "engine socket"},
		{"socket under home", func(s *Spec) {
			s.Mounts = append(s.Mounts, Mount{Host: "/home/u/.docker/run/docker.sock", Container: ExtraDir + "/d"})
		}, "engine socket"},
		{"folder holding the socket", func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Host: "/var/run", Container: ExtraDir + "/d"}) }, "never allowed"},
		{"/run", func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Host: "/run/user/1000", Container: ExtraDir + "/d"}) }, "never allowed"},
		{"root folder", func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Host: "/", Container: ExtraDir + "/d"}) }, "never allowed"},
		{"docker data", func(s *Spec) {
			s.Mounts = append(s.Mounts, Mount{Host: "/var/lib/docker/volumes", Container: ExtraDir + "/d"})
		}, "never allowed"},
		{"relative source", func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Host: "code", Container: ExtraDir + "/d"}) }, "clean absolute"},
		{"unclean source", func(s *Spec) {
			s.Mounts = append(s.Mounts, Mount{Host: "/home/u/../../etc", Container: ExtraDir + "/d"})
		}, "clean absolute"},
		{"target outside workspace", func(s *Spec) { s.Mounts = append(s.Mounts, Mount{Host: "/home/u/x", Container: "/etc"}) }, "mount target"},
		{"duplicate target", func(s *Spec) {
			s.Mounts = append(s.Mounts, Mount{Host: "/home/u/x", Container: GroupDir})
		}, "two mounts"},
		{"key in env", func(s *Spec) { s.Env = []string{"ANTHROPIC_API_KEY=sk-1"} }, "credential"},
		{"token in env", func(s *Spec) { s.Env = []string{"GITHUB_TOKEN=x"} }, "credential"},
		{"bad group label", func(s *Spec) { s.Group = "Work Stuff" }, "group"},
		{"tiny memory", func(s *Spec) { s.Memory = 1024 }, "limits too small"},
		{"tmpfs bigger than memory allows", func(s *Spec) { s.Memory = 64 << 20; s.TmpSize = 64 << 20 }, "half of"},
		{"unknown runtime", func(s *Spec) { s.Runtime = "kata" }, "runtime"},
		{"mask outside workspace", func(s *Spec) { s.Masks = []Mask{{Path: "/etc/passwd"}} }, "mask"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := baseSpec()
			c.change(&s)
			_, _, err := containerConfig(s, time.Now())
			if !errors.Is(err, ErrUnsafeSpec) {
				t.Fatalf("got %v, want an ErrUnsafeSpec refusal", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %q, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestContainerConfigAllowsDeliberateChoices(t *testing.T) {
	t.Parallel()
	s := baseSpec()
	s.Network = "bridge"
	s.Runtime = "runsc"
	s.Env = []string{"EDITOR=vi"}
	s.Mounts = append(s.Mounts, Mount{Host: "/var/home/u/code", Container: ExtraDir + "/code"})
	if _, host, err := containerConfig(s, time.Now()); err != nil {
		t.Fatal(err)
	} else if host.NetworkMode != "bridge" || host.Runtime != "runsc" {
		t.Errorf("got network %q runtime %q, want bridge and runsc", host.NetworkMode, host.Runtime)
	}
	small := baseSpec()
	small.Memory = 64 << 20
	if _, host, err := containerConfig(small, time.Now()); err != nil || !strings.Contains(host.Tmpfs["/tmp"], "size=16777216") {
		t.Errorf("with 64 MiB of memory each tmpfs gets a quarter: %v %v", host.Tmpfs, err)
	}
}

func TestHostUserIsNeverRoot(t *testing.T) {
	t.Parallel()
	if u := HostUser(); strings.HasPrefix(u, "0:") {
		t.Errorf("HostUser() = %q, want a non-root uid", u)
	}
}

func TestContainerConfigRefusesAnotherSeccompProfile(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"unconfined", "berth-0000000000000000", "default"} {
		s := baseSpec()
		s.Seccomp = p
		if _, _, err := containerConfig(s, time.Now()); !errors.Is(err, ErrUnsafeSpec) || !strings.Contains(err.Error(), "not Berth's own") {
			t.Errorf("seccomp %q: got %v, want a refusal", p, err)
		}
	}
	s := baseSpec().WithDefaults()
	if s.Seccomp != SeccompProfile {
		t.Errorf("the default spec records seccomp %q, want %q", s.Seccomp, SeccompProfile)
	}
	other := s
	other.Seccomp = "berth-0000000000000000"
	if s.Digest() == other.Digest() {
		t.Error("the spec digest does not change with the seccomp profile: a warm sandbox under an old profile would be reused")
	}
}

func TestContainerConfigEgress(t *testing.T) {
	t.Parallel()
	s := baseSpec()
	s.Egress = true
	cfg, host, err := containerConfig(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Join(cfg.Env, "\n")
	for _, want := range []string{"HTTP_PROXY=" + EgressProxyURL, "HTTPS_PROXY=" + EgressProxyURL, "http_proxy=" + EgressProxyURL,
		"https_proxy=" + EgressProxyURL, "NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1"} {
		if !strings.Contains(env, want+"\n") && !strings.HasSuffix(env, want) {
			t.Errorf("env lacks %s: %q", want, cfg.Env)
		}
	}
	if cfg.Labels[LabelEgress] != "1" || host.NetworkMode != "none" || !cfg.NetworkDisabled {
		t.Errorf("label %q, network %q disabled %v", cfg.Labels[LabelEgress], host.NetworkMode, cfg.NetworkDisabled)
	}
	plain, _, err := containerConfig(baseSpec(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.Labels[LabelEgress]; ok || strings.Contains(strings.Join(plain.Env, " "), "PROXY") {
		t.Errorf("a sandbox without egress got its label or proxy env: %v %q", plain.Labels, plain.Env)
	}
	for _, bad := range []func(*Spec){
		func(s *Spec) { s.Network = "bridge" },
		func(s *Spec) { s.Env = []string{"https_proxy=http://elsewhere:8080"} },
	} {
		s := baseSpec()
		s.Egress = true
		bad(&s)
		if _, _, err := containerConfig(s, time.Now()); !errors.Is(err, ErrUnsafeSpec) {
			t.Errorf("%+v: got %v, want a refusal", s, err)
		}
	}
}
