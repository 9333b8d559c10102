//go:build !race

package desktop_test

const raceEnabled = false
