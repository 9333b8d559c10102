package helper

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hashicorp/yamux"
	"golang.org/x/sys/unix"
)

// Serve runs the helper over one channel (the exec's stdin and stdout)
// until it closes, then kills every process it started. It makes itself a
// child subreaper, so that whatever a command leaves behind (a double fork,
// a new session) stays its descendant and can be found and killed.
func Serve(in io.Reader, out io.Writer) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become a subreaper: %w", err)
	}
	// A write to a closed stdout must be an error, not a silent death that
	// would leave the commands' processes behind.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	prewarmThreads(spareThreads)
	s := &server{egress: &egress{}, self: os.Getpid(), calls: map[int]*call{}, exited: map[int]syscall.WaitStatus{}, kick: make(chan struct{}, 1)}
	go s.reap()
	if _, err := io.WriteString(out, Magic); err != nil {
		return err
	}
	sess, err := yamux.Server(rwc{in, NewCoalescer(out)}, Config())
	if err != nil {
		return err
	}
	defer s.killAll()
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			if sess.IsClosed() {
				return nil
			}
			return err
		}
		go s.handle(st)
	}
}

// spareThreads is how many OS threads the helper makes at start. Each
// counts against the sandbox's pids limit, so they are few: enough for the
// helper's own peak (the reaper in wait4, the channel's reads and writes).
const spareThreads = 8

// prewarmThreads makes the Go runtime start n OS threads now, while the
// sandbox has processes to spare: they stay parked and are reused. A command
// that uses up the sandbox's pids limit (a fork bomb, a huge make -j) would
// otherwise leave the helper unable to start the thread it needs to report
// the command's end — and the Go runtime dies when it cannot (newosproc).
func prewarmThreads(n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A blocking system call holds its thread: the runtime starts
			// another for the next goroutine.
			ts := unix.Timespec{Nsec: 30e6}
			_ = unix.Nanosleep(&ts, nil)
		}()
	}
	wg.Wait()
}

type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

type server struct {
	egress *egress
	self   int
	mu     sync.Mutex
	calls  map[int]*call // by pid of the command
	exited map[int]syscall.WaitStatus
	kick   chan struct{}
}

type call struct {
	pid    int
	marker string
	done   chan syscall.WaitStatus
	ended  bool // under server.mu: its end was handled, its pid may be reused
}

func (s *server) handle(st *yamux.Stream) {
	defer st.Close()
	typ, p, err := ReadFrame(st, string(FrameRequest))
	if err != nil || typ != FrameRequest {
		return
	}
	var req Request
	if ReadJSON(p, &req) != nil {
		return
	}
	switch req.Kind {
	case KindHello:
		ex := Exit{Version: Version, Arch: runtime.GOARCH}
		if req.Listen != "" {
			var err error
			if ex.Listen, err = s.egress.listen(st.Session(), req.Listen); err != nil {
				ex.Error = "network egress: " + err.Error()
			}
		}
		_ = WriteJSON(st, FrameExit, ex)
	case KindExec:
		s.exec(st, req)
	case KindReadFile, KindWriteFile:
		serveFile(st, req)
	default:
		_ = WriteJSON(st, FrameExit, Exit{Code: 126, Error: fmt.Sprintf("unknown stream kind %q", req.Kind)})
	}
}

// reap collects every child's exit status: the commands' (handed to their
// waiters) and those of orphans that were reparented to the helper.
func (s *server) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, syscall.ECHILD):
			<-s.kick
			continue
		case err != nil:
			continue
		}
		s.mu.Lock()
		if c := s.calls[pid]; c != nil {
			c.done <- ws
			delete(s.calls, pid)
		}
		s.mu.Unlock()
	}
}

// proc is one line of /proc/PID/stat.
type proc struct {
	pid, ppid, pgrp, sid int
	zombie               bool
}

func readProcs() []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := make([]proc, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses: parse after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 4 {
			continue
		}
		p := proc{pid: pid, zombie: f[0] == "Z" || f[0] == "X"}
		p.ppid, _ = strconv.Atoi(f[1])
		p.pgrp, _ = strconv.Atoi(f[2])
		p.sid, _ = strconv.Atoi(f[3])
		out = append(out, p)
	}
	return out
}

func hasMarker(pid int, marker string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false
	}
	want := "BERTH_EXEC=" + marker
	for _, kv := range strings.Split(string(b), "\x00") {
		if kv == want {
			return true
		}
	}
	return false
}

// killCall stops and kills every process that belongs to c: its session,
// its process group, whatever carries its marker, their descendants, and
// orphans reparented to the helper that no other running call claims. It
// repeats until none is left, stopping before killing so that a fork loop
// cannot outrun it. If all is set, every descendant of the helper dies.
func (s *server) killCall(c *call, all bool) {
	for round := 0; round < 100; round++ {
		// Read the processes first, then the running calls: a command is
		// registered under s.mu in the same breath as it is forked, so any
		// command seen here is known by the time the lock is taken.
		procs := readProcs()
		s.mu.Lock()
		others := map[int]string{}
		for pid, o := range s.calls {
			if o != c {
				others[pid] = o.marker
			}
		}
		s.mu.Unlock()
		// If c's pid was reused by another call's command, c's session and
		// group number now name that call: match c by its marker only.
		_, reused := others[c.pidOr0()]
		children := map[int][]int{}
		for _, p := range procs {
			children[p.ppid] = append(children[p.ppid], p.pid)
		}
		target := map[int]bool{}
		for _, p := range procs {
			if p.pid == s.self || p.pid == 1 || p.zombie {
				continue
			}
			if _, live := others[p.pid]; live {
				continue
			}
			switch {
			case all && p.ppid == s.self:
				target[p.pid] = true
			case c != nil && !reused && (p.sid == c.pid || p.pgrp == c.pid || p.pid == c.pid):
				target[p.pid] = true
			case c != nil && p.ppid == s.self:
				claimed := false
				for _, m := range others {
					if hasMarker(p.pid, m) {
						claimed = true
						break
					}
				}
				if !claimed {
					target[p.pid] = true
				}
			case c != nil && hasMarker(p.pid, c.marker):
				target[p.pid] = true
			}
		}
		// Descendants of a target are targets, except other calls' commands.
		stack := make([]int, 0, len(target))
		for pid := range target {
			stack = append(stack, pid)
		}
		for len(stack) > 0 {
			pid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, ch := range children[pid] {
				if _, live := others[ch]; !target[ch] && !live {
					target[ch] = true
					stack = append(stack, ch)
				}
			}
		}
		if len(target) == 0 {
			return
		}
		for pid := range target {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		for pid := range target {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	log.Printf("berth-helper: processes survived 100 rounds of killing")
}

func (s *server) killAll() { s.killCall(nil, true) }

func (c *call) pidOr0() int {
	if c == nil {
		return 0
	}
	return c.pid
}
