// Command probe is what the leftover-process and system-call attacks of
// procs_test.go run inside a sandbox: a static program that makes the calls
// busybox has no tool for. It is built by the test, never shipped.
//
//	probe calls            try each forbidden call once, print "name: result"
//	probe ptrace PID       try PTRACE_ATTACH on PID
//	probe spy LOG          a survivor: log every process it sees, ptrace each
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe calls | ptrace PID | spy LOG")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "calls":
		calls()
	case "ptrace":
		pid, _ := strconv.Atoi(os.Args[2])
		fmt.Printf("ptrace %d: %s\n", pid, result(attach(pid)))
	case "spy":
		spy(os.Args[2])
	}
}

// result names an error the way the tests match it: "ok" or the errno's name.
func result(err error) string {
	var en unix.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &en):
		return unix.ErrnoName(en)
	default:
		return err.Error()
	}
}

func raw(trap uintptr, a ...uintptr) error {
	var args [6]uintptr
	copy(args[:], a)
	r, _, e := unix.Syscall6(trap, args[0], args[1], args[2], args[3], args[4], args[5])
	if e != 0 {
		return e
	}
	if trap == unix.SYS_USERFAULTFD || trap == unix.SYS_IO_URING_SETUP || trap == unix.SYS_PERF_EVENT_OPEN || trap == unix.SYS_BPF {
		unix.Close(int(r))
	}
	return nil
}

// attach attaches to pid and detaches again.
func attach(pid int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, unix.WALL, nil)
	return unix.PtraceDetach(pid)
}

// calls tries each call on a target that works without seccomp for an
// unprivileged user (the process's own child, its own memory, its own
// keyring), so that EPERM can only be the profile.
func calls() {
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		fmt.Println("child:", err)
		os.Exit(1)
	}
	defer child.Process.Kill()
	fmt.Printf("ptrace: %s\n", result(attach(child.Process.Pid)))

	buf, src := []byte("abcdefgh"), make([]byte, 8)
	copy(src, "12345678")
	local := []unix.Iovec{{Base: &buf[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&src[0])), Len: 8}}
	_, err := unix.ProcessVMReadv(os.Getpid(), local, remote, 0)
	fmt.Printf("process_vm_readv: %s\n", result(err))
	_, err = unix.ProcessVMWritev(os.Getpid(), local, remote, 0)
	fmt.Printf("process_vm_writev: %s\n", result(err))

	var params [120]byte // struct io_uring_params, zeroed
	fmt.Printf("io_uring_setup: %s\n", result(raw(unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])))))
	fmt.Printf("io_uring_enter: %s\n", result(raw(unix.SYS_IO_URING_ENTER, ^uintptr(0), 0, 0, 0, 0, 0)))
	fmt.Printf("io_uring_register: %s\n", result(raw(unix.SYS_IO_URING_REGISTER, ^uintptr(0), 0, 0, 0)))
	const uffdUserModeOnly = 1
	fmt.Printf("userfaultfd: %s\n", result(raw(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|uffdUserModeOnly)))
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_TASK_CLOCK,
		Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})), Bits: unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv}
	fmt.Printf("perf_event_open: %s\n", result(raw(unix.SYS_PERF_EVENT_OPEN, uintptr(unsafe.Pointer(&attr)), 0, ^uintptr(0), ^uintptr(0), 0)))
	var mapAttr [72]byte                        // union bpf_attr for BPF_MAP_CREATE: an array map of one 4-byte value
	*(*uint32)(unsafe.Pointer(&mapAttr[0])) = 2 // BPF_MAP_TYPE_ARRAY
	*(*uint32)(unsafe.Pointer(&mapAttr[4])) = 4
	*(*uint32)(unsafe.Pointer(&mapAttr[8])) = 4
	*(*uint32)(unsafe.Pointer(&mapAttr[12])) = 1
	fmt.Printf("bpf: %s\n", result(raw(unix.SYS_BPF, 0, uintptr(unsafe.Pointer(&mapAttr[0])), uintptr(len(mapAttr)))))
	_, err = unix.KeyctlGetKeyringID(unix.KEY_SPEC_PROCESS_KEYRING, true)
	fmt.Printf("keyctl: %s\n", result(err))
	_, err = unix.AddKey("user", "berth-probe", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
	fmt.Printf("add_key: %s\n", result(err))
	_, err = unix.RequestKey("user", "berth-probe", "", unix.KEY_SPEC_PROCESS_KEYRING)
	fmt.Printf("request_key: %s\n", result(err))
	const perLinux32 = 0x0008
	fmt.Printf("personality PER_LINUX32: %s\n", result(raw(unix.SYS_PERSONALITY, perLinux32)))
	_ = raw(unix.SYS_PERSONALITY, 0) // back to the default, should the call have worked
	fmt.Printf("personality query: %s\n", result(raw(unix.SYS_PERSONALITY, 0xffffffff)))
}

// spy is a survivor: it writes every process it sees (pid and command line)
// to log, and tries to attach to each, and to PID 1, until it is killed.
func spy(log string) {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		os.Exit(1)
	}
	fmt.Fprintf(f, "spy %d started\n", os.Getpid())
	fmt.Fprintf(f, "ptrace 1: %s\n", result(attach(1)))
	// A pid is logged again when its command line changes: a new process
	// shows up as "runc init" until it runs its program.
	seen := map[int]string{os.Getpid(): "self", 1: "init"}
	for {
		ents, _ := filepath.Glob("/proc/[0-9]*")
		var pids []int
		for _, e := range ents {
			if pid, err := strconv.Atoi(filepath.Base(e)); err == nil {
				pids = append(pids, pid)
			}
		}
		sort.Ints(pids)
		for _, pid := range pids {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			cmd := strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
			if cmd == "" || seen[pid] == cmd || seen[pid] == "self" || seen[pid] == "init" {
				continue
			}
			seen[pid] = cmd
			fmt.Fprintf(f, "seen %d %s\n", pid, cmd)
			fmt.Fprintf(f, "ptrace %d: %s\n", pid, result(attach(pid)))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
