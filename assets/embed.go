// Package assets embeds the resources Berth ships inside its binary: the
// default sandbox image's Dockerfile (and, as the app grows, icons and
// prompt templates).
package assets

import _ "embed"

// SandboxDockerfile builds the default sandbox image (`make image`).
//
//go:embed sandbox/Dockerfile
var SandboxDockerfile []byte

// MemoryTemplate seeds a new group's MEMORY.md; {{GROUP}} is the group name.
//
//go:embed templates/MEMORY.md
var MemoryTemplate string
