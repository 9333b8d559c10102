// Package dockertest helps tests talk to a real Docker engine: it finds one
// (or explains why a test is skipped), builds a tiny busybox image without
// any registry, puts a fault proxy in front of the engine's socket, and can
// start a private daemon that a test may kill.
package dockertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest/need"
)

// TestImage is the image tests run sandboxes from.
const TestImage = "berth-test:busybox"

// InCI reports whether missing prerequisites must fail rather than skip.
func InCI() bool { return need.InCI() }

// NoEngineEnv, set to 1 (by `make test-unit`), skips every test that needs a
// Docker engine, deliberately.
const NoEngineEnv = "BERTH_NO_ENGINE"

// DeliberatePrefix starts the reason of a skip that is by design (see
// need.DeliberatePrefix).
const DeliberatePrefix = need.DeliberatePrefix

// SkipDeliberately skips a test that is not meant to run here, saying why.
func SkipDeliberately(t testing.TB, why string) {
	t.Helper()
	need.Deliberately(t, why)
}

// skipWithoutEngine skips, deliberately, under `make test-unit`.
func skipWithoutEngine(t testing.TB) {
	t.Helper()
	if os.Getenv(NoEngineEnv) == "1" {
		SkipDeliberately(t, "needs a Docker engine, and "+NoEngineEnv+"=1 (make test-unit) runs only the tests that need none")
	}
}

// Require skips the test when ok is false on a workstation, and fails it in CI.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	need.Require(t, ok, why)
}

// Client connects to the engine the environment names (DOCKER_HOST or the
// docker context) and makes sure it answers and has the test image. Its
// sandboxes get the helper, built for the test (see WithHelper).
func Client(t testing.TB) *docker.Client {
	t.Helper()
	skipWithoutEngine(t)
	c, err := docker.New()
	if err != nil {
		Require(t, false, "no Docker client: "+err.Error())
		return nil
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := c.Check(ctx, "", "")
	Require(t, st.State == docker.Ready,
		"no Docker engine answers at "+c.Endpoint().Host+" ("+st.Reason+"); run `make test`, which starts a private engine")
	if err := EnsureTestImage(ctx, c); err != nil {
		t.Fatalf("test image: %v", err)
	}
	return WithHelper(t, c)
}
