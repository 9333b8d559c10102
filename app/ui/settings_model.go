package ui

import (
	"cmp"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-app/berth/app/assistant"
)

// The settings' fields, as SettingsErrors names them.
const (
	FieldProvider        = "provider"
	FieldBaseURL         = "base_url"
	FieldAPIKey          = "api_key"
	FieldImage           = "image"
	FieldNetwork         = "network"
	FieldMemory          = "memory"
	FieldCPUs            = "cpus"
	FieldPids            = "pids"
	FieldIdleTimeout     = "idle_timeout"
	FieldMaxAge          = "max_age"
	FieldBlockedPatterns = "blocked_patterns"
	FieldAllowedRoots    = "allowed_roots"
)

// WriteMark ends an allowed root's line when mounts from it may be writable.
const WriteMark = " +write"

// SettingsForm is the settings screen's fields as text. APIKey is a new
// key to store, "" to keep the one stored.
type SettingsForm struct {
	Provider, Model, BaseURL, APIKey string
	Image, Network                   string
	MemoryMB, CPUs, Pids             string
	IdleTimeout, MaxAge              string
	BlockedPatterns                  string // one a line
	AllowedRoots                     string // one a line, WriteMark for writable
}

// SettingsErrors are what is wrong with the fields, by field name.
type SettingsErrors map[string]string

// SettingsFormFrom fills the fields from the settings.
func SettingsFormFrom(c assistant.Settings) SettingsForm {
	f := SettingsForm{Provider: cmp.Or(c.Provider, assistant.ProviderAnthropic), Model: c.Model, BaseURL: c.BaseURL, Image: c.Image,
		Network: cmp.Or(c.Network, "none"), BlockedPatterns: strings.Join(c.BlockedPatterns, "\n")}
	if c.MemoryMB != 0 {
		f.MemoryMB = strconv.FormatInt(c.MemoryMB, 10)
	}
	if c.CPUs != 0 {
		f.CPUs = strconv.FormatFloat(c.CPUs, 'f', -1, 64)
	}
	if c.Pids != 0 {
		f.Pids = strconv.FormatInt(c.Pids, 10)
	}
	if c.IdleTimeout != 0 {
		f.IdleTimeout = shortDuration(time.Duration(c.IdleTimeout))
	}
	if c.MaxAge != 0 {
		f.MaxAge = shortDuration(time.Duration(c.MaxAge))
	}
	var roots []string
	for _, r := range c.AllowedRoots {
		line := r.Path
		if r.AllowWrite {
			line += WriteMark
		}
		roots = append(roots, line)
	}
	f.AllowedRoots = strings.Join(roots, "\n")
	return f
}

// shortDuration drops a duration's zero tails: "10m", "2h", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Apply checks the fields and returns old with them applied. What the form
// does not show (the runtime, the exec timeout) is kept. The API key is
// never part of the settings: store it with SetKey.
func (f SettingsForm) Apply(old assistant.Settings) (assistant.Settings, SettingsErrors) {
	c, errs := old, SettingsErrors{}
	c.Provider = strings.TrimSpace(f.Provider)
	if c.Provider != assistant.ProviderAnthropic && c.Provider != assistant.ProviderOpenAI {
		errs[FieldProvider] = "Choose anthropic or openai."
	}
	c.Model = strings.TrimSpace(f.Model)
	c.BaseURL = strings.TrimSpace(f.BaseURL)
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs[FieldBaseURL] = "Use a full address such as http://localhost:11434/v1, or leave it empty."
		}
	}
	if k := f.APIKey; k != "" && strings.ContainsAny(strings.TrimSpace(k), " \t\r\n") {
		errs[FieldAPIKey] = "An API key has no spaces or line breaks; paste it again."
	}
	c.Image = strings.TrimSpace(f.Image)
	if strings.ContainsAny(c.Image, " \t") {
		errs[FieldImage] = "An image name has no spaces, e.g. " + assistant.DefaultImage + "."
	}
	c.Network = strings.TrimSpace(f.Network)
	if !assistant.ValidNetMode(c.Network) {
		errs[FieldNetwork] = "Choose none, allowlist or open."
	}
	var ok bool
	if c.MemoryMB, ok = whole(f.MemoryMB, 32); !ok {
		errs[FieldMemory] = "Memory is a whole number of MB, at least 32, or empty for no limit."
	}
	if c.Pids, ok = whole(f.Pids, 16); !ok {
		errs[FieldPids] = "Processes is a whole number, at least 16, or empty for the default."
	}
	if s := strings.TrimSpace(f.CPUs); s == "" {
		c.CPUs = 0
	} else if v, err := strconv.ParseFloat(s, 64); err != nil || v < 0 {
		errs[FieldCPUs] = "CPUs is a number such as 1.5, or empty for no limit."
	} else {
		c.CPUs = v
	}
	for _, d := range []struct {
		field, text string
		to          *assistant.SettingsDuration
	}{{FieldIdleTimeout, f.IdleTimeout, &c.IdleTimeout}, {FieldMaxAge, f.MaxAge, &c.MaxAge}} {
		s := strings.TrimSpace(d.text)
		if s == "" {
			*d.to = 0
			continue
		}
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			errs[d.field] = "Use a duration such as 10m or 2h, or empty for the default."
			continue
		}
		*d.to = assistant.SettingsDuration(v)
	}
	c.BlockedPatterns = nil
	for _, p := range lines(f.BlockedPatterns) {
		if strings.Contains(p, "/") {
			errs[FieldBlockedPatterns] = "A pattern matches part of one folder or file name, so it has no /: " + p
		}
		c.BlockedPatterns = append(c.BlockedPatterns, p)
	}
	c.AllowedRoots = nil
	for _, l := range lines(f.AllowedRoots) {
		path, write := strings.CutSuffix(l, WriteMark)
		path = strings.TrimSpace(path)
		if !filepath.IsAbs(path) {
			errs[FieldAllowedRoots] = "Each allowed folder is a full path such as /home/me/src: " + l
		}
		c.AllowedRoots = append(c.AllowedRoots, assistant.AllowedRoot{Path: path, AllowWrite: write})
	}
	if len(errs) > 0 {
		return old, errs
	}
	return c, nil
}

// whole reads an optional whole number that is 0 or at least min.
func whole(s string, min int64) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || (v != 0 && v < min) {
		return 0, false
	}
	return v, true
}

// lines are the non-empty, trimmed lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// KeyStatus says which API key is in use without showing it: its first
// three and last four characters and where it is kept.
func KeyStatus(provider, key string, src assistant.KeySource) string {
	if key == "" {
		if provider == assistant.ProviderOpenAI {
			return "No key stored — paste one, or leave it empty for a local server that needs none"
		}
		return "No key stored — paste one to keep it in the OS keyring (or, where there is none, in a file only you can read)"
	}
	masked := "•••• (a short key)"
	if r := []rune(key); len(r) >= 12 {
		masked = string(r[:3]) + "…" + string(r[len(r)-4:])
	}
	switch src {
	case assistant.KeyFromEnv:
		return masked + " from " + assistant.KeyEnvVar(provider) + " (none in the OS keyring)"
	case assistant.KeyFromFile:
		return masked + " stored in Berth's key file " + assistant.KeyFileName + ", readable only by you (no OS keyring here)"
	}
	return masked + " stored in the OS keyring"
}

// BuildLines is how many progress lines of an image build are kept.
const BuildLines = 200

// AddLine appends a progress line, keeping the last BuildLines.
func AddLine(out []string, line string) []string {
	out = append(out, strings.TrimRight(line, "\r\n"))
	if len(out) > BuildLines {
		out = append(out[:0], out[len(out)-BuildLines:]...)
	}
	return out
}

// BuildShown is how many of the last build lines the settings screen shows.
const BuildShown = 6

// BuildTail is the build output as shown: its last BuildShown lines.
func BuildTail(lines []string) string {
	return strings.Join(lines[max(len(lines)-BuildShown, 0):], "\n")
}
