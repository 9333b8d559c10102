package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Endpoint says which engine Berth talks to and why that one.
type Endpoint struct {
	Host   string // e.g. unix:///var/run/docker.sock, tcp://host:2376
	Source string // "DOCKER_HOST", "context NAME", or "default"
}

// Env is how ResolveEndpoint reads the world; tests pass their own.
type Env struct {
	Getenv func(string) string
	Home   string
	GOOS   string
	Exists func(path string) bool
}

// OSEnv is the real environment of this process.
func OSEnv() Env {
	home, _ := os.UserHomeDir()
	return Env{
		Getenv: os.Getenv,
		Home:   home,
		GOOS:   runtime.GOOS,
		Exists: func(p string) bool { _, err := os.Stat(p); return err == nil },
	}
}

// ResolveEndpoint finds the engine the way the docker CLI does: DOCKER_HOST
// first, then the current context (DOCKER_CONTEXT, else currentContext in
// the docker config), then the platform's default socket.
func ResolveEndpoint(env Env) (Endpoint, error) {
	if h := env.Getenv("DOCKER_HOST"); h != "" {
		return Endpoint{Host: h, Source: "DOCKER_HOST"}, nil
	}
	configDir := env.Getenv("DOCKER_CONFIG")
	if configDir == "" {
		configDir = filepath.Join(env.Home, ".docker")
	}
	name := env.Getenv("DOCKER_CONTEXT")
	if name == "" {
		name = currentContext(configDir)
	}
	if name != "" && name != "default" {
		host, err := contextHost(configDir, name)
		if err != nil {
			return Endpoint{}, err
		}
		return Endpoint{Host: host, Source: "context " + name}, nil
	}
	return Endpoint{Host: defaultHost(env), Source: "default"}, nil
}

func currentContext(configDir string) string {
	b, err := os.ReadFile(filepath.Join(configDir, "config.json"))
	if err != nil {
		return ""
	}
	var cfg struct {
		CurrentContext string `json:"currentContext"`
	}
	if json.Unmarshal(b, &cfg) != nil {
		return ""
	}
	return cfg.CurrentContext
}

// contextHost reads a context's docker endpoint. The CLI stores each
// context's metadata under contexts/meta/<sha256 of its name>/meta.json.
func contextHost(configDir, name string) (string, error) {
	sum := sha256.Sum256([]byte(name))
	path := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("docker context %q does not exist (looked for %s); run `docker context ls`", name, path)
	}
	if err != nil {
		return "", fmt.Errorf("read docker context %q: %w", name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("docker context %q: %s is not valid JSON: %w", name, path, err)
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return "", fmt.Errorf("docker context %q has no docker endpoint", name)
	}
	return host, nil
}

// defaultHost is the platform's usual socket. On macOS Docker Desktop and
// colima put theirs under the home folder when /var/run has no link.
func defaultHost(env Env) string {
	const std = "/var/run/docker.sock"
	if env.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	if env.GOOS == "darwin" && !env.Exists(std) {
		for _, p := range []string{
			filepath.Join(env.Home, ".docker", "run", "docker.sock"),
			filepath.Join(env.Home, ".colima", "default", "docker.sock"),
			filepath.Join(env.Home, ".orbstack", "run", "docker.sock"),
		} {
			if env.Exists(p) {
				return "unix://" + p
			}
		}
	}
	return "unix://" + std
}
