package helper_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/berth-app/berth/docker/dockertest"
	"github.com/berth-app/berth/docker/helper"
	"github.com/hashicorp/yamux"
)

// pipes is the host's end of the channel: closing it ends the helper.
type pipes struct {
	in, out *os.File
}

func (p pipes) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p pipes) Write(b []byte) (int, error) { return p.out.Write(b) }
func (p pipes) Close() error {
	p.out.Close()
	return p.in.Close()
}

// TestPerfChannel prints what the channel itself (helper, yamux, framing;
// no engine in between) carries: 100 MB of a command's stdout over two
// pipes, as through the exec's stdin and stdout. Run by `make bench`;
// never asserted.
func TestPerfChannel(t *testing.T) {
	if os.Getenv("BERTH_BENCH") == "" {
		dockertest.SkipDeliberately(t, "a measurement, not a test: run `make bench`")
	}
	toHelper, hostOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	hostIn, fromHelper, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = helper.Serve(toHelper, fromHelper) }()
	magic := make([]byte, len(helper.Magic))
	if _, err := hostIn.Read(magic); err != nil || string(magic) != helper.Magic {
		t.Fatalf("greeting: %q %v", magic, err)
	}
	sess, err := yamux.Client(pipes{hostIn, hostOut}, helper.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const size = 100 << 20
	var best time.Duration
	for i := 0; i < 3; i++ {
		st, err := sess.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := helper.WriteJSON(st, helper.FrameRequest, helper.Request{Kind: helper.KindExec, Argv: []string{"head", "-c", fmt.Sprint(size), "/dev/zero"}, Marker: "bench"}); err != nil {
			t.Fatal(err)
		}
		got := 0
		for {
			typ, p, err := helper.ReadFrame(st, string([]byte{helper.FrameStdout, helper.FrameStderr, helper.FrameExit}))
			if err != nil {
				t.Fatal(err)
			}
			if typ == helper.FrameExit {
				break
			}
			got += len(p)
		}
		st.Close()
		if got != size {
			t.Fatalf("got %d bytes", got)
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	fmt.Printf("\n100 MB of stdout through the channel alone (helper, yamux, framing; no engine), best of 3\n")
	fmt.Printf("%-54s %9s %9.0f MB/s\n\n", "helper → host over two pipes", best.Round(time.Millisecond), float64(size)/(1<<20)/best.Seconds())
}
