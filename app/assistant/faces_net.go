package assistant

import "github.com/berth-app/berth/app/egress"

// A group's network as the faces see it (app/egress defines the types and
// constants; these names only repeat them, see faces.go).
type (
	NetworkMode = egress.Mode
	NetAnswer   = egress.Answer
	NetPreset   = egress.Preset
)

// The network modes, and the answers to a network question.
const (
	NetModeNone      = egress.ModeNone
	NetModeAllowlist = egress.ModeAllowlist
	NetModeOpen      = egress.ModeOpen

	NetDeny        = egress.Deny
	NetAllowOnce   = egress.AllowOnce
	NetAllowAlways = egress.AllowAlways
)

// NetModes are the modes in the order a face offers them.
var NetModes = []NetworkMode{NetModeNone, NetModeAllowlist, NetModeOpen}

// AuditNetPrefix selects every egress.* audit event (AuditFilter.Kind).
const AuditNetPrefix = egress.KindPrefix

// ValidNetMode reports whether a face may save s as a network mode: one of
// NetModes, or the old "bridge" (read as open).
func ValidNetMode(s string) bool {
	_, err := egress.ParseMode(s)
	return err == nil && s != ""
}
