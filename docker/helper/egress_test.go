package helper

import "testing"

func TestCheckListenKeepsTheListenerInsideTheSandbox(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:3128", true},
		{"[::1]:3128", true},
		{"0.0.0.0:3128", false},
		{"10.0.0.1:3128", false},
		{"127.0.0.1:0", false},
		{"localhost:3128", false},
		{"127.0.0.1", false},
	} {
		if err := checkListen(c.addr); (err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok=%v", c.addr, err, c.ok)
		}
	}
}
