// Package helperbin holds the sandbox helper's binaries (see package
// docker/helper) when Berth is built with `make build` (build tag
// berthhelper, binaries in bin/). A plain `go build` has none, and Berth
// then runs every tool call through `docker exec`.
package helperbin

// Dir is where `make helper` puts the binaries, relative to this package.
const Dir = "bin"

// Name is the file name of the helper for one architecture (GOARCH).
func Name(arch string) string { return "berth-helper-linux-" + arch }

// Binary returns the embedded helper for a GOARCH, or nil.
func Binary(arch string) []byte { return binaries[arch] }

// Arches lists the architectures this build carries a helper for.
func Arches() []string {
	var out []string
	for _, a := range []string{"amd64", "arm64"} {
		if len(binaries[a]) > 0 {
			out = append(out, a)
		}
	}
	return out
}
