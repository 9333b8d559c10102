package assistant

import (
	"cmp"
	"context"
)

// The disk guard's hook into the gate: while a disk is almost full the gate
// is closed (GateState.Disk), and it opens again once a check finds room.

// setDisk sets (st != nil) or clears the disk's reading of the gate.
func (r *Runtime) setDisk(st *diskFull) {
	r.mu.Lock()
	prev := r.disk
	same := (prev == nil) == (st == nil) && (prev == nil || *prev == *st)
	r.disk = st
	r.mu.Unlock()
	if !same {
		r.update()
	}
}

// checkDisk reads the disks again (on each tick, when Docker becomes
// ready, on Retry).
func (r *Runtime) checkDisk() {
	if st, low := r.svc.diskGate(cmp.Or(r.root, context.Background())); low {
		r.setDisk(&st)
		return
	}
	r.setDisk(nil)
}
