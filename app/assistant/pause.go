package assistant

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-app/berth/docker"
)

// Paused is the gate state while the user has paused the assistant.
const Paused docker.State = "paused"

func (s *Service) pauseFile() string { return filepath.Join(s.Paths.Data, "paused") }

// PausedReason says why the assistant is paused; "" when it is not. The
// flag is a file, so that every Berth process on this installation sees it.
func (s *Service) PausedReason() string {
	b, err := os.ReadFile(s.pauseFile())
	if err != nil {
		return ""
	}
	if r := strings.TrimSpace(string(b)); r != "" {
		return r
	}
	return "paused by the user"
}

// setPaused writes or removes the pause flag.
func (s *Service) setPaused(reason string) error {
	if reason == "" {
		if err := os.Remove(s.pauseFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.WriteFile(s.pauseFile(), []byte(reason+"\n"), 0o600)
}

func pausedStatus(reason string) docker.Status {
	return docker.Status{State: Paused, Reason: "the assistant is paused (" + reason + ")",
		Hint: "resume it from the tray or with `berth resume`"}
}
