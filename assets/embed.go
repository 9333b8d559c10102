// Package assets embeds the resources Berth ships inside its binary: the
// default sandbox image's Dockerfile, prompt templates, and the app and
// tray icons (drawn by icons/gen).
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

// IconApp is the app's icon (256×256 PNG): a container resting on a quay.
//
//go:embed icons/app.png
var IconApp []byte

// IconReady is the tray icon while Docker is ready and the assistant runs
// (64×64 PNG, green).
//
//go:embed icons/ready.png
var IconReady []byte

// IconDown is the tray icon while Docker is down or misconfigured and the
// assistant is blocked (64×64 PNG, red with an exclamation mark).
//
//go:embed icons/down.png
var IconDown []byte

// IconPaused is the tray icon while the user paused the assistant or Docker
// is still being checked (64×64 PNG, grey with a pause mark).
//
//go:embed icons/paused.png
var IconPaused []byte
