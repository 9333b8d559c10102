//go:build berthhelper

package helperbin

import _ "embed"

var (
	//go:embed bin/berth-helper-linux-amd64
	amd64 []byte
	//go:embed bin/berth-helper-linux-arm64
	arm64 []byte
)

var binaries = map[string][]byte{"amd64": amd64, "arm64": arm64}
