package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// SettingsView is the settings screen: the model provider and its key, the
// sandbox image and its build, default limits, mount rules and launch at
// login. Save checks every field and shows what is wrong next to it.
type SettingsView struct {
	store SettingsStore
	cfg   assistant.Settings // as last loaded or saved
	// do runs a func on Fyne's thread, async runs one off it; fyne.Do and
	// a goroutine unless a test swaps them.
	do, async func(func())

	// BuildImage builds the sandbox image, calling progress with each line
	// of the build's output; nil hides nothing but disables the button.
	BuildImage func(image string, progress func(line string)) error
	// LaunchAtLogin is whether Berth starts at login; OnLaunchAtLogin
	// changes it (the app decides how), nil disables the box.
	LaunchAtLogin   bool
	OnLaunchAtLogin func(on bool) error

	provider, network                *widget.Select
	model, baseURL, key, image       *widget.Entry
	memory, cpus, pids, idle, maxAge *widget.Entry
	blocked, roots                   *widget.Entry
	keyStatus, buildOut, status      *widget.Label
	buildBtn                         *widget.Button
	login                            *widget.Check
	errs                             map[string]*widget.Label
	building                         bool
	progress                         []string
}

// NewSettingsView makes the settings screen over the store.
func NewSettingsView(s SettingsStore) *SettingsView {
	return &SettingsView{store: s, do: fyne.Do, async: func(f func()) { go f() }, errs: map[string]*widget.Label{}}
}

// NewSettingsWindow opens a window on the settings screen.
func NewSettingsWindow(app fyne.App, v *SettingsView) fyne.Window {
	w := app.NewWindow("Berth — Settings")
	w.SetIcon(AppIcon())
	w.SetContent(v.build())
	w.Resize(fyne.NewSize(720, 760))
	return w
}

// field is an input with its error line under it.
func (v *SettingsView) field(name string, o fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	v.errs[name] = l
	return container.NewVBox(o, l)
}

func (v *SettingsView) build() fyne.CanvasObject {
	v.provider = widget.NewSelect([]string{assistant.ProviderAnthropic, assistant.ProviderOpenAI}, nil)
	v.network = widget.NewSelect(netModeOptions(), nil)
	v.model, v.baseURL, v.image = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	v.key = widget.NewPasswordEntry()
	v.key.SetPlaceHolder("paste a new key to store it")
	v.baseURL.SetPlaceHolder("the provider's, e.g. http://localhost:11434/v1 for Ollama")
	v.memory, v.cpus, v.pids = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	v.memory.SetPlaceHolder("no limit")
	v.cpus.SetPlaceHolder("no limit")
	v.pids.SetPlaceHolder("default")
	v.idle, v.maxAge = widget.NewEntry(), widget.NewEntry()
	v.blocked, v.roots = widget.NewMultiLineEntry(), widget.NewMultiLineEntry()
	v.blocked.SetPlaceHolder("one a line, e.g. secret")
	v.roots.SetPlaceHolder("anywhere allowed; one full path a line, add" + WriteMark + " to allow writing")
	v.blocked.SetMinRowsVisible(2)
	v.roots.SetMinRowsVisible(2)
	v.keyStatus = widget.NewLabel("")
	v.keyStatus.Wrapping = fyne.TextWrapWord

	v.buildBtn = widget.NewButtonWithIcon("Build image", theme.ViewRefreshIcon(), v.onBuild)
	v.buildOut = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.buildOut.Wrapping = fyne.TextWrapBreak
	v.buildOut.Hide()
	v.login = widget.NewCheck("Open Berth when I log in", nil)
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem("Provider", v.field(FieldProvider, v.provider)),
		widget.NewFormItem("Model", v.model),
		widget.NewFormItem("Base URL", v.field(FieldBaseURL, v.baseURL)),
		widget.NewFormItem("API key", v.field(FieldAPIKey, container.NewVBox(v.key, v.keyStatus))),
		widget.NewFormItem("Sandbox image", v.field(FieldImage, container.NewBorder(nil, nil, nil, v.buildBtn, v.image))),
		widget.NewFormItem("", v.buildOut),
		widget.NewFormItem("Network of new groups", v.field(FieldNetwork, v.network)),
		widget.NewFormItem("Memory (MB)", v.field(FieldMemory, v.memory)),
		widget.NewFormItem("CPUs", v.field(FieldCPUs, v.cpus)),
		widget.NewFormItem("Processes", v.field(FieldPids, v.pids)),
		widget.NewFormItem("Idle timeout", v.field(FieldIdleTimeout, v.idle)),
		widget.NewFormItem("Max age", v.field(FieldMaxAge, v.maxAge)),
		widget.NewFormItem("Blocked patterns", v.field(FieldBlockedPatterns, v.blocked)),
		widget.NewFormItem("Allowed folders", v.field(FieldAllowedRoots, v.roots)),
		widget.NewFormItem("", v.login),
	)
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), v.onSave)
	save.Importance = widget.HighImportance

	v.load()
	v.provider.OnChanged = v.onProvider
	v.login.OnChanged = v.onLogin
	return container.NewBorder(nil, container.NewVBox(v.status, container.NewHBox(save)), nil, nil, container.NewVScroll(form))
}

// load fills the fields from the stored settings.
func (v *SettingsView) load() {
	c, err := v.store.Load()
	if err != nil {
		v.status.SetText("Could not read the settings: " + err.Error())
	}
	v.cfg = c
	f := SettingsFormFrom(c)
	v.provider.SetSelected(f.Provider)
	v.model.SetText(f.Model)
	v.baseURL.SetText(f.BaseURL)
	v.image.SetText(f.Image)
	v.network.SetSelected(f.Network)
	v.memory.SetText(f.MemoryMB)
	v.cpus.SetText(f.CPUs)
	v.pids.SetText(f.Pids)
	v.idle.SetText(f.IdleTimeout)
	v.maxAge.SetText(f.MaxAge)
	v.blocked.SetText(f.BlockedPatterns)
	v.roots.SetText(f.AllowedRoots)
	v.login.Checked = v.LaunchAtLogin
	if v.OnLaunchAtLogin == nil {
		v.login.Disable()
	}
	v.login.Refresh()
	if v.BuildImage == nil {
		v.buildBtn.Disable()
	}
	v.showKey(f.Provider)
}

func (v *SettingsView) showKey(provider string) {
	v.model.SetPlaceHolder(assistant.DefaultModel(provider))
	key, src, err := v.store.Key(provider)
	if err != nil {
		key = ""
	}
	v.keyStatus.SetText(KeyStatus(provider, key, src))
}

func (v *SettingsView) onProvider(p string) { v.showKey(p) }

// form is what the fields hold now.
func (v *SettingsView) form() SettingsForm {
	return SettingsForm{Provider: v.provider.Selected, Model: v.model.Text, BaseURL: v.baseURL.Text, APIKey: v.key.Text,
		Image: v.image.Text, Network: v.network.Selected, MemoryMB: v.memory.Text, CPUs: v.cpus.Text, Pids: v.pids.Text,
		IdleTimeout: v.idle.Text, MaxAge: v.maxAge.Text, BlockedPatterns: v.blocked.Text, AllowedRoots: v.roots.Text}
}

func (v *SettingsView) showErrors(errs SettingsErrors) {
	for name, l := range v.errs {
		if msg := errs[name]; msg != "" {
			l.SetText(msg)
			l.Show()
		} else {
			l.SetText("")
			l.Hide()
		}
	}
}

// onSave saves the settings, then stores a new API key on its own: a key
// that cannot be stored is reported next to the key and loses nothing else.
func (v *SettingsView) onSave() {
	f := v.form()
	c, errs := f.Apply(v.cfg)
	v.showErrors(errs)
	v.status.Importance = widget.DangerImportance
	if len(errs) > 0 {
		v.status.SetText("Not saved: fix the fields marked above.")
		return
	}
	if err := v.store.Save(c); err != nil {
		v.status.SetText("Not saved: " + err.Error())
		return
	}
	v.cfg = c
	msg := "Saved. The next turn uses them; each chat gets a sandbox with the new image and limits at its next tool call."
	if key := strings.TrimSpace(f.APIKey); key != "" {
		if err := v.store.SetKey(c.Provider, key); err != nil {
			v.showErrors(SettingsErrors{FieldAPIKey: "The key was not stored: " + err.Error()})
			v.showKey(c.Provider)
			v.status.Importance = widget.WarningImportance
			v.status.SetText("Saved everything but the API key (see above); the key you pasted is still in its box.")
			return
		}
		v.key.SetText("")
	}
	v.showKey(c.Provider)
	v.status.Importance = widget.SuccessImportance
	v.status.SetText(msg)
}

// Reload shows the saved settings again, dropping edits that were not
// saved (the window is opened anew).
func (v *SettingsView) Reload() {
	if v.provider == nil {
		return // not built yet: build loads them
	}
	v.key.SetText("")
	v.status.SetText("")
	v.showErrors(nil)
	v.load()
}

func (v *SettingsView) onLogin(on bool) {
	if v.OnLaunchAtLogin == nil {
		return
	}
	if err := v.OnLaunchAtLogin(on); err != nil {
		v.status.Importance = widget.DangerImportance
		v.status.SetText("Could not change launch at login: " + err.Error())
		v.login.Checked = !on
		v.login.Refresh()
		return
	}
	v.LaunchAtLogin = on
}

func (v *SettingsView) onBuild() {
	if v.BuildImage == nil || v.building {
		return
	}
	image := strings.TrimSpace(v.image.Text)
	if image == "" {
		image = assistant.DefaultImage
	}
	v.building, v.progress = true, nil
	v.buildBtn.Disable()
	v.buildOut.SetText("Building " + image + "…")
	v.buildOut.Show()
	v.async(func() {
		err := v.BuildImage(image, func(line string) {
			v.do(func() {
				v.progress = AddLine(v.progress, line)
				v.buildOut.SetText(BuildTail(v.progress))
			})
		})
		v.do(func() {
			v.building = false
			v.buildBtn.Enable()
			if err != nil {
				v.progress = AddLine(v.progress, "Build failed: "+err.Error())
			} else {
				v.progress = AddLine(v.progress, "Built "+image+".")
			}
			v.buildOut.SetText(BuildTail(v.progress))
		})
	})
}
