//go:build !berthhelper

package helperbin

// binaries is empty: this build was made without `make build`.
var binaries = map[string][]byte{}
