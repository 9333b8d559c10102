// Package helper is the protocol between Berth and the small program that
// runs inside each sandbox (cmd/berth-helper), and that program's server
// side.
//
// The channel is one long-lived `docker exec` of the helper: its stdin and
// stdout carry a yamux session (github.com/hashicorp/yamux). Berth is the
// yamux client and opens one stream per operation; the first frame of a
// stream is a Request that names its kind. Kinds today: KindHello (a
// handshake: which protocol the helper speaks, and for a sandbox with
// network egress the address to listen on), KindExec (run a command) and
// the file kinds. The helper opens streams towards Berth of one kind only,
// KindEgress: one TCP connection that a process in the sandbox made to
// the helper's proxy port, as raw bytes both ways after the Request frame
// (see egress.go). Berth refuses any other stream the helper opens.
//
// Threat model: the helper runs as the sandbox's user, so any process in
// the sandbox can kill it, write to its pipes or take its place. Berth
// therefore treats every byte from the helper as untrusted input: frames
// are length-prefixed and bounded (MaxFrame), an unknown or oversized
// frame ends the whole channel, and a result counts only when it arrives on
// the stream Berth opened for that call. The container stays the boundary;
// the helper only makes crossing it cheaper.
package helper

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/yamux"
)

// Version is the protocol version; a helper that answers the hello with
// another one is not used.
const Version = 1

// Magic is the line the helper writes to stdout before the channel starts.
// Berth sends nothing after the helper's own bytes until it has read it, so
// the helper can be piped in on the same stdin that then carries the
// channel (see docker/helper_start.go).
const Magic = "berth-helper 1\n"

// Frame types. Host to helper: Request, Stdin, StdinEOF, Signal, Kill.
// Helper to host: Stdout, Stderr, Exit.
const (
	FrameRequest  byte = 'q'
	FrameStdin    byte = 'i'
	FrameStdinEOF byte = 'j'
	FrameSignal   byte = 's'
	FrameKill     byte = 'k'
	FrameStdout   byte = 'o'
	FrameStderr   byte = 'e'
	FrameExit     byte = 'x'
)

// Stream kinds (Request.Kind).
const (
	KindHello     = "hello"
	KindExec      = "exec"
	KindReadFile  = "read_file"  // Path, Limit: the file's bytes as Stdout frames
	KindWriteFile = "write_file" // Path, Mode: Stdin frames become the file
	// KindEgress is opened by the helper, never by Berth: one connection
	// accepted on the hello's Listen address, raw bytes after the Request.
	KindEgress = "egress"
)

// Bounds on what either side accepts.
const (
	MaxFrame     = 64 << 10 // payload bytes of one data frame
	MaxJSONFrame = 1 << 20  // a Request (argv and env) or an Exit
	headerLen    = 5        // type + uint32 length
	// MaxEgress is how many egress connections may be open at once in one
	// sandbox. The helper accepts no more; Berth refuses streams beyond it
	// and ends a channel whose helper opens twice as many.
	MaxEgress = 64
)

// ErrProtocol is wrapped by every refusal of a malformed frame.
var ErrProtocol = errors.New("helper protocol violation")

// Request opens a stream.
type Request struct {
	Kind    string   `json:"kind"`
	Argv    []string `json:"argv,omitempty"`
	Env     []string `json:"env,omitempty"` // added to the helper's own environment
	Dir     string   `json:"dir,omitempty"` // empty: the helper's working folder
	Stdin   bool     `json:"stdin,omitempty"`
	Marker  string   `json:"marker,omitempty"` // set as BERTH_EXEC in the command's environment
	Version int      `json:"version,omitempty"`
	Path    string   `json:"path,omitempty"`  // read_file, write_file: clean and absolute
	Limit   int64    `json:"limit,omitempty"` // read_file: refuse a larger file
	Mode    uint32   `json:"mode,omitempty"`  // write_file: permissions of a new file
	// Listen (hello): a loopback TCP address inside the sandbox where the
	// helper accepts connections and carries each as a KindEgress stream.
	Listen string `json:"listen,omitempty"`
}

// Exit ends a stream: how the command ended, or the hello's answer.
type Exit struct {
	Code    int    `json:"code"`              // exit status; 128+n when killed by signal n
	Signal  int    `json:"signal,omitempty"`  // the signal that killed it, if any
	Error   string `json:"error,omitempty"`   // the command could not be started; hello: the listener could not
	Version int    `json:"version,omitempty"` // hello: the protocol version
	Arch    string `json:"arch,omitempty"`    // hello: GOARCH of the helper
	Listen  string `json:"listen,omitempty"`  // hello: the address the helper now listens on
}

// WriteFrame writes one frame. It refuses payloads over MaxJSONFrame.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > MaxJSONFrame {
		return fmt.Errorf("frame of %d bytes exceeds %d", len(payload), MaxJSONFrame)
	}
	buf := make([]byte, headerLen+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:], uint32(len(payload)))
	copy(buf[headerLen:], payload)
	_, err := w.Write(buf)
	return err
}

// HeaderLen is the size of a frame's header; PutHeader fills one in, so
// that a sender can read data straight after it and write the frame at once.
const HeaderLen = headerLen

// PutHeader writes the header of a frame of n payload bytes into b[:HeaderLen].
func PutHeader(b []byte, typ byte, n int) {
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:], uint32(n))
}

// WriteJSON writes v as the payload of one frame.
func WriteJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFrame(w, typ, b)
}

// ReadFrame reads one frame whose type must be in allowed. Data frames
// (Stdin, Stdout, Stderr) may hold MaxFrame bytes, JSON frames
// MaxJSONFrame, control frames a few bytes; anything else, or an unknown
// type, is an ErrProtocol.
func ReadFrame(r io.Reader, allowed string) (byte, []byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	typ, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
	if !contains(allowed, typ) || !contains(knownFrames, typ) {
		return 0, nil, fmt.Errorf("%w: unexpected frame type %q", ErrProtocol, typ)
	}
	if limit := frameLimit(typ); n > limit {
		return 0, nil, fmt.Errorf("%w: frame %q of %d bytes exceeds %d", ErrProtocol, typ, n, limit)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("%w: truncated frame: %v", ErrProtocol, err)
	}
	return typ, payload, nil
}

// ReadJSON decodes a JSON frame payload strictly.
func ReadJSON(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: bad JSON frame: %v", ErrProtocol, err)
	}
	return nil
}

var knownFrames = string([]byte{FrameRequest, FrameStdin, FrameStdinEOF, FrameSignal, FrameKill, FrameStdout, FrameStderr, FrameExit})

func frameLimit(typ byte) uint32 {
	switch typ {
	case FrameStdin, FrameStdout, FrameStderr:
		return MaxFrame
	case FrameRequest, FrameExit:
		return MaxJSONFrame
	case FrameSignal:
		return 1
	}
	return 0
}

func contains(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// Config is the yamux configuration both sides use: a window large enough
// to stream output at full speed, yamux's own logging off (a hostile peer
// must not be able to flood Berth's log).
func Config() *yamux.Config {
	c := yamux.DefaultConfig()
	c.MaxStreamWindowSize = 4 << 20
	c.LogOutput = io.Discard
	return c
}
