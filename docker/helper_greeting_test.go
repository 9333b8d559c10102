package docker

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// TestAwaitMagicSaysItWaitedTooLong: a helper that does not greet in time
// is reported as such, not as the "use of closed network connection" that
// closing its stream leaves (what TestHelperEngineCutMidCall showed once
// under heavy load, hiding that the helper was only slow to start).
func TestAwaitMagicSaysItWaitedTooLong(t *testing.T) {
	t.Parallel()
	ours, theirs := net.Pipe()
	defer theirs.Close()
	att := client.HijackedResponse{Conn: ours, Reader: bufio.NewReader(ours)}
	err := awaitMagic(att.Reader, att, 10*time.Millisecond) // nothing is ever written: the wait ends
	if err == nil || !strings.Contains(err.Error(), "no greeting from the helper within 10ms") {
		t.Errorf("got %v, want it to say the helper did not greet within 10ms", err)
	}
}
