// Package egress is the host side of a sandbox's network: a group's policy
// (none, allowlist, open), its rules, and a proxy handler that takes one
// connection a sandbox opened to its in-sandbox HTTP(S) proxy, decides,
// asks the user about unknown destinations, dials the checked address and
// pipes — auditing each decision and each connection's bytes.
//
// The sandbox itself keeps NetworkMode none: the connections reach Berth
// over the sandbox helper's channel, so nothing here depends on Docker.
// Names are resolved on the host, once; the address that was checked is the
// address dialled (no DNS rebinding), and loopback, private, link-local,
// CGNAT, multicast and similar addresses are refused unless a rule names the
// IP or CIDR itself.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Mode is a group's network mode.
type Mode string

// The modes.
const (
	ModeNone      Mode = "none"      // no network at all (the default)
	ModeAllowlist Mode = "allowlist" // deny by default; rules pass, unknown destinations are asked
	ModeOpen      Mode = "open"      // the engine's bridge network: everything (discouraged)
)

// ParseMode reads a group's network setting; "" is none and the old
// "bridge" reads as open.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", string(ModeNone):
		return ModeNone, nil
	case string(ModeAllowlist):
		return ModeAllowlist, nil
	case string(ModeOpen), "bridge":
		return ModeOpen, nil
	}
	return "", fmt.Errorf("network %q: want none, allowlist or open", s)
}

// Rule lets a destination through: an exact host, "*.example.com" (its
// subdomains, not itself), or an IP or CIDR; with a port, or none for 80 and
// 443.
type Rule struct {
	Host   string       // lower-case host name or "*.suffix"; "" for an IP rule
	Prefix netip.Prefix // IP rules; a single IP is a /32 or /128
	Port   int          // 0: 80 and 443
}

// ParseRule reads "host", "host:port", "*.example.com", "10.0.0.5:11434",
// "192.168.1.0/24", "[fd00::1]:8080".
func ParseRule(s string) (Rule, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return Rule{}, errors.New("empty rule")
	}
	hostPart, port, err := splitPort(s)
	if err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	if p, err := netip.ParsePrefix(hostPart); err == nil {
		return Rule{Prefix: p.Masked(), Port: port}, nil
	}
	if a, err := netip.ParseAddr(hostPart); err == nil {
		a = a.Unmap()
		return Rule{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: port}, nil
	}
	name := strings.TrimSuffix(hostPart, ".")
	wild := strings.HasPrefix(name, "*.")
	if strings.Contains(strings.TrimPrefix(name, "*."), "*") || (!wild && strings.Contains(name, "*")) {
		return Rule{}, fmt.Errorf("rule %q: a wildcard may only start a name, as in *.example.com", s)
	}
	if err := validName(strings.TrimPrefix(name, "*.")); err != nil {
		return Rule{}, fmt.Errorf("rule %q: %v", s, err)
	}
	return Rule{Host: name, Port: port}, nil
}

func splitPort(s string) (string, int, error) {
	if strings.HasPrefix(s, "[") { // [v6]:port or [v6]
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, errors.New("missing ]")
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, 0, nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", 0, errors.New("junk after ]")
		}
		p, err := parsePort(rest[1:])
		return host, p, err
	}
	if strings.Count(s, ":") > 1 { // a bare IPv6 address or prefix
		return s, 0, nil
	}
	host, portText, ok := strings.Cut(s, ":")
	if !ok {
		return s, 0, nil
	}
	p, err := parsePort(portText)
	return host, p, err
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q: want 1–65535", s)
	}
	return p, nil
}

func validName(name string) error {
	if name == "" || len(name) > 253 {
		return errors.New("not a host name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a host name")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not allowed in a host name", r)
			}
		}
	}
	return nil
}

// String is the rule as the user writes it.
func (r Rule) String() string {
	host := r.Host
	if host == "" {
		host = r.Prefix.String()
		if r.Prefix.IsSingleIP() {
			host = r.Prefix.Addr().String()
		}
		if r.Prefix.Addr().Is6() && r.Port != 0 {
			host = "[" + host + "]"
		}
	}
	if r.Port != 0 {
		return host + ":" + strconv.Itoa(r.Port)
	}
	return host
}

func (r Rule) portOK(port int) bool {
	if r.Port == 0 {
		return port == 80 || port == 443
	}
	return r.Port == port
}

// MatchesName reports whether the rule lets host:port through by name.
func (r Rule) MatchesName(host string, port int) bool {
	if r.Host == "" || !r.portOK(port) {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if suffix, ok := strings.CutPrefix(r.Host, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return host == r.Host
}

// MatchesAddr reports whether the rule names addr (an IP rule covering it)
// on port.
func (r Rule) MatchesAddr(addr netip.Addr, port int) bool {
	return r.Host == "" && r.portOK(port) && r.Prefix.Contains(addr.Unmap())
}

// Policy is a group's network as the proxy applies it.
type Policy struct {
	Group string
	Mode  Mode
	Rules []Rule
	// Deny lists destinations refused without asking, whatever Rules say.
	// A deny rule without a port covers every port.
	Deny []Rule
}

// Denied is the first deny rule naming host (by name, or a literal IP by
// address) or one of its resolved addrs, on port; ok false when none does.
func (p Policy) Denied(host string, port int, addrs ...netip.Addr) (Rule, bool) {
	for _, deny := range p.Deny {
		r := deny
		r.Port = portOr(r.Port, port) // no port: every port
		if _, ok := (Policy{Rules: []Rule{r}}).Match(host, port); ok {
			return deny, true
		}
		for _, a := range addrs {
			if r.MatchesAddr(a, port) {
				return deny, true
			}
		}
	}
	return Rule{}, false
}

func portOr(p, port int) int {
	if p == 0 {
		return port
	}
	return p
}

// Match is the first rule that lets host:port through by name or, for a
// literal IP, by address; ok false when none does.
func (p Policy) Match(host string, port int) (Rule, bool) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		for _, r := range p.Rules {
			if r.MatchesAddr(a, port) {
				return r, true
			}
		}
		return Rule{}, false
	}
	for _, r := range p.Rules {
		if r.MatchesName(host, port) {
			return r, true
		}
	}
	return Rule{}, false
}

// CheckAddrs refuses a destination whose resolved addresses include a
// special one (loopback, private, link-local, …) that no IP rule names. A
// name that resolves to both a public and a private address is refused
// whatever the rules say about the name.
func (p Policy) CheckAddrs(addrs []netip.Addr, port int) error {
	if len(addrs) == 0 {
		return errors.New("the name has no address")
	}
	public, special := 0, 0
	for _, a := range addrs {
		if Special(a) == "" {
			public++
		} else {
			special++
		}
	}
	if public > 0 && special > 0 {
		return fmt.Errorf("the name resolves to both public and private addresses (%s); refused", joinAddrs(addrs))
	}
	for _, a := range addrs {
		kind := Special(a)
		if kind == "" {
			continue
		}
		named := false
		for _, r := range p.Rules {
			named = named || r.MatchesAddr(a, port)
		}
		if !named {
			return fmt.Errorf("%s is a %s address; a rule must name it (e.g. berth net allow %s:%d)", a, kind, a, port)
		}
	}
	return nil
}

func joinAddrs(addrs []netip.Addr) string {
	var out []string
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return strings.Join(out, ", ")
}
