package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berth-app/berth/app/assistant"
)

// AuditKinds are the kinds the filter offers: every kind among events and
// each kind's families ("exec" for "exec.start"), sorted.
func AuditKinds(events []assistant.AuditEvent) []string {
	seen := map[string]bool{}
	for _, ev := range events {
		k := ev.Kind
		for k != "" {
			seen[k] = true
			i := strings.LastIndexByte(k, '.')
			if i < 0 {
				break
			}
			k = k[:i]
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// loadedEvents are the events the pager holds in memory.
func (p *AuditPager) loadedEvents() []assistant.AuditEvent {
	var out []assistant.AuditEvent
	for _, pg := range p.pages {
		out = append(out, pg...)
	}
	return out
}

// ExportFolder is where an export's save dialog starts: the user's
// Downloads folder when there is one, else the home folder.
func ExportFolder() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return os.TempDir()
	}
	if d := filepath.Join(home, "Downloads"); isDir(d) {
		return d
	}
	return home
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
