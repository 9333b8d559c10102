//go:build race

package desktop_test

// raceEnabled: this test binary was built with -race.
const raceEnabled = true
