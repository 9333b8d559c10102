package docker

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// demux reads the stdout stream of a non-TTY exec's attach stream, where
// the engine frames stdout and stderr with an 8-byte header each (what
// stdcopy.StdCopy reads). It hands stdout bytes straight to its reader,
// without a pipe and a goroutine in between, and keeps stderr aside. The
// framing comes from the engine, which is trusted; a frame of another
// stream type is an error all the same.
type demux struct {
	r      *bufio.Reader
	stderr io.Writer
	left   int // stdout bytes left in the current frame
}

func (d *demux) Read(p []byte) (int, error) {
	for d.left == 0 {
		var hdr [8]byte
		if _, err := io.ReadFull(d.r, hdr[:]); err != nil {
			return 0, err
		}
		n := int(binary.BigEndian.Uint32(hdr[4:]))
		switch hdr[0] {
		case 1:
			d.left = n
		case 2:
			if _, err := io.CopyN(d.stderr, d.r, int64(n)); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("attach stream: unknown stream type %d", hdr[0])
		}
	}
	n, err := d.r.Read(p[:min(len(p), d.left)])
	d.left -= n
	return n, err
}
