//go:build linux

package desktop

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void berthTrim(void) { malloc_trim(0); }
#else
static void berthTrim(void) {}
#endif
*/
import "C"

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// The madvise(2) advice used on the file mappings.
const (
	madvNormal  = 0  // MADV_NORMAL: read ahead around a fault again
	madvRandom  = 1  // MADV_RANDOM: map only the page that faulted
	madvPageout = 21 // MADV_PAGEOUT (5.4+): reclaim these pages now
)

// releaseMemory gives back what the closed window no longer needs: the Go
// heap's free pages, the C heap's (Mesa's, once the window's GL context is
// gone), and the clean file-backed pages of the binary and the libraries
// (the GL stack's among them), which the kernel would reclaim under memory
// pressure anyway; what the tray's idle work touches again comes back from
// the page cache. Pages other processes map too are left alone by the
// kernel. While the tray alone runs, the file mappings are marked random:
// a page the tray touches again comes back alone, not with the 64 KB
// around it that the kernel maps by default (that took the binary's
// resident pages from ~17 back to ~27 MB within seconds).
func releaseMemory() {
	debug.FreeOSMemory()
	C.berthTrim()
	adviseFiles(madvRandom)
	adviseFiles(madvPageout)
}

// restoreMemory undoes releaseMemory's advice before a window opens again,
// so that what it needs is read ahead as usual.
func restoreMemory() { adviseFiles(madvNormal) }

// adviseFiles gives advice to the kernel on every read-only file mapping
// (the binary's code and data, the shared libraries').
func adviseFiles(advice uintptr) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// An error (an old kernel without MADV_PAGEOUT) only means the
		// pages stay.
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), advice)
	}
}
