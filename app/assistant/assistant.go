// Package assistant is the one service both faces (desktop and CLI) drive:
// it decides whether work may run (the gate), in which sandbox, and records
// every step in the audit log before and after it happens.
package assistant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/store"
	"github.com/berth-app/berth/docker"
)

// Engine is what the assistant needs from Docker.
type Engine interface {
	Check(ctx context.Context, image, runtime string) docker.Status
	ListSandboxes(ctx context.Context, f docker.Filter) ([]docker.Sandbox, error)
	CreateSandbox(ctx context.Context, spec docker.Spec) (docker.Sandbox, error)
	Exec(ctx context.Context, sandboxID string, req docker.ExecRequest) (docker.ExecResult, error)
	StopSandbox(ctx context.Context, id string) error
	Reap(ctx context.Context, installation string, now time.Time) ([]docker.Sandbox, error)
}

// Store is what the assistant keeps in the database: the audit chain (an
// event counts once it is committed), groups and their mounts.
type Store interface {
	Append(ctx context.Context, ev store.Event) (store.Event, error)
	CreateGroup(ctx context.Context, g store.Group) (store.Group, error)
	UpdateGroup(ctx context.Context, g store.Group) error
	DeleteGroup(ctx context.Context, slug string) error
	Group(ctx context.Context, slug string) (store.Group, error)
	Groups(ctx context.Context) ([]store.Group, error)
	AddMount(ctx context.Context, m store.Mount) (store.Mount, error)
	UpdateMountMasks(ctx context.Context, group, name string, masks []string) error
	RemoveMount(ctx context.Context, group, name string) error
	Mounts(ctx context.Context, group string) ([]store.Mount, error)
	CreateSession(ctx context.Context, ss store.Session) (store.Session, error)
	Session(ctx context.Context, id string) (store.Session, error)
	Sessions(ctx context.Context, group string) ([]store.Session, error)
	TouchSession(ctx context.Context, id string) error
	RenameSession(ctx context.Context, id, title string) error
	DeleteSession(ctx context.Context, id string) error
	AddMessage(ctx context.Context, m store.Message) (store.Message, error)
	Messages(ctx context.Context, session string) ([]store.Message, error)
	SetMessageStatus(ctx context.Context, id int64, status string) error
	FinishTurn(ctx context.Context, t store.TurnEnd) ([]store.Message, store.Event, error)
	MessagesWithStatus(ctx context.Context, status string) ([]store.Message, error)
	Events(ctx context.Context, f store.Filter) ([]store.Event, error)
}

var _ Engine = (*docker.Client)(nil)
var _ Store = (*store.Store)(nil)

// Service is the assistant.
type Service struct {
	Engine Engine
	Store  Store
	Paths  home.Paths
	// Config is the settings the service starts with; read them with
	// Settings and change them with SetSettings once it runs.
	Config config.Config
	Now    func() time.Time
	// Gate says whether work may start; nil takes a fresh reading of
	// Docker at each check. The runtime sets its own, fed by its monitor.
	Gate Gate
	// Location is the time zone task schedules are read in (default: local).
	Location *time.Location
	// OnUse, when set, hears when a chat's sandbox starts (true) and ends
	// (false) running a tool call: the runtime tracks idle sandboxes with it.
	OnUse func(sandboxID string, busy bool)
	// onDiskLow, when set, hears when the disk guard closes the gate (see
	// diskguard.go): the runtime closes its gate with it.
	onDiskLow func(diskFull)
	// apiKey, when set, is the model provider's API key in place of
	// llm.GetKey's (the OS keyring, the key file, the environment): tests
	// set it, before the service runs, so that they need no process-wide
	// state and can run in parallel.
	apiKey string

	disk diskState

	mu sync.RWMutex // guards Config once the service runs
}

// Settings are the settings in force now.
func (s *Service) Settings() config.Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.Config
}

// SetSettings puts new settings in force: the next turn, sandbox and check
// use them. The runtime's SetSettings also tells its monitor.
func (s *Service) SetSettings(c config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Config = c
}

// CLISession is the session label of sandboxes that `berth exec` uses: one
// warm sandbox per group, shared by successive commands.
const CLISession = "cli"

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidGroup reports whether slug can name a group.
func ValidGroup(slug string) error {
	if !slugRe.MatchString(slug) {
		return fmt.Errorf("group %q: use 1–64 lowercase letters, digits, '-' or '_', starting with a letter or digit", slug)
	}
	return nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// record appends an audit event. Work that must be audited does not run
// when its "before" event cannot be written.
func (s *Service) record(ctx context.Context, ev store.Event) error {
	if s.Store == nil {
		return errors.New("no audit log")
	}
	if ev.Actor == "" {
		ev.Actor = store.ActorSystem
	}
	_, err := s.Store.Append(ctx, ev)
	if err != nil {
		return fmt.Errorf("audit %s: %w", ev.Kind, err)
	}
	return nil
}

// groupFolder makes sure the group's folder exists and that the sandbox
// user can write it (when Berth runs as root the sandbox runs as nobody).
func (s *Service) groupFolder(group string) (string, error) {
	dir := s.Paths.GroupDir(group)
	fi, err := os.Lstat(dir)
	if err == nil && !fi.IsDir() {
		return "", fmt.Errorf("group folder %s is not a folder (a symlink or file is in its place); move it away", dir)
	}
	if err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create group folder: %w", err)
		}
	}
	return dir, s.giveToSandboxUser(dir)
}

// giveToSandboxUser makes a file Berth created belong to the sandbox's user
// when Berth runs as root (the sandbox then runs as another uid and must
// still be able to write its group folder and memory).
func (s *Service) giveToSandboxUser(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	var uid, gid int
	fmt.Sscanf(docker.HostUser(), "%d:%d", &uid, &gid)
	if err := os.Lchown(path, uid, gid); err != nil {
		return fmt.Errorf("give %s to the sandbox user: %w", path, err)
	}
	return nil
}
