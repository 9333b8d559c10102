// Package installtest gives a test a fresh Berth installation: BERTH_HOME
// pointing at its own folder, the folders made, and the database open —
// the set-up the assistant's, the desktop's and the UI's tests all share.
package installtest

import (
	"testing"

	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/store"
)

// Open makes an installation under dir (a temporary folder when dir is "")
// for the rest of the test and opens its database with opts. The store is
// closed when the test ends; closing it earlier is fine.
func Open(t testing.TB, dir string, opts store.Options) (home.Paths, *store.Store) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	t.Setenv("BERTH_HOME", dir)
	return OpenParallel(t, dir, opts)
}

// OpenParallel is Open for a test that runs in parallel with others: the
// same installation, but BERTH_HOME is left alone (t.Setenv forbids
// t.Parallel), so the code under test must take its places from the
// returned Paths, never from home.Resolve.
func OpenParallel(t testing.TB, dir string, opts store.Options) (home.Paths, *store.Store) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p, err := home.Under(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(p.DB, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return p, st
}
