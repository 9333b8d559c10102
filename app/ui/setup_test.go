package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/llm/llmtest"
)

func TestSetupNeeded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  assistant.Settings
		key  string
		want bool
	}{
		{"fresh install", assistant.Settings{}, "", true},
		{"anthropic with a key", assistant.Settings{Provider: assistant.ProviderAnthropic}, "sk-ant", false},
		{"a local server, no key needed", assistant.Settings{Provider: assistant.ProviderOpenAI, BaseURL: "http://localhost:11434/v1"}, "", false},
		{"openai without a key or a server", assistant.Settings{Provider: assistant.ProviderOpenAI}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := SetupNeeded(tc.cfg, tc.key); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// openSetup shows a fresh install's empty chat with the first-run panel.
func openSetup(t *testing.T, s *fakeSettings, gate assistant.GateState) (*ChatView, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	f := newFake()
	f.gate = gate
	v := NewChatView(context.Background(), f)
	v.work = inline
	v.Setup = NewSetupView(s)
	v.Setup.do, v.Setup.work = inline, inline
	v.Setup.OnSettings = func() {}
	v.Setup.BuildImage = func(string, func(string)) error { return nil }
	v.Setup.OnAddFolder = func() {}
	v.Setup.OnDone = v.SetupDone
	w := NewChatWindow(a, v)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(900, 900))
	return v, w
}

var missingImage = assistant.GateState{Docker: assistant.DockerMisconfigured, Image: assistant.DefaultImage,
	Reason: "sandbox image " + assistant.DefaultImage + " is missing", Hint: "run `make image` or click Build"}

func TestSetupGolden(t *testing.T) {
	_, w := openSetup(t, &fakeSettings{}, missingImage)
	assertGolden(t, "chat_first_run.xml", w)
}

// TestSetupChecksTheKey checks a pasted key against a fake Anthropic server
// speaking the real protocol, through the real SDK: a good key is saved
// and the panel goes; a refused one says so, stores nothing, and offers
// Settings.
func TestSetupChecksTheKey(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	s := &fakeSettings{}
	v, w := openSetup(t, s, openGate)
	v.Setup.Check = func(ctx context.Context, provider, _, model, key string) error {
		return assistant.CheckProvider(ctx, provider, fake.URL, model, key) // the fake's address stands in for the public API
	}
	fake.Queue(llmtest.Reply{Status: 401})
	test.Type(v.Setup.key, "sk-ant-wrong")
	test.Tap(button(t, w, "Check and save"))
	if !strings.Contains(v.Setup.result.Text, "refused this key") || !v.Setup.settingsBtn.Visible() || len(s.keys) != 0 {
		t.Errorf("refused key: result %q, Open Settings shown %v, keys stored %v", v.Setup.result.Text, v.Setup.settingsBtn.Visible(), s.keys)
	}
	if got := v.Setup.result.Text; strings.Contains(got, "sk-ant-wrong") {
		t.Errorf("the result shows the key: %q", got)
	}
	fake.Queue(llmtest.Reply{Text: []string{"OK"}})
	v.Setup.key.SetText("sk-ant-right")
	test.Tap(button(t, w, "Check and save"))
	if s.keys[assistant.ProviderAnthropic] != "sk-ant-right" || len(s.saved) != 1 || s.saved[0].Provider != assistant.ProviderAnthropic {
		t.Fatalf("good key: keys %v, saved %+v", s.keys, s.saved)
	}
	if v.setupOn {
		t.Error("the first-run panel still shows after the check passed")
	}
	reqs := fake.Requests()
	if got := llmtest.APIKey(reqs[len(reqs)-1]); got != "sk-ant-right" {
		t.Errorf("the check sent key %q", got)
	}
}

// TestSetupLocalServer: an OpenAI-compatible server needs its base URL, and
// no key; the check goes to that URL.
func TestSetupLocalServer(t *testing.T) {
	fake := llmtest.NewOpenAI(t)
	s := &fakeSettings{}
	v, w := openSetup(t, s, openGate)
	v.Setup.provider.SetSelected(SetupOpenAI)
	test.Tap(button(t, w, "Check and save"))
	if !strings.Contains(v.Setup.result.Text, "base URL") {
		t.Errorf("no base URL: result %q", v.Setup.result.Text)
	}
	fake.Queue(llmtest.Reply{Text: []string{"OK"}})
	v.Setup.baseURL.SetText(fake.URL)
	test.Tap(button(t, w, "Check and save"))
	if len(s.saved) != 1 || s.saved[0].Provider != assistant.ProviderOpenAI || s.saved[0].BaseURL != fake.URL || len(s.keys) != 0 {
		t.Errorf("saved %+v, keys %v; want openai at the fake's URL and no key", s.saved, s.keys)
	}
}

// TestSetupKeyCannotBeStored: the key works but the key store refuses it:
// the provider is saved anyway and the message says what failed.
func TestSetupKeyCannotBeStored(t *testing.T) {
	s := &fakeSettings{SetKeyFunc: func(string, string) error { return errors.New("no keyring and the config folder is read-only") }}
	v, w := openSetup(t, s, openGate)
	v.Setup.Check = func(context.Context, string, string, string, string) error { return nil }
	test.Type(v.Setup.key, "sk-ant-good")
	test.Tap(button(t, w, "Check and save"))
	if len(s.saved) != 1 || !strings.Contains(v.Setup.result.Text, "could not be stored: no keyring") {
		t.Errorf("saved %d, result %q", len(s.saved), v.Setup.result.Text)
	}
}

// TestSetupImage: a missing sandbox image offers Build; a present one says
// it is ready.
func TestSetupImage(t *testing.T) {
	v, w := openSetup(t, &fakeSettings{}, missingImage)
	built := ""
	v.Setup.BuildImage = func(image string, progress func(string)) error {
		built = image
		progress("Step 1/2 : FROM debian:bookworm-slim")
		return nil
	}
	test.Tap(button(t, w, "Build image"))
	if built != assistant.DefaultImage || v.Setup.imageSt.Text != "The sandbox image is built." {
		t.Errorf("built %q, status %q", built, v.Setup.imageSt.Text)
	}
	ready := openGate
	ready.ImagePresent, ready.Image = true, assistant.DefaultImage
	v.Handle(assistant.Event{Kind: assistant.EventGate, Gate: &ready})
	if !strings.Contains(v.Setup.imageSt.Text, "is ready") {
		t.Errorf("present image: %q", v.Setup.imageSt.Text)
	}
}
