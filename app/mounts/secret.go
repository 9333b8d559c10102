package mounts

import (
	"path"
	"strings"
)

// secretFiles are glob patterns, matched against a lowercased base name,
// of files that usually hold keys, passwords or tokens.
//
// SSH keys are matched by key type ("id_rsa", "id_ed25519_sk", "id_rsa.bak")
// rather than by a bare "id_*", which would also hide source files such as
// "id_utils.go" from the agent; public keys (".pub") are not secret.
var secretFiles = []string{
	".env*", "*.env",
	"*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.ppk",
	"id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "id_xmss*",
	".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".pgpass", ".htpasswd",
	"credentials", "credentials*.json", "service-account*.json",
	"secrets.y*ml", "terraform.tfstate*", "private_key*", ".secret*",
}

// secretDirs are folder names masked whole by Scan and never descended into.
var secretDirs = []string{
	".ssh", ".gnupg", ".gpg", ".aws", ".azure", ".gcloud", "gcloud", ".kube",
	".docker", ".password-store", "credentials", ".secret", ".secrets",
}

// LooksSecret reports whether a file with this base name probably holds
// secrets (".env", "server.pem", "id_ed25519", ".git-credentials", …).
// Case is ignored.
func LooksSecret(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "id_") && strings.HasSuffix(n, ".pub") {
		return false
	}
	for _, g := range secretFiles {
		if ok, _ := path.Match(g, n); ok {
			return true
		}
	}
	return false
}

// looksSecretDir reports whether a folder with this base name is one that
// holds secrets as a whole (".ssh", ".aws", …). Case is ignored.
func looksSecretDir(name string) bool {
	n := strings.ToLower(name)
	for _, d := range secretDirs {
		if n == d {
			return true
		}
	}
	return false
}

// Mask is one path inside the sandbox to hide: an empty read-only file is
// mounted over a file, an empty read-only tmpfs over a folder.
type Mask struct {
	Path string // the path inside the container
	Dir  bool
}

// MaskTargets turns Scan's masked paths (relative, slash-separated, folders
// ending in "/") into container paths under the mount point container.
// Entries that would land outside container are dropped.
func MaskTargets(container string, masked []string) []Mask {
	var out []Mask
	for _, m := range masked {
		dir := strings.HasSuffix(m, "/")
		rel := path.Clean(strings.TrimSuffix(m, "/"))
		if m == "" || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		out = append(out, Mask{Path: path.Join(container, rel), Dir: dir})
	}
	return out
}
