//go:build !linux

package desktop

import "runtime/debug"

// releaseMemory gives the Go heap's free pages back to the system.
func releaseMemory() { debug.FreeOSMemory() }

// restoreMemory has nothing to undo here.
func restoreMemory() {}
