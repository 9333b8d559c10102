// Package need is the one rule for a test whose prerequisite is missing:
// skip with the reason on a workstation, fail under CI=true, where
// everything must run. It imports nothing of Berth's, so that test binaries
// that do not talk to Docker (the store's, the mounts') stay small;
// dockertest builds on it.
package need

import (
	"os"
	"testing"
)

// InCI reports whether missing prerequisites must fail rather than skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// DeliberatePrefix starts the reason of a skip that is by design (a
// measurement, a generator, a helper process, another platform's test): the
// test summary lets those through under CI and fails on any other skip.
const DeliberatePrefix = "deliberate: "

// Require skips the test when ok is false on a workstation, and fails it
// under CI.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true and %s", why)
	}
	t.Skip(why)
}

// Deliberately skips a test that is not meant to run here, saying why.
func Deliberately(t testing.TB, why string) {
	t.Helper()
	t.Skip(DeliberatePrefix + why)
}
