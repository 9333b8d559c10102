package ui

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
)

// openSettings shows the settings screen over s, 720×1100; setup may set
// the view's callbacks before it is built.
func openSettings(t *testing.T, s *fakeSettings, setup func(*SettingsView)) (*SettingsView, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	v := NewSettingsView(s)
	v.do, v.async = now, now
	if setup != nil {
		setup(v)
	}
	w := NewSettingsWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(720, 1100))
	return v, w
}

func TestSettingsGolden(t *testing.T) {
	s := &fakeSettings{cfg: stored, keys: map[string]string{"anthropic": "sk-ant-api03-0123456789abcd"}}
	s.cfg.BlockedPatterns = []string{"secret"}
	_, w := openSettings(t, s, func(v *SettingsView) {
		v.BuildImage = func(string, func(string)) error { return nil }
		v.OnLaunchAtLogin = func(bool) error { return nil }
		v.LaunchAtLogin = true
	})
	assertGolden(t, "settings.xml", w)
}

func TestSettingsSaveStoresKeyInKeyring(t *testing.T) {
	const key = "sk-proj-0123456789SECRETwxyz"
	s := &fakeSettings{cfg: stored}
	v, w := openSettings(t, s, nil)
	v.provider.SetSelected("openai")
	test.Type(v.key, key)
	test.Type(v.model, "gpt-4.1")
	test.Tap(button(t, w, "Save"))
	if s.keys["openai"] != key {
		t.Errorf("keyring: got %q, want the typed key", s.keys["openai"])
	}
	if len(s.saved) != 1 || s.saved[0].Provider != "openai" || s.saved[0].Model != "gpt-4.1" || s.saved[0].Runtime != "runsc" {
		t.Fatalf("saved %+v, want openai, gpt-4.1 and the runtime kept", s.saved)
	}
	raw, _ := json.Marshal(s.saved[0])
	if strings.Contains(string(raw), "SECRET") {
		t.Errorf("the key was written to the settings: %s", raw)
	}
	if v.key.Text != "" || v.keyStatus.Text != "sk-…wxyz stored in the OS keyring" {
		t.Errorf("after saving: key field %q, status %q", v.key.Text, v.keyStatus.Text)
	}
}

func TestSettingsErrorsInline(t *testing.T) {
	s := &fakeSettings{cfg: stored}
	v, w := openSettings(t, s, nil)
	v.memory.SetText("8")
	v.baseURL.SetText("localhost:11434")
	test.Type(v.key, "sk-ant with space")
	test.Tap(button(t, w, "Save"))
	if len(s.saved) != 0 || len(s.keys) != 0 {
		t.Fatalf("saved %+v and keys %v despite errors", s.saved, s.keys)
	}
	for _, f := range []string{FieldMemory, FieldBaseURL, FieldAPIKey} {
		if l := v.errs[f]; !l.Visible() || l.Text == "" {
			t.Errorf("no error shown under %s", f)
		}
	}
	if l := v.errs[FieldCPUs]; l.Visible() {
		t.Errorf("an error shown under cpus: %q", l.Text)
	}
	v.memory.SetText("")
	v.baseURL.SetText("")
	v.key.SetText("")
	test.Tap(button(t, w, "Save"))
	if len(s.saved) != 1 || v.errs[FieldMemory].Visible() {
		t.Errorf("after fixing: saved %d times, memory error visible %v", len(s.saved), v.errs[FieldMemory].Visible())
	}
}

// TestSettingsKeyringFails: a key that cannot be stored does not stop the
// other settings from being saved; its failure is said next to the key,
// and the pasted key stays in its box.
func TestSettingsKeyringFails(t *testing.T) {
	s := &fakeSettings{cfg: stored, SetKeyFunc: func(string, string) error { return errors.New("no keyring: dbus not running") }}
	v, w := openSettings(t, s, nil)
	v.baseURL.SetText("http://localhost:11434/v1")
	test.Type(v.key, "sk-ant-api03-0123456789abcd")
	test.Tap(button(t, w, "Save"))
	if len(s.saved) != 1 || s.saved[0].BaseURL != "http://localhost:11434/v1" {
		t.Fatalf("saved %d times (%+v); want the base URL saved despite the key", len(s.saved), s.saved)
	}
	if !strings.Contains(v.errs[FieldAPIKey].Text, "dbus") || !strings.Contains(v.status.Text, "everything but the API key") {
		t.Errorf("key error %q, status %q; want the keyring's error by the key and a status that says the rest was saved", v.errs[FieldAPIKey].Text, v.status.Text)
	}
	if v.key.Text == "" {
		t.Error("the pasted key was dropped")
	}
}

// TestSettingsReload: reopening Settings shows what is saved, not edits
// that were never saved.
func TestSettingsReload(t *testing.T) {
	s := &fakeSettings{cfg: stored}
	v, _ := openSettings(t, s, nil)
	v.model.SetText("an unsaved edit")
	v.key.SetText("sk-half-pasted")
	v.Reload()
	if v.model.Text != stored.Model || v.key.Text != "" {
		t.Errorf("after reload: model %q, key %q; want %q and empty", v.model.Text, v.key.Text, stored.Model)
	}
}

func TestSettingsBuildImageProgress(t *testing.T) {
	s := &fakeSettings{cfg: stored}
	queued := make(chan func(), 8)
	built := make(chan string, 1)
	v, w := openSettings(t, s, func(v *SettingsView) {
		v.BuildImage = func(image string, progress func(string)) error {
			built <- image
			progress("Step 1/3 : FROM debian:bookworm-slim")
			progress("Step 2/3 : RUN apt-get install -y git")
			return errors.New("exit status 100")
		}
	})
	v.async = func(f func()) { go f() }
	v.do = func(f func()) { queued <- f }
	test.Tap(button(t, w, "Build image"))
	if !v.buildBtn.Disabled() {
		t.Error("Build image stays enabled while building")
	}
	if got := <-built; got != assistant.DefaultImage {
		t.Errorf("built %q, want %q", got, assistant.DefaultImage)
	}
	for range 3 { // two lines, then the end, on the test's goroutine as on Fyne's thread
		(<-queued)()
	}
	want := "Step 1/3 : FROM debian:bookworm-slim\nStep 2/3 : RUN apt-get install -y git\nBuild failed: exit status 100"
	if v.buildOut.Text != want || v.buildBtn.Disabled() {
		t.Errorf("progress: got %q (button disabled %v), want %q", v.buildOut.Text, v.buildBtn.Disabled(), want)
	}
}

func TestSettingsLaunchAtLogin(t *testing.T) {
	var calls []bool
	fail := false
	s := &fakeSettings{cfg: stored}
	v, _ := openSettings(t, s, func(v *SettingsView) {
		v.OnLaunchAtLogin = func(on bool) error {
			calls = append(calls, on)
			if fail {
				return errors.New("no autostart folder")
			}
			return nil
		}
	})
	test.Tap(v.login)
	if len(calls) != 1 || !calls[0] || !v.LaunchAtLogin {
		t.Fatalf("calls %v, on %v; want one call turning it on", calls, v.LaunchAtLogin)
	}
	fail = true
	test.Tap(v.login)
	if v.login.Checked != true || !strings.Contains(v.status.Text, "no autostart folder") {
		t.Errorf("after a failure: checked %v, status %q; want it back on and the error shown", v.login.Checked, v.status.Text)
	}
}
