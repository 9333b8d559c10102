package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveEndpoint(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	writeContext(t, filepath.Join(home, ".docker"), "colima", "unix:///Users/u/.colima/default/docker.sock")
	writeFile(t, filepath.Join(home, ".docker", "config.json"), `{"currentContext":"colima"}`)
	otherCfg := t.TempDir()
	writeContext(t, otherCfg, "remote", "tcp://10.1.2.3:2376")

	cases := []struct {
		name    string
		env     map[string]string
		goos    string
		exists  []string
		want    string
		source  string
		wantErr string
	}{
		{"DOCKER_HOST wins", map[string]string{"DOCKER_HOST": "tcp://h:2375", "DOCKER_CONTEXT": "colima"}, "linux", nil, "tcp://h:2375", "DOCKER_HOST", ""},
		{"DOCKER_CONTEXT", map[string]string{"DOCKER_CONTEXT": "colima"}, "linux", nil, "unix:///Users/u/.colima/default/docker.sock", "context colima", ""},
		{"currentContext from config", nil, "darwin", nil, "unix:///Users/u/.colima/default/docker.sock", "context colima", ""},
		{"DOCKER_CONFIG dir", map[string]string{"DOCKER_CONFIG": otherCfg, "DOCKER_CONTEXT": "remote"}, "linux", nil, "tcp://10.1.2.3:2376", "context remote", ""},
		{"default context is the socket", map[string]string{"DOCKER_CONTEXT": "default"}, "linux", nil, "unix:///var/run/docker.sock", "default", ""},
		{"unknown context", map[string]string{"DOCKER_CONTEXT": "nope"}, "linux", nil, "", "", `docker context "nope" does not exist`},
		{"mac docker desktop", map[string]string{"DOCKER_CONFIG": t.TempDir()}, "darwin", []string{home + "/.docker/run/docker.sock"}, "unix://" + home + "/.docker/run/docker.sock", "default", ""},
		{"mac with /var/run link", map[string]string{"DOCKER_CONFIG": t.TempDir()}, "darwin", []string{"/var/run/docker.sock"}, "unix:///var/run/docker.sock", "default", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := Env{
				Getenv: func(k string) string { return c.env[k] },
				Home:   home, GOOS: c.goos,
				Exists: func(p string) bool {
					for _, e := range c.exists {
						if e == p {
							return true
						}
					}
					return false
				},
			}
			ep, err := ResolveEndpoint(env)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.Host != c.want || ep.Source != c.source {
				t.Errorf("got %+v, want host %q source %q", ep, c.want, c.source)
			}
		})
	}
}

func writeContext(t *testing.T, configDir, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	writeFile(t, filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"),
		`{"Name":"`+name+`","Metadata":{},"Endpoints":{"docker":{"Host":"`+host+`","SkipTLSVerify":false}}}`)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
