package helper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func frame(typ byte, n uint32, payload []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], n)
	return append(b, payload...)
}

// TestReadFrameRefusesWhatItCannotTrust: every frame from the helper is
// untrusted, so anything malformed is an ErrProtocol, never a short read
// taken at face value or an allocation of the size a peer asks for.
func TestReadFrameRefusesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      []byte
		allowed string
		wantErr bool
	}{
		{"stdout frame", frame(FrameStdout, 3, []byte("abc")), "oex", false},
		{"empty stdin EOF", frame(FrameStdinEOF, 0, nil), "ij", false},
		{"type not allowed here", frame(FrameRequest, 2, []byte("{}")), "oex", true},
		{"unknown type", frame('Z', 0, nil), "oexZ", true},
		{"data frame over MaxFrame", frame(FrameStdout, MaxFrame+1, nil), "oex", true},
		{"exit frame over MaxJSONFrame", frame(FrameExit, MaxJSONFrame+1, nil), "oex", true},
		{"4 GB claimed", frame(FrameStdout, 0xffffffff, nil), "oex", true},
		{"signal frame with two bytes", frame(FrameSignal, 2, []byte{9, 9}), "s", true},
		{"kill frame with a payload", frame(FrameKill, 1, []byte{1}), "k", true},
		{"truncated payload", frame(FrameStdout, 10, []byte("abc")), "oex", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, p, err := ReadFrame(bytes.NewReader(tc.in), tc.allowed)
			if tc.wantErr {
				if !errors.Is(err, ErrProtocol) {
					t.Errorf("got %q %q %v, want ErrProtocol", typ, p, err)
				}
				return
			}
			if err != nil || typ != tc.in[0] {
				t.Errorf("got %q %v", typ, err)
			}
		})
	}
}

func TestFramesRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, FrameExit, Exit{Code: 3, Signal: 0}); err != nil {
		t.Fatal(err)
	}
	typ, p, err := ReadFrame(&buf, "x")
	var ex Exit
	if err != nil || typ != FrameExit || ReadJSON(p, &ex) != nil || ex.Code != 3 {
		t.Errorf("got %q %s %v", typ, p, err)
	}
	if err := ReadJSON([]byte("{not json"), &ex); !errors.Is(err, ErrProtocol) {
		t.Errorf("bad JSON: got %v", err)
	}
}
