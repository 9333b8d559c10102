package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, err string
	}{
		{"pypi.org", "pypi.org", ""},
		{"API.GitHub.com:443", "api.github.com:443", ""},
		{"*.example.com", "*.example.com", ""},
		{"10.0.0.5:11434", "10.0.0.5:11434", ""},
		{"192.168.1.0/24", "192.168.1.0/24", ""},
		{"192.168.1.7/24", "192.168.1.0/24", ""},
		{"[fd00::1]:8080", "[fd00::1]:8080", ""},
		{"fd00::/8", "fd00::/8", ""},
		{"", "", "empty rule"},
		{"a*b.com", "", "wildcard"},
		{"*.*.com", "", "wildcard"},
		{"host:0", "", "port"},
		{"host:99999", "", "port"},
		{"exa mple.com", "", "not allowed"},
	}
	for _, c := range cases {
		r, err := ParseRule(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: got %v, want an error with %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.String() != c.want {
			t.Errorf("%q: got %q %v, want %q", c.in, r.String(), err, c.want)
		}
	}
}

func TestPolicyMatch(t *testing.T) {
	t.Parallel()
	var rules []Rule
	for _, s := range []string{"github.com", "*.githubusercontent.com", "api.example.com:8443", "10.1.2.3:11434"} {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	p := Policy{Mode: ModeAllowlist, Rules: rules}
	cases := []struct {
		host string
		port int
		want bool
	}{
		{"github.com", 443, true},
		{"github.com", 80, true},
		{"github.com", 22, false},
		{"GitHub.com.", 443, true},
		{"gist.github.com", 443, false},
		{"raw.githubusercontent.com", 443, true},
		{"githubusercontent.com", 443, false},
		{"evilgithubusercontent.com", 443, false},
		{"api.example.com", 8443, true},
		{"api.example.com", 443, false},
		{"10.1.2.3", 11434, true},
		{"10.1.2.3", 443, false},
	}
	for _, c := range cases {
		if _, got := p.Match(c.host, c.port); got != c.want {
			t.Errorf("%s:%d: got %v, want %v", c.host, c.port, got, c.want)
		}
	}
}

func TestSpecialAddresses(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"127.0.0.1": "loopback", "::1": "loopback", "10.9.8.7": "private", "172.20.0.1": "private",
		"192.168.0.10": "private", "169.254.169.254": "link-local (cloud metadata)", "100.100.0.1": "carrier-grade NAT",
		"224.0.0.251": "multicast", "0.0.0.0": "unspecified", "::": "unspecified", "fd12::1": "unique local (private)",
		"fe80::1": "link-local", "::ffff:127.0.0.1": "loopback", "::ffff:10.0.0.1": "private",
		"192.0.2.2": "documentation (TEST-NET)", "203.0.113.7": "documentation (TEST-NET)", "2001:db8::1": "documentation",
		"1.1.1.1": "", "2606:4700::1111": "", "172.32.0.1": "",
	}
	for in, want := range cases {
		if got := Special(netip.MustParseAddr(in)); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func TestCheckAddrs(t *testing.T) {
	t.Parallel()
	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	lan, _ := ParseRule("192.168.1.0/24:11434")
	p := Policy{Mode: ModeAllowlist, Rules: []Rule{lan}}
	cases := []struct {
		name  string
		addrs []netip.Addr
		port  int
		want  string
	}{
		{"public", addrs("93.184.216.34"), 443, ""},
		{"loopback", addrs("127.0.0.1"), 443, "loopback"},
		{"metadata", addrs("169.254.169.254"), 80, "cloud metadata"},
		{"the LAN service a rule names", addrs("192.168.1.20"), 11434, ""},
		{"the same LAN host, another port", addrs("192.168.1.20"), 22, "private"},
		{"public and private at once", addrs("93.184.216.34", "10.0.0.1"), 443, "both public and private"},
		{"no address", nil, 443, "no address"},
	}
	for _, c := range cases {
		err := p.CheckAddrs(c.addrs, c.port)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Mode{"": ModeNone, "none": ModeNone, "allowlist": ModeAllowlist, "open": ModeOpen, "bridge": ModeOpen} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("%q: got %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("host"); err == nil {
		t.Error("host network accepted")
	}
}

func TestDenied(t *testing.T) {
	t.Parallel()
	var pol Policy
	for _, s := range []string{"evil.example.com", "*.tracker.example:8080", "203.0.113.0/24"} {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		pol.Deny = append(pol.Deny, r)
	}
	cases := []struct {
		host  string
		port  int
		addrs []string
		want  string
	}{
		{"evil.example.com", 443, nil, "evil.example.com"},
		{"evil.example.com", 22, nil, "evil.example.com"}, // no port: every port
		{"good.example.com", 443, nil, ""},
		{"a.tracker.example", 8080, nil, "*.tracker.example:8080"},
		{"a.tracker.example", 443, nil, ""},
		{"203.0.113.9", 443, nil, "203.0.113.0/24"},
		{"innocent.example", 443, []string{"198.51.100.1", "203.0.113.7"}, "203.0.113.0/24"}, // by a resolved address
	}
	for _, c := range cases {
		var addrs []netip.Addr
		for _, a := range c.addrs {
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		r, ok := pol.Denied(c.host, c.port, addrs...)
		got := ""
		if ok {
			got = r.String()
		}
		if got != c.want {
			t.Errorf("%s:%d %v: got deny %q, want %q", c.host, c.port, c.addrs, got, c.want)
		}
	}
}

func TestPresetsParse(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range Presets {
		if seen[p.Name] {
			t.Errorf("preset %s twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.Hosts) == 0 && p.Note == "" {
			t.Errorf("preset %s has no hosts and no note saying what to add", p.Name)
		}
		for _, h := range p.Hosts {
			if _, err := ParseRule(h); err != nil {
				t.Errorf("preset %s: %v", p.Name, err)
			}
		}
	}
	if _, ok := PresetByName("pypi"); !ok {
		t.Error("no pypi preset")
	}
}
