package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// hostBusybox is this host's static amd64 busybox, or "".
func hostBusybox() string {
	for _, p := range hostBusyboxPaths {
		if b, err := os.ReadFile(p); err == nil && checkStaticELF(b, "amd64") == nil {
			return p
		}
	}
	return ""
}

// TestFindBusyboxChoosesBySourceAndArchitecture: which busybox an engine
// gets, for each host, engine and file found — and when the image is built
// on the pulled official image instead.
func TestFindBusyboxChoosesBySourceAndArchitecture(t *testing.T) {
	t.Parallel()
	host := hostBusybox()
	Require(t, host != "" && hostFinder().runsHere("amd64"), "needs linux/amd64 with busybox-static installed")
	self, err := os.Executable() // a cgo test binary: linked dynamically
	if err != nil {
		t.Fatal(err)
	}
	pulled := "pulled" // find's answer when EnsureTestImage builds on PulledBase
	for _, tc := range []struct {
		name         string
		f            finder
		arch         string
		from, refuse string
	}{
		{"a linux/amd64 host lends its busybox to an amd64 engine",
			finder{goos: "linux", goarch: "amd64", hostPaths: []string{"/nonexistent", host}}, "amd64", host, ""},
		{"… not to an arm64 engine, which builds on the pulled image",
			finder{goos: "linux", goarch: "amd64", hostPaths: []string{host}}, "arm64", pulled, ""},
		{"a macOS host builds on the pulled image",
			finder{goos: "darwin", goarch: "arm64", hostPaths: []string{host}}, "arm64", pulled, ""},
		{"a linux host without busybox-static builds on the pulled image",
			finder{goos: "linux", goarch: "amd64", hostPaths: []string{"/nonexistent"}}, "amd64", pulled, ""},
		{"a dynamic host busybox is passed over",
			finder{goos: "linux", goarch: "amd64", hostPaths: []string{self}}, "amd64", pulled, ""},
		{"the named file wins",
			finder{goos: "darwin", goarch: "arm64", override: host}, "amd64", host, ""},
		{"the named file for the wrong architecture is refused, not replaced",
			finder{goos: "darwin", goarch: "arm64", override: host}, "arm64", "", "built for EM_X86_64, the engine is arm64"},
		{"a named dynamic file is refused",
			finder{goos: "linux", goarch: "amd64", override: self}, "amd64", "", "linked dynamically"},
		{"an engine of another architecture",
			finder{goos: "linux", goarch: "amd64", hostPaths: []string{host}}, "riscv64", "", "no test image for the engine's architecture riscv64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bb, err := tc.f.find(tc.arch)
			switch {
			case tc.from == pulled:
				if !errors.Is(err, errNoHostBusybox) {
					t.Errorf("got %v (from %q), want errNoHostBusybox", err, bb.from)
				}
			case tc.refuse != "":
				if err == nil || errors.Is(err, errNoHostBusybox) || !strings.Contains(err.Error(), tc.refuse) {
					t.Errorf("got %v (from %q), want a refusal with %q", err, bb.from, tc.refuse)
				}
			case err != nil:
				t.Fatal(err)
			case bb.from != tc.from || checkStaticELF(bb.bin, tc.arch) != nil:
				t.Errorf("got a busybox from %q (%v), want one from %q for %s", bb.from, checkStaticELF(bb.bin, tc.arch), tc.from, tc.arch)
			}
		})
	}
}

// TestTestImageOnAPulledBase builds the test image as a macOS host does —
// with the Dockerfile laid on the official busybox image — on a base this
// registry-free engine has (the image-import build stands in for the
// pulled one), and runs the tools the tests use.
func TestTestImageOnAPulledBase(t *testing.T) {
	t.Parallel()
	c := Client(t)
	_, err := exec.LookPath("docker")
	Require(t, err == nil, "the docker CLI is not installed (apt-get install docker.io)")
	ctx := context.Background()
	if err := EnsureTestImage(ctx, c); err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("berth-test:on-pulled-base-%d", os.Getpid()) // its own: other test processes share the engine
	host := c.Endpoint().Host
	t.Cleanup(func() { exec.Command("docker", "-H", host, "rmi", "-f", ref).Run() })
	if err := c.BuildImage(ctx, ref, pulledDockerfile(TestImage), nil); err != nil {
		t.Fatal(err)
	}
	script := `test -d /workspace && test -d /home && echo hi | sha256sum; head -c 3 /etc/passwd; echo; sleep 0; nc 2>&1 | head -n 1 | cut -c1-7; wget 2>&1 | head -n 1 | cut -c1-7`
	out, err := exec.Command("docker", "-H", host, "run", "--rm", "--network", "none", ref, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	want := "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4  -\nroo\nBusyBox\nBusyBox\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	t.Logf("%s built with the Dockerfile for %s runs sh, sha256sum, head, sleep, nc, wget", ref, PulledBase)
}
