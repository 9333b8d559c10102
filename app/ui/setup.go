package ui

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/berth-app/berth/app/assistant"
)

// The first run's provider choices, as its selector shows them.
const (
	SetupAnthropic = "Anthropic (Claude)"
	SetupOpenAI    = "OpenAI-compatible (Ollama, LM Studio, vLLM, OpenAI)"
)

// SetupNeeded reports whether the first-run panel shows: no key for
// Anthropic, or an OpenAI-compatible provider with neither a key nor a
// base URL of its own (a local server needs no key).
func SetupNeeded(c assistant.Settings, key string) bool {
	if key != "" {
		return false
	}
	return cmp.Or(c.Provider, assistant.ProviderAnthropic) == assistant.ProviderAnthropic || c.BaseURL == ""
}

// SetupView is the first run, in the empty chat: choose the provider, paste
// the key and check it, check the sandbox image (Build when it is missing),
// and add a first folder. Every failure says why and offers what fixes it.
type SetupView struct {
	store SettingsStore
	do    func(func())
	work  func(func())
	// Check checks a provider; assistant.CheckProvider unless a test swaps it.
	Check func(ctx context.Context, provider, baseURL, model, key string) error
	// BuildImage, OnAddFolder and OnSettings are the buttons' actions; nil
	// hides the button.
	BuildImage  func(image string, progress func(line string)) error
	OnAddFolder func()
	OnSettings  func()
	// OnDone runs once the provider checks out and is saved.
	OnDone func()

	provider        *widget.Select
	baseURL, key    *widget.Entry
	checkBtn        *widget.Button
	result, imageSt *widget.Label
	buildBtn        *widget.Button
	settingsBtn     *widget.Button
	box             *fyne.Container
}

// NewSetupView makes the first-run panel over the settings store.
func NewSetupView(s SettingsStore) *SetupView {
	return &SetupView{store: s, do: fyne.Do, work: func(f func()) { go f() }, Check: assistant.CheckProvider}
}

func (v *SetupView) build() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Set up Berth", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.provider = widget.NewSelect([]string{SetupAnthropic, SetupOpenAI}, v.onProvider)
	v.baseURL = widget.NewEntry()
	v.baseURL.SetPlaceHolder("http://localhost:11434/v1 for Ollama, http://localhost:1234/v1 for LM Studio")
	v.key = widget.NewPasswordEntry()
	v.key.SetPlaceHolder("paste your API key")
	v.checkBtn = widget.NewButtonWithIcon("Check and save", theme.ConfirmIcon(), v.onCheck)
	v.checkBtn.Importance = widget.HighImportance
	v.result = widget.NewLabel("")
	v.result.Wrapping = fyne.TextWrapWord
	v.settingsBtn = widget.NewButton("Open Settings", func() {
		if v.OnSettings != nil {
			v.OnSettings()
		}
	})
	v.settingsBtn.Hide()
	v.imageSt = widget.NewLabel("")
	v.imageSt.Wrapping = fyne.TextWrapWord
	v.buildBtn = widget.NewButtonWithIcon("Build image", theme.ViewRefreshIcon(), v.onBuild)
	v.buildBtn.Hide()
	folder := widget.NewButtonWithIcon("Add a folder…", theme.FolderOpenIcon(), func() {
		if v.OnAddFolder != nil {
			v.OnAddFolder()
		}
	})
	if v.OnAddFolder == nil {
		folder.Hide()
	}
	c, _ := v.store.Load()
	if c.Provider == assistant.ProviderOpenAI {
		v.provider.SetSelected(SetupOpenAI)
	} else {
		v.provider.SetSelected(SetupAnthropic)
	}
	v.baseURL.SetText(c.BaseURL)
	form := widget.NewForm(
		widget.NewFormItem("1. Model provider", v.provider),
		widget.NewFormItem("Base URL", v.baseURL),
		widget.NewFormItem("API key", v.key),
	)
	folderNote := widget.NewLabel("The assistant sees only its group's folder and the folders you add, read-only unless you allow writing.")
	folderNote.Wrapping = fyne.TextWrapWord // unwrapped, it set the window's minimum width
	v.box = container.NewVBox(title, form, container.NewHBox(v.checkBtn, v.settingsBtn), v.result,
		widget.NewLabelWithStyle("2. Sandbox image", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.imageSt, container.NewHBox(v.buildBtn),
		widget.NewLabelWithStyle("3. A folder to work in (optional)", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		folderNote, container.NewHBox(folder))
	return widget.NewCard("", "", v.box)
}

func (v *SetupView) providerName() string {
	if v.provider.Selected == SetupOpenAI {
		return assistant.ProviderOpenAI
	}
	return assistant.ProviderAnthropic
}

func (v *SetupView) onProvider(string) {
	if v.baseURL == nil {
		return
	}
	if v.providerName() == assistant.ProviderOpenAI {
		v.baseURL.Enable()
		v.key.SetPlaceHolder("the server's API key; empty for a local server that needs none")
	} else {
		v.baseURL.SetText("")
		v.baseURL.Disable()
		v.key.SetPlaceHolder("paste your Anthropic API key (sk-ant-…)")
	}
}

// ShowGate says whether the sandbox image is there, from the gate.
func (v *SetupView) ShowGate(g assistant.GateState) {
	if v.imageSt == nil {
		return
	}
	img := cmp.Or(g.Image, assistant.DefaultImage)
	switch {
	case g.ImagePresent:
		v.imageSt.SetText("The sandbox image " + img + " is ready.")
		v.buildBtn.Hide()
	case BannerFor(g).Action == ActionBuild:
		v.imageSt.SetText("The sandbox image " + img + " is missing: build it here (a few minutes, it needs the network once).")
		if v.BuildImage != nil {
			v.buildBtn.Show()
		}
	default:
		r := g.Reason
		v.imageSt.SetText("Not checked yet: " + cmp.Or(r, "waiting for Docker") + ".")
		v.buildBtn.Hide()
	}
}

// onCheck checks the provider with the pasted key, off Fyne's thread, then
// saves the provider and base URL and stores the key — each failure said.
func (v *SetupView) onCheck() {
	provider, base, key := v.providerName(), strings.TrimSpace(v.baseURL.Text), strings.TrimSpace(v.key.Text)
	if provider == assistant.ProviderOpenAI && base == "" {
		v.fail("Give the server's base URL, e.g. http://localhost:11434/v1 for Ollama.", false)
		return
	}
	if provider == assistant.ProviderAnthropic && key == "" {
		v.fail("Paste your Anthropic API key first (console.anthropic.com → API keys).", false)
		return
	}
	v.checkBtn.Disable()
	v.result.Importance = widget.MediumImportance
	v.result.SetText("Checking with " + provider + "…")
	cfg, _ := v.store.Load()
	v.work(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := v.Check(ctx, provider, base, cfg.Model, key)
		var saveErr, keyErr error
		if err == nil {
			cfg.Provider, cfg.BaseURL = provider, base
			saveErr = v.store.Save(cfg)
			if saveErr == nil && key != "" {
				keyErr = v.store.SetKey(provider, key)
			}
		}
		v.do(func() {
			v.checkBtn.Enable()
			switch {
			case err != nil:
				v.fail(checkFailure(provider, err), true)
			case saveErr != nil:
				v.fail("The key works, but the settings could not be saved: "+saveErr.Error(), true)
			case keyErr != nil:
				v.fail("The key works and the settings are saved, but the key could not be stored: "+keyErr.Error(), true)
			default:
				v.key.SetText("")
				v.settingsBtn.Hide()
				v.result.Importance = widget.SuccessImportance
				v.result.SetText("It works: " + provider + " answered. Your key is stored (never in a sandbox, the database or the logs).")
				if v.OnDone != nil {
					v.OnDone()
				}
			}
		})
	})
}

func (v *SetupView) fail(msg string, settings bool) {
	v.result.Importance = widget.DangerImportance
	v.result.SetText(msg)
	if settings && v.OnSettings != nil {
		v.settingsBtn.Show()
	} else {
		v.settingsBtn.Hide()
	}
}

// checkFailure says why a provider check failed, in the user's words.
func checkFailure(provider string, err error) string {
	switch {
	case errors.Is(err, assistant.ErrAuth):
		return "The " + provider + " server refused this key. Check that you pasted all of it."
	case errors.Is(err, context.DeadlineExceeded):
		return "The " + provider + " server did not answer within 30 s. Check the base URL and your network."
	}
	return "The check failed: " + err.Error()
}

func (v *SetupView) onBuild() {
	if v.BuildImage == nil {
		return
	}
	v.buildBtn.Disable()
	var lines []string
	cfg, _ := v.store.Load()
	image := cmp.Or(cfg.Image, assistant.DefaultImage)
	v.work(func() {
		err := v.BuildImage(image, func(line string) {
			v.do(func() {
				lines = AddLine(lines, line)
				v.imageSt.SetText(BuildTail(lines))
			})
		})
		v.do(func() {
			v.buildBtn.Enable()
			if err != nil {
				v.imageSt.SetText("The build failed: " + err.Error())
				return
			}
			v.imageSt.SetText("The sandbox image is built.")
			v.buildBtn.Hide()
		})
	})
}
