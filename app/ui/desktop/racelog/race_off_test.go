//go:build !race

package racelog

const raceEnabled = false
