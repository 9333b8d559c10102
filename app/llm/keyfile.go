package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/berth-app/berth/app/home"
)

// KeyFileName is the key file's name in Berth's config folder: where API
// keys go when the machine has no OS keyring (a headless server, SSH, CI),
// as gh does with its hosts.yml. It is readable by its owner only (0600, in
// a 0700 folder), and Berth refuses to read it otherwise. The config folder
// can never be mounted into a sandbox.
const KeyFileName = "keys.json"

// maxKeyFile bounds what is read from the key file.
const maxKeyFile = 64 << 10

// KeyFile is the key file of this installation (BERTH_HOME honoured).
func KeyFile() (string, error) {
	p, err := home.Resolve()
	if err != nil {
		return "", err
	}
	return filepath.Join(p.Config, KeyFileName), nil
}

// readKeyFile returns the keys in path by provider; a missing file holds
// none. A file others could read, or one that is not a plain file of the
// user's, is refused: its keys may have leaked, and the user should know.
func readKeyFile(path string) (map[string]string, error) {
	f, err := openNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the key file %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read the key file %s: %w", path, err)
	}
	if err := checkPrivate(path, st); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read the key file %s: %w", path, err)
	}
	keys := map[string]string{}
	if len(b) > maxKeyFile || json.Unmarshal(b, &keys) != nil {
		// The decoder's message could quote the file's bytes: say only where.
		return nil, fmt.Errorf("the key file %s is not a JSON object of keys — fix it, or delete it and store the keys again with `berth auth set`", path)
	}
	return keys, nil
}

// checkPrivate refuses a key file that is not a regular file owned by this
// user and closed to everyone else.
func checkPrivate(path string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("the key file %s is not a regular file: remove it", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the key file %s can be read by others (mode %04o): run `chmod 600 %s`, and replace the keys in it if others may have read them", path, perm, path)
	}
	if uid, ok := fileOwner(st); ok && uid != os.Getuid() {
		return fmt.Errorf("the key file %s belongs to another user (uid %d): remove it", path, uid)
	}
	return nil
}

// updateKeyFile sets (key non-empty) or removes provider's key in path,
// writing the file whole and atomically, 0600 in a 0700 folder. A file left
// with no keys is removed. A lock beside the file keeps two Berths (the
// desktop's Settings and `berth auth set`) from losing each other's key.
func updateKeyFile(path, provider, key string) error {
	if key != "" {
		if err := privateDir(filepath.Dir(path)); err != nil {
			return err
		}
	}
	unlock, err := lockFile(path + ".lock")
	if errors.Is(err, fs.ErrNotExist) && key == "" {
		return nil // no folder, so no key file to remove the key from
	}
	if err != nil {
		return fmt.Errorf("lock the key file: %w", err)
	}
	defer unlock()
	keys, err := readKeyFile(path)
	if err != nil {
		return err
	}
	if key == "" {
		if _, ok := keys[provider]; !ok {
			return nil
		}
		delete(keys, provider)
	} else {
		keys[provider] = key
	}
	if len(keys) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the key file %s: %w", path, err)
		}
		return nil
	}
	dir := filepath.Dir(path)
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".keys-*.tmp") // created 0600
	if err != nil {
		return fmt.Errorf("write the key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write the key file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write the key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the key file %s: %w", path, err)
	}
	return nil
}

// privateDir makes dir (Berth's config folder) if needed and closes it to
// everyone but its owner, as the key file inside needs.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("close %s to other users: %w", dir, err)
		}
	}
	return nil
}
