package assistant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-app/berth/app/egress"
	"github.com/berth-app/berth/app/store"
)

// A group's network: its mode (egress.Mode, stored in GroupSettings.Network)
// and, for allowlist mode, its rules. Rules and presets change without a
// new sandbox: the proxy reads them for every connection. A mode change
// replaces the group's sandboxes (their network is part of their spec).

// NetRule is one allow rule of a group, as the user wrote it (canonical,
// see egress.Rule.String), with the preset it came from, if any.
type NetRule struct {
	Rule   string `json:"rule"`
	Preset string `json:"preset,omitempty"`
}

// AuditNetRules is the audit kind of a change to a group's network rules.
const AuditNetRules = "egress.rules"

// normalMode spells a stored network setting the way it is saved: the old
// "bridge" becomes "open"; anything else is kept for validate to judge.
func normalMode(s string) string {
	if m, err := egress.ParseMode(s); err == nil && s != "" {
		return string(m)
	}
	return s
}

func (g GroupSettings) validateNet() error {
	if _, err := egress.ParseMode(g.Network); err != nil {
		return err
	}
	for _, r := range g.NetAllow {
		if _, err := egress.ParseRule(r.Rule); err != nil {
			return err
		}
		if _, ok := egress.PresetByName(r.Preset); r.Preset != "" && !ok {
			return fmt.Errorf("unknown preset %q; the presets are %s", r.Preset, strings.Join(egress.PresetNames(), ", "))
		}
	}
	for _, r := range g.NetDeny {
		if _, err := egress.ParseRule(r); err != nil {
			return err
		}
	}
	return nil
}

// NetMode is the network mode a group's sandboxes get: the group's own, or
// the user's default. A setting that cannot be read gives none (fail closed).
func (s *Service) NetMode(g Group) egress.Mode {
	m, err := egress.ParseMode(cmp.Or(g.Settings.Network, s.Settings().Network))
	if err != nil {
		return egress.ModeNone
	}
	return m
}

// sandboxNetwork is the engine network and egress switch for a mode: open
// is the engine's bridge; allowlist keeps no network but the helper's proxy.
func sandboxNetwork(m egress.Mode) (network string, viaProxy bool) {
	switch m {
	case egress.ModeOpen:
		return "bridge", false
	case egress.ModeAllowlist:
		return "none", true
	}
	return "none", false
}

// netPolicy is the group's network policy as the proxy applies it now. When
// the group cannot be read the policy is none: nothing passes.
func (s *Service) netPolicy(ctx context.Context, group string) egress.Policy {
	g, err := s.Group(ctx, group)
	if err != nil {
		return egress.Policy{Group: group, Mode: egress.ModeNone}
	}
	pol := egress.Policy{Group: group, Mode: s.NetMode(g)}
	for _, r := range g.Settings.NetAllow {
		if rule, err := egress.ParseRule(r.Rule); err == nil {
			pol.Rules = append(pol.Rules, rule)
		}
	}
	for _, r := range g.Settings.NetDeny {
		if rule, err := egress.ParseRule(r); err == nil {
			pol.Deny = append(pol.Deny, rule)
		}
	}
	return pol
}

// canonRules parses rules and returns them as egress.Rule.String spells
// them; the first bad one is an error and nothing is changed.
func canonRules(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errors.New("no rule given")
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		r, err := egress.ParseRule(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r.String())
	}
	return out, nil
}

// NetAllow adds allow rules to a group (tagged with preset when it is not
// ""); a rule it has already is kept once. A deny rule with the same text
// is dropped: the user's latest word counts.
func (s *Service) NetAllow(ctx context.Context, group, preset string, rules []string) (Group, error) {
	canon, err := canonRules(rules)
	if err != nil {
		return Group{}, err
	}
	if _, ok := egress.PresetByName(preset); preset != "" && !ok {
		return Group{}, fmt.Errorf("unknown preset %q; the presets are %s", preset, strings.Join(egress.PresetNames(), ", "))
	}
	return s.changeNet(ctx, group, "allowed "+strings.Join(canon, ", "), func(gs *GroupSettings) {
		for _, r := range canon {
			if !slices.ContainsFunc(gs.NetAllow, func(x NetRule) bool { return x.Rule == r }) {
				gs.NetAllow = append(gs.NetAllow, NetRule{Rule: r, Preset: preset})
			}
			gs.NetDeny = slices.DeleteFunc(gs.NetDeny, func(x string) bool { return x == r })
		}
	})
}

// NetDeny adds deny rules: those destinations are refused without asking.
// An allow rule with the same text is dropped.
func (s *Service) NetDeny(ctx context.Context, group string, rules []string) (Group, error) {
	canon, err := canonRules(rules)
	if err != nil {
		return Group{}, err
	}
	return s.changeNet(ctx, group, "denied "+strings.Join(canon, ", "), func(gs *GroupSettings) {
		for _, r := range canon {
			if !slices.Contains(gs.NetDeny, r) {
				gs.NetDeny = append(gs.NetDeny, r)
			}
			gs.NetAllow = slices.DeleteFunc(gs.NetAllow, func(x NetRule) bool { return x.Rule == r })
		}
	})
}

// NetRemove removes a rule (allow or deny) from a group.
func (s *Service) NetRemove(ctx context.Context, group, rule string) (Group, error) {
	canon, err := canonRules([]string{rule})
	if err != nil {
		return Group{}, err
	}
	r := canon[0]
	g, err := s.Group(ctx, group)
	if err != nil {
		return g, err
	}
	if !slices.ContainsFunc(g.Settings.NetAllow, func(x NetRule) bool { return x.Rule == r }) && !slices.Contains(g.Settings.NetDeny, r) {
		return g, fmt.Errorf("group %s has no rule %s; `berth net show -g %s` lists them", group, r, group)
	}
	return s.changeNet(ctx, group, "removed rule "+r, func(gs *GroupSettings) {
		gs.NetAllow = slices.DeleteFunc(gs.NetAllow, func(x NetRule) bool { return x.Rule == r })
		gs.NetDeny = slices.DeleteFunc(gs.NetDeny, func(x string) bool { return x == r })
	})
}

// NetPreset switches a preset on (its hosts become rules of the group,
// tagged with it) or off (the rules tagged with it go, including those the
// user added to it).
func (s *Service) NetPreset(ctx context.Context, group, name string, on bool) (Group, error) {
	p, ok := egress.PresetByName(name)
	if !ok {
		return Group{}, fmt.Errorf("unknown preset %q; the presets are %s", name, strings.Join(egress.PresetNames(), ", "))
	}
	if !on {
		return s.changeNet(ctx, group, "switched off preset "+name, func(gs *GroupSettings) {
			gs.NetAllow = slices.DeleteFunc(gs.NetAllow, func(x NetRule) bool { return x.Preset == name })
		})
	}
	if len(p.Hosts) == 0 {
		return Group{}, fmt.Errorf("preset %s lists no hosts of its own: %s", name, p.Note)
	}
	return s.NetAllow(ctx, group, name, p.Hosts)
}

// SetNetMode changes a group's network mode; its sandboxes are replaced.
func (s *Service) SetNetMode(ctx context.Context, group string, mode string) (Group, error) {
	m, err := egress.ParseMode(mode)
	if err != nil {
		return Group{}, err
	}
	return s.SetGroup(ctx, group, []string{"network=" + string(m)})
}

// changeNet applies a change to a group's rules and saves it, audited.
// Running sandboxes keep running: the next connection reads the rules.
func (s *Service) changeNet(ctx context.Context, group, summary string, change func(*GroupSettings)) (Group, error) {
	g, err := s.Group(ctx, group)
	if err != nil {
		return g, err
	}
	change(&g.Settings)
	if err := g.Settings.validate(); err != nil {
		return g, err
	}
	raw := mustJSON(g.Settings)
	if err := s.Store.UpdateGroup(ctx, store.Group{Slug: g.Slug, Name: g.Name, Settings: raw}); err != nil {
		return g, err
	}
	return g, s.record(ctx, store.Event{Group: g.Slug, Kind: AuditNetRules, Actor: store.ActorUser,
		Summary: "network: " + summary, Detail: mustJSON(map[string]any{"allow": g.Settings.NetAllow, "deny": g.Settings.NetDeny})})
}
