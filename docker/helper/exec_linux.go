package helper

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
	"golang.org/x/sys/unix"
)

// pipeSize is the buffer asked for a command's stdout pipe: four frames.
const pipeSize = 4 * MaxFrame

// exec runs one command for a stream and reports how it ended. Output is
// sent as it comes; the Exit frame follows once the command ended and
// everything it started was killed.
func (s *server) exec(st *yamux.Stream, req Request) {
	var wmu sync.Mutex
	send := func(typ byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return WriteFrame(st, typ, p)
	}
	sendFramed := func(typ byte, buf []byte, n int) error {
		PutHeader(buf, typ, n)
		wmu.Lock()
		defer wmu.Unlock()
		_, err := st.Write(buf[:HeaderLen+n])
		return err
	}
	fail := func(code int, msg string) {
		_ = send(FrameStderr, []byte("berth-helper: "+msg+"\n"))
		wmu.Lock()
		_ = WriteJSON(st, FrameExit, Exit{Code: code, Error: msg})
		wmu.Unlock()
	}
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		fail(126, "empty command")
		return
	}
	if req.Dir != "" {
		// As docker exec does: a missing working folder is exit 126, named.
		if fi, err := os.Stat(req.Dir); err != nil || !fi.IsDir() {
			fail(126, fmt.Sprintf("chdir to %s: %v", req.Dir, cmp.Or(errString(err), "not a folder")))
			return
		}
	}
	env := commandEnv(req.Env, req.Marker)
	path, err := lookPath(req.Argv[0], env)
	if err != nil {
		fail(127, err.Error())
		return
	}
	var stdinR, stdinW *os.File
	if req.Stdin {
		stdinR, stdinW, err = os.Pipe()
	} else {
		stdinR, err = os.Open(os.DevNull)
	}
	if err != nil {
		fail(126, err.Error())
		return
	}
	outR, outW, err1 := os.Pipe()
	errR, errW, err2 := os.Pipe()
	if err := errors.Join(err1, err2); err != nil {
		fail(126, err.Error())
		return
	}
	// A larger stdout pipe lets a command that prints a lot write on while
	// the helper sends, and the helper read it in whole frames: fewer
	// switches between the two. Best effort (the kernel caps it).
	_, _ = unix.FcntlInt(outR.Fd(), unix.F_SETPIPE_SZ, pipeSize)
	c := &call{marker: req.Marker, done: make(chan syscall.WaitStatus, 1)}
	s.mu.Lock()
	pid, err := syscall.ForkExec(path, req.Argv, &syscall.ProcAttr{
		Dir:   req.Dir,
		Env:   env,
		Files: []uintptr{stdinR.Fd(), outW.Fd(), errW.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err == nil {
		c.pid = pid
		s.calls[pid] = c
	}
	s.mu.Unlock()
	stdinR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if stdinW != nil {
			stdinW.Close()
		}
		code := 126
		if errors.Is(err, syscall.ENOENT) {
			code = 127
		}
		fail(code, fmt.Sprintf("%s: %v", req.Argv[0], err))
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}

	var copies sync.WaitGroup
	pump := func(r *os.File, typ byte) {
		defer copies.Done()
		buf := make([]byte, HeaderLen+MaxFrame)
		for {
			n, err := r.Read(buf[HeaderLen:])
			if n > 0 && sendFramed(typ, buf, n) != nil {
				// Berth went away: drain so the command is not stuck on a
				// full pipe before it is killed.
				_, _ = io.Copy(io.Discard, r)
				return
			}
			if err != nil {
				return
			}
		}
	}
	copies.Add(2)
	go pump(outR, FrameStdout)
	go pump(errR, FrameStderr)

	stdin := newQueue(stdinW)
	go s.control(st, c, stdin)

	ws := <-c.done
	// Whatever the command left behind dies with it.
	s.killCall(c, false)
	s.mu.Lock()
	c.ended = true
	s.mu.Unlock()
	stdin.close(true)
	piped := make(chan struct{})
	go func() { copies.Wait(); close(piped) }()
	select {
	case <-piped:
	case <-time.After(2 * time.Second):
		// A process outside the call holds a copy of its pipes.
		outR.Close()
		errR.Close()
		<-piped
	}
	outR.Close()
	errR.Close()
	ex := Exit{Code: ws.ExitStatus()}
	if ws.Signaled() {
		ex.Signal = int(ws.Signal())
		ex.Code = 128 + ex.Signal
	}
	wmu.Lock()
	_ = WriteJSON(st, FrameExit, ex)
	wmu.Unlock()
}

// control reads Berth's frames for a running command: stdin, signals and
// kill. The end of the stream before the command ended means kill.
func (s *server) control(st *yamux.Stream, c *call, stdin *queue) {
	for {
		typ, p, err := ReadFrame(st, string([]byte{FrameStdin, FrameStdinEOF, FrameSignal, FrameKill}))
		if err != nil {
			typ = FrameKill
		}
		switch typ {
		case FrameStdin:
			stdin.push(p)
		case FrameStdinEOF:
			stdin.close(false)
		case FrameSignal:
			if len(p) == 1 && p[0] > 0 && p[0] < 65 {
				_ = syscall.Kill(-c.pid, syscall.Signal(p[0]))
			}
		case FrameKill:
			stdin.close(true)
			s.mu.Lock()
			ended := c.ended
			s.mu.Unlock()
			if !ended {
				s.killCall(c, false)
			}
			return
		}
	}
}

// commandEnv is the helper's own environment (the sandbox's, as docker
// gave it) with the request's variables over it and the call's marker.
func commandEnv(extra []string, marker string) []string {
	env := map[string]string{}
	var order []string
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = kv
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BERTH_HELPER") {
			set(kv)
		}
	}
	for _, kv := range extra {
		set(kv)
	}
	if marker != "" {
		set("BERTH_EXEC=" + marker)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, env[k])
	}
	return out
}

// lookPath finds a program as a shell would, in the command's PATH.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathVar := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		p := filepath.Join(cmp.Or(dir, "."), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found", name)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// queue feeds a command's stdin without ever blocking the control loop: a
// command that does not read its stdin must still be killable.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	chunks [][]byte
	closed bool
}

func newQueue(w *os.File) *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	if w == nil {
		q.closed = true
		return q
	}
	go func() {
		defer w.Close()
		for {
			q.mu.Lock()
			for len(q.chunks) == 0 && !q.closed {
				q.cond.Wait()
			}
			if len(q.chunks) == 0 {
				q.mu.Unlock()
				return
			}
			p := q.chunks[0]
			q.chunks = q.chunks[1:]
			q.mu.Unlock()
			if _, err := w.Write(p); err != nil {
				q.close(true)
				return
			}
		}
	}()
	return q
}

func (q *queue) push(p []byte) {
	q.mu.Lock()
	if !q.closed {
		q.chunks = append(q.chunks, p)
	}
	q.mu.Unlock()
	q.cond.Signal()
}

// close ends the stdin once what was pushed is written, or at once when
// discard is set.
func (q *queue) close(discard bool) {
	q.mu.Lock()
	q.closed = true
	if discard {
		q.chunks = nil
	}
	q.mu.Unlock()
	q.cond.Broadcast()
}
