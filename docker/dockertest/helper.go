package dockertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/berth-app/berth/docker"
)

// HelperPackage is the sandbox helper's main package.
const HelperPackage = "github.com/berth-app/berth/docker/helper/cmd/berth-helper"

var helperBuilds sync.Map // GOARCH → *helperBuild

type helperBuild struct {
	once sync.Once
	bin  []byte
	err  error
}

// HelperBinary builds the sandbox helper for linux/arch (static, as `make
// build` does) once per test process and returns it.
func HelperBinary(t testing.TB, arch string) []byte {
	t.Helper()
	bin, err := buildHelper(arch)
	if err != nil {
		t.Fatalf("build the sandbox helper for linux/%s: %v", arch, err)
	}
	return bin
}

func buildHelper(arch string) ([]byte, error) {
	v, _ := helperBuilds.LoadOrStore(arch, &helperBuild{})
	b := v.(*helperBuild)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-helper-")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "berth-helper")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, HelperPackage)
		// GOFLAGS cleared: make test's -race is for the tests, not for what
		// runs in a sandbox.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(msg)}
			return
		}
		b.bin, b.err = os.ReadFile(out)
	})
	return b.bin, b.err
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// WithHelper makes c deliver a freshly built helper into its sandboxes, so
// that tests exercise the helper path as `make build` ships it.
func WithHelper(t testing.TB, c *docker.Client) *docker.Client {
	t.Helper()
	HelperBinary(t, runtime.GOARCH) // the usual engine's; fail here, not in a call
	c.UseHelperBinaries(func(arch string) []byte {
		bin, _ := buildHelper(arch) // a failed build shows as the fallback's reason
		return bin
	})
	return c
}

// WithoutHelper makes c run every call through docker exec (the fallback).
func WithoutHelper(c *docker.Client) *docker.Client {
	c.UseHelperBinaries(nil)
	return c
}
