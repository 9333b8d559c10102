package assistant

import (
	"cmp"
	"context"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/llm"
)

// SettingsFiles are the settings where they live: config.json in the
// config folder for everything but the API keys, which go to the OS
// keyring only. With a Runtime, Save also puts the settings in force in it.
type SettingsFiles struct {
	Dir     string
	Runtime *Runtime
}

// Load reads config.json.
func (f SettingsFiles) Load() (Settings, error) { return config.Load(f.Dir) }

// Save writes config.json, through the runtime when there is one, so that
// the saved settings take effect at once.
func (f SettingsFiles) Save(c Settings) error {
	if f.Runtime != nil {
		return f.Runtime.SaveSettings(context.Background(), c)
	}
	return config.Save(f.Dir, c)
}

// Key is the provider's API key and where it was found.
func (SettingsFiles) Key(provider string) (string, KeySource, error) { return llm.GetKey(provider) }

// SetKey stores the provider's API key in the OS keyring.
func (SettingsFiles) SetKey(provider, key string) error { return llm.SetKey(provider, key) }

// CheckProvider asks the provider for one token with key: a cheap request
// that proves the key, the base URL and the model work.
func CheckProvider(ctx context.Context, provider, baseURL, model, key string) error {
	p, err := llm.New(provider, llm.Config{APIKey: key, BaseURL: baseURL, Model: cmp.Or(model, config.DefaultModel(provider)),
		MaxTokens: 1, MaxRetries: -1})
	if err != nil {
		return err
	}
	_, err = p.Stream(ctx, llm.Request{Messages: []llm.Message{llm.UserText("Reply with OK.")}, MaxTokens: 1}, func(llm.Event) {})
	return err
}

// MessageParts are a stored model or tool message's parts, as the chat
// window shows them.
func MessageParts(m Message) ([]Part, error) {
	lm, err := decodeMessage(m)
	return lm.Parts, err
}
