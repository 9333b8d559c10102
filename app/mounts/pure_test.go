package mounts

import (
	"slices"
	"testing"
)

func TestIsInside(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, child, parent string
		want                bool
	}{
		{"same", "/home/u/work", "/home/u/work", true},
		{"inside", "/home/u/work/x", "/home/u/work", true},
		{"deep inside", "/home/u/work/x/y/z", "/home/u", true},
		{"prefix trick", "/home/u/work2", "/home/u/work", false},
		{"parent", "/home/u", "/home/u/work", false},
		{"trailing slash", "/home/u/work/", "/home/u/work/", true},
		{"unclean", "/home/u/x/../work/y", "/home/u/work", true},
		{"escape with dot dot", "/home/u/work/../other", "/home/u/work", false},
		{"anything inside slash", "/etc", "/", true},
		{"slash inside slash", "/", "/", true},
		{"slash inside a folder", "/", "/etc", false},
		{"relative and absolute", "home/u", "/home", false},
		{"empty child", "", "/", false},
		{"empty parent", "/x", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := IsInside(tc.child, tc.parent); got != tc.want {
				t.Errorf("IsInside(%q, %q): got %v, want %v", tc.child, tc.parent, got, tc.want)
			}
		})
	}
}

func TestLooksSecret(t *testing.T) {
	t.Parallel()
	secret := []string{
		".env", ".env.local", ".envrc", ".ENV.production", "prod.env", "server.pem", "tls.key",
		"cert.p12", "cert.pfx", "app.jks", "release.keystore", "id_rsa", "id_dsa", "id_ecdsa",
		"id_ed25519", "id_ed25519_sk", "id_rsa.bak", ".npmrc", ".pypirc", ".netrc", "_netrc",
		".git-credentials", "credentials", "Credentials", "credentials-prod.json", "vault.kdbx",
		"service-account-ci.json", ".htpasswd", "secrets.yml", "secrets.yaml", "terraform.tfstate",
		"terraform.tfstate.backup", "private_key.json", ".pgpass", "putty.ppk", ".secrets",
	}
	plain := []string{
		"README.md", "main.go", "id_rsa.pub", "id_ed25519.pub", "id_utils.go", "environment.md",
		"credentials.md", "keys.go", "secrets.go", "package.json", "key.txt", "pem.go", "",
	}
	for _, n := range secret {
		if !LooksSecret(n) {
			t.Errorf("LooksSecret(%q): got false, want true", n)
		}
	}
	for _, n := range plain {
		if LooksSecret(n) {
			t.Errorf("LooksSecret(%q): got true, want false", n)
		}
	}
}

func TestMaskTargets(t *testing.T) {
	t.Parallel()
	got := MaskTargets("/workspace/extra/proj", []string{".env", ".ssh/", "a/b/server.pem", ".", "../escape", "a/../../x", "", "/abs"})
	want := []Mask{
		{Path: "/workspace/extra/proj/.env"},
		{Path: "/workspace/extra/proj/.ssh", Dir: true},
		{Path: "/workspace/extra/proj/a/b/server.pem"},
		{Path: "/workspace/extra/proj"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDefaultBlockedPatternsIsACopy(t *testing.T) {
	t.Parallel()
	p := DefaultBlockedPatterns()
	if !slices.Contains(p, ".ssh") || !slices.Contains(p, ".env") || len(p) != 17 {
		t.Fatalf("got %q, want the 17 defaults", p)
	}
	p[0] = "changed"
	if DefaultBlockedPatterns()[0] == "changed" {
		t.Errorf("got the package's own slice, want a copy")
	}
}

func TestNameProblem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "proj", true},
		{"all allowed characters", "A-z_0.9", true},
		{"three dots", "...", true},
		{"empty", "", false},
		{"unicode", "projét", false},
		{"nul", "a\x00b", false},
		{"newline", "a\nb", false},
		{"taken", "taken", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := nameProblem(tc.in, []string{"taken"}); (got == "") != tc.ok {
				t.Errorf("nameProblem(%q): got %q, want ok=%v", tc.in, got, tc.ok)
			}
		})
	}
}
