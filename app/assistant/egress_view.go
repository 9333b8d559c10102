package assistant

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/app/store"
)

// NetView is a group's network as a face shows it: `berth net show`, the
// desktop app's Network section.
type NetView struct {
	Group   string        `json:"group"`
	Mode    egress.Mode   `json:"mode"`
	Warning string        `json:"warning,omitempty"` // set for open mode
	Allow   []NetRule     `json:"allow"`
	Deny    []string      `json:"deny"`
	Presets []PresetState `json:"presets"`
	// Recent are the latest destinations the group's sandboxes asked for,
	// newest first, one entry per host:port.
	Recent []NetDestination `json:"recent"`
}

// PresetState is a preset and whether the group has it switched on (at
// least one rule tagged with it), with the group's own hosts for it.
type PresetState struct {
	egress.Preset
	On    bool     `json:"on"`
	Rules []string `json:"rules,omitempty"` // the group's rules tagged with this preset
}

// NetDestination is one destination from the audit log.
type NetDestination struct {
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	Host    string    `json:"host"`
	Port    int       `json:"port"`
	Addr    string    `json:"addr,omitempty"`
	Kind    string    `json:"kind"` // the last decision: egress.KindAllowed, KindDenied, …
	Rule    string    `json:"rule,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// OpenWarning is what the faces say about a group in open mode.
const OpenWarning = "network open: the sandbox reaches everything, your LAN and the cloud metadata address included; prefer allowlist (`berth net mode -g GROUP allowlist`)"

// recentScan is how many of the group's latest egress events NetShow reads.
const recentScan = 500

// NetShow is a group's network settings and its recent destinations.
func (s *Service) NetShow(ctx context.Context, group string) (NetView, error) {
	g, err := s.Group(ctx, group)
	if err != nil {
		return NetView{}, err
	}
	v := NetView{Group: g.Slug, Mode: s.NetMode(g), Allow: g.Settings.NetAllow, Deny: g.Settings.NetDeny}
	if v.Mode == egress.ModeOpen {
		v.Warning = OpenWarning
	}
	v.Allow, v.Deny = cloneOrEmpty(v.Allow), cloneOrEmpty(v.Deny)
	for _, p := range egress.Presets {
		ps := PresetState{Preset: p}
		for _, r := range g.Settings.NetAllow {
			if r.Preset == p.Name {
				ps.On, ps.Rules = true, append(ps.Rules, r.Rule)
			}
		}
		v.Presets = append(v.Presets, ps)
	}
	evs, err := s.NetLog(ctx, group, recentScan)
	if err != nil {
		return v, err
	}
	v.Recent = recentDestinations(evs)
	return v, nil
}

func cloneOrEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// NetLog is the latest n egress events (of one group, or all when group is
// ""), oldest first.
func (s *Service) NetLog(ctx context.Context, group string, n int) ([]store.Event, error) {
	return s.Store.Events(ctx, store.Filter{Group: group, Kind: egress.KindPrefix, Limit: n, Newest: true})
}

// recentDestinations folds egress events into one entry per destination,
// newest first, keeping the latest decision (a connection's close keeps the
// decision that let it through).
func recentDestinations(evs []store.Event) []NetDestination {
	seen := map[string]bool{}
	out := []NetDestination{}
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		var d struct {
			Host   string `json:"host"`
			Port   int    `json:"port"`
			Addr   string `json:"addr"`
			Rule   string `json:"rule"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(ev.Detail, &d) != nil || d.Host == "" {
			continue
		}
		key := hostPortKey(d.Host, d.Port)
		if seen[key] || ev.Kind == egress.KindClosed {
			continue
		}
		seen[key] = true
		out = append(out, NetDestination{Time: ev.Time, Session: ev.Session, Host: d.Host, Port: d.Port, Addr: d.Addr, Kind: ev.Kind, Rule: d.Rule, Reason: d.Reason})
	}
	return out
}

// OpenGroups names the groups whose sandboxes get the open network (their
// own mode, or the user's default): `berth doctor` and `group show` warn.
func (s *Service) OpenGroups(ctx context.Context) ([]string, error) {
	gs, err := s.Groups(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range gs {
		if s.NetMode(g) == egress.ModeOpen {
			out = append(out, g.Slug)
		}
	}
	return out, nil
}
