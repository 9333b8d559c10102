package llm_test

import (
	"errors"
	"github.com/berth-app/berth/docker/dockertest/need"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/berth-app/berth/app/llm"
)

// inSecretService marks the copy of this test binary that runs inside the
// private session bus.
const inSecretService = "BERTH_TEST_IN_SECRET_SERVICE"

// TestKeysRealSecretService stores, reads and deletes a key in a real
// Secret Service, through Berth's own path (the bus probe, then
// go-keyring): gnome-keyring-daemon on a private bus started by
// dbus-run-session, with its own home, so that no real keyring is touched.
// The test binary runs itself again inside that session; secret-tool, an
// independent client, checks that the key really is in the Secret Service.
func TestKeysRealSecretService(t *testing.T) {
	if os.Getenv(inSecretService) == "1" {
		secretServiceRoundTrip(t)
		return
	}
	if runtime.GOOS != "linux" {
		need.Deliberately(t, "the Secret Service is the Linux keyring; macOS's Keychain is reached through /usr/bin/security")
	}
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		_, err := exec.LookPath(tool)
		need.Require(t, err == nil, tool+" is not installed (apt-get install dbus gnome-keyring libsecret-tools; .ci/deps test does)")
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	// gnome-keyring-daemon --unlock creates the login keyring with the
	// password on stdin and unlocks it; exit 97 says it could not.
	script := `printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$0" -test.run '^TestKeysRealSecretService$' -test.count=1 -test.v`
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, os.Args[0])
	cmd.Env = append(withoutEnv(os.Environ(), "DBUS_SESSION_BUS_ADDRESS", "BERTH_HOME", "ANTHROPIC_API_KEY"),
		inSecretService+"=1", "KEYRING_PASSWORD=berth-test", "HOME="+dir, "XDG_RUNTIME_DIR="+run,
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "BERTH_HOME="+filepath.Join(dir, "berth"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 97 {
		need.Require(t, false, "gnome-keyring-daemon could not start on a private session bus:\n"+string(out))
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: TestKeysRealSecretService") {
		t.Fatalf("the round trip in the Secret Service failed (%v):\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "secret service:") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// secretServiceRoundTrip runs inside the private session bus.
func secretServiceRoundTrip(t *testing.T) {
	const secret = "sk-ant-real-secret-service-0123"
	if err := llm.KeyringStatus(); err != nil {
		t.Fatalf("KeyringStatus with gnome-keyring on the bus: %v", err)
	}
	loc, err := llm.StoreKey(llm.Anthropic, secret)
	if err != nil {
		t.Fatalf("StoreKey: %v", err)
	}
	if loc.Source != llm.SourceKeyring {
		t.Fatalf("StoreKey: stored in %+v, want the OS keyring", loc)
	}
	if got := secretTool(t, "lookup"); got != secret {
		t.Fatalf("secret-tool lookup: got %q, want the stored key", got)
	}
	file, _ := llm.KeyFile()
	if _, err := os.Lstat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file %s: got %v, want none when the keyring took the key", file, err)
	}
	key, loc, err := llm.LookupKey(llm.Anthropic)
	if err != nil || key != secret || loc.Source != llm.SourceKeyring {
		t.Fatalf("LookupKey: got %q from %+v (%v), want the key from the OS keyring", key, loc, err)
	}
	if err := llm.DeleteKey(llm.Anthropic); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if got := secretTool(t, "lookup"); got != "" {
		t.Errorf("secret-tool lookup after DeleteKey: got %q, want nothing", got)
	}
	if _, _, err := llm.GetKey(llm.Anthropic); !errors.Is(err, llm.ErrNoKey) {
		t.Errorf("GetKey after DeleteKey: got %v, want ErrNoKey", err)
	}
	t.Logf("secret service: stored, read (also with secret-tool) and deleted a key in gnome-keyring-daemon on the private bus %s", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
}

// secretTool looks Berth's anthropic key up with libsecret's own client.
func secretTool(t *testing.T, verb string) string {
	t.Helper()
	out, err := exec.Command("secret-tool", verb, "service", "berth", "username", llm.Anthropic).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && len(out) == 0) {
		t.Fatalf("secret-tool %s: %v", verb, err)
	}
	return string(out)
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}
