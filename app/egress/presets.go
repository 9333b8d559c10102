package egress

// Preset is a set of rules a user can switch on for a group in one step.
// Its hosts are a starting point: once switched on they are the group's own
// rules, tagged with the preset's name, and the user edits them like any
// other (`berth net allow --preset NAME HOST`, `berth net rm`).
type Preset struct {
	Name  string   `json:"name"`
	Title string   `json:"title"`
	Hosts []string `json:"hosts"`          // rules as ParseRule reads them; may be empty
	Note  string   `json:"note,omitempty"` // what the user adds by hand, if anything
}

// Presets are the presets Berth knows. Some registries' hosts are left for
// the user to add: Berth does not guess where their mirror or proxy lives.
var Presets = []Preset{
	{Name: "pypi", Title: "Python packages (PyPI and its files host)",
		Hosts: []string{"pypi.org", "files.pythonhosted.org"}},
	{Name: "npm", Title: "JavaScript packages (npm)",
		Note: "add your npm registry's host (see `npm config get registry`) with --preset npm"},
	{Name: "crates", Title: "Rust crates (crates.io)",
		Hosts: []string{"crates.io", "index.crates.io", "static.crates.io"}},
	{Name: "go", Title: "Go modules (module proxy and checksum database)",
		Note: "add the hosts of `go env GOPROXY` and `go env GOSUMDB` with --preset go"},
	{Name: "apt", Title: "Debian and Ubuntu package archives",
		Hosts: []string{"archive.ubuntu.com", "security.ubuntu.com", "ports.ubuntu.com"},
		Note:  "for Debian, add the hosts of the image's /etc/apt sources with --preset apt"},
	{Name: "github", Title: "GitHub (web, API, codeload, raw and objects hosts)",
		Hosts: []string{"github.com", "api.github.com", "codeload.github.com", "raw.githubusercontent.com", "objects.githubusercontent.com"}},
	{Name: "models", Title: "Model APIs (Anthropic, OpenAI, Google)",
		Hosts: []string{"api.anthropic.com", "api.openai.com", "generativelanguage.googleapis.com"}},
}

// PresetByName finds a preset.
func PresetByName(name string) (Preset, bool) {
	for _, p := range Presets {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// PresetNames lists the presets' names, in order.
func PresetNames() []string {
	out := make([]string, len(Presets))
	for i, p := range Presets {
		out[i] = p.Name
	}
	return out
}
