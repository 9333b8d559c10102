//go:build berthprof

package desktop

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

// With the build tag berthprof, SIGUSR1 writes a heap profile (after a GC)
// to BERTH_HEAPPROF/heap-N.pb.gz: how the README's heap figures were read.
func init() {
	dir := os.Getenv("BERTH_HEAPPROF")
	if dir == "" {
		return
	}
	runtime.MemProfileRate = 4096
	cpu := make(chan os.Signal, 1)
	signal.Notify(cpu, syscall.SIGUSR2)
	go func() {
		for n := 0; ; n++ {
			<-cpu
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pb.gz", n)))
			if err != nil {
				continue
			}
			pprof.StartCPUProfile(f)
			time.Sleep(10 * time.Second)
			pprof.StopCPUProfile()
			f.Close()
		}
	}()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		for n := 0; ; n++ {
			<-ch
			runtime.GC()
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pb.gz", n)))
			if err != nil {
				continue
			}
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("memstats-%d.txt", n)), fmt.Appendf(nil,
				"HeapAlloc %d\nHeapInuse %d\nHeapIdle %d\nHeapReleased %d\nSys %d\nStackInuse %d\nNumGC %d\n",
				ms.HeapAlloc, ms.HeapInuse, ms.HeapIdle, ms.HeapReleased, ms.Sys, ms.StackInuse, ms.NumGC), 0o644)
		}
	}()
}
