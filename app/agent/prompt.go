package agent

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/berth-app/berth/app/egress"
)

// DefaultPersona is who the assistant is when the user has not said.
const DefaultPersona = `You are Berth, a careful personal assistant. You help the user with their files, notes, code and everyday tasks. You can act: your tools run inside a sandbox, an isolated Linux container on the user's computer that holds only the folders described below.
Work like a careful engineer: look before you change anything (list_files, read_file, grep), make small, precise changes, check the result, and say plainly what you did and what you did not do. When a request is ambiguous or a step could destroy work the user cares about, ask first. Never invent file contents or command output. Keep answers short and concrete.`

// MountInfo describes one of the group's extra mounts for the system prompt.
type MountInfo struct {
	Path     string   // inside the sandbox, such as /workspace/extra/docs
	ReadOnly bool     // the user did not allow writing
	Masked   []string // files inside that hide secrets (they read as empty): container paths, or paths relative to Path
}

// PromptInput is what the system prompt is made of.
type PromptInput struct {
	Persona  string // empty: DefaultPersona
	Now      time.Time
	Group    string // the group's name
	Memory   string // the content of MEMORY.md
	Mounts   []MountInfo
	Tools    []string    // enabled tools; empty: all
	Network  egress.Mode // the group's network mode ("" is none)
	NetHosts []string    // allowlist mode: the destinations the group allows
}

// maxMemoryBytes is how much of MEMORY.md goes into the prompt.
const maxMemoryBytes = 16 << 10

// SystemPrompt returns the system prompt for a turn: the persona, today's
// date, the workspace and its mounts, the tools, the group's memory and how
// to keep it.
func SystemPrompt(in PromptInput) string {
	var b strings.Builder
	persona := strings.TrimSpace(in.Persona)
	if persona == "" {
		persona = DefaultPersona
	}
	b.WriteString(persona)
	b.WriteString("\n\n")
	if !in.Now.IsZero() {
		fmt.Fprintf(&b, "Today is %s.\n", in.Now.Format("Monday, 2 January 2006"))
	}
	if in.Group != "" {
		fmt.Fprintf(&b, "This conversation belongs to the group %q.\n", in.Group)
	}

	b.WriteString("\n# Your workspace\n\n")
	b.WriteString("Tool paths are paths inside the sandbox; a relative path is taken from " + GroupDir + ".\n")
	b.WriteString("- " + GroupDir + " — the group's own folder, read-write, the working directory. Its MEMORY.md is your memory for this group.\n")
	for _, m := range in.Mounts {
		mode := "read-write"
		if m.ReadOnly {
			mode = "read-only: writing there fails with \"Read-only file system\""
		}
		fmt.Fprintf(&b, "- %s — a folder the user shared, %s.", m.Path, mode)
		if len(m.Masked) > 0 {
			masked := make([]string, len(m.Masked))
			for i, f := range m.Masked {
				masked[i] = f
				if !path.IsAbs(f) {
					masked[i] = path.Join(m.Path, f)
				}
			}
			fmt.Fprintf(&b, " These files hold secrets and are masked (they read as empty; do not try to get around this): %s.", strings.Join(masked, ", "))
		}
		b.WriteString("\n")
	}
	if len(in.Mounts) == 0 {
		b.WriteString("The user has shared no other folders; nothing else of their computer is visible.\n")
	} else {
		b.WriteString("Nothing else of the user's computer is visible.\n")
	}
	b.WriteString("Everything outside these folders is the container's own and is thrown away when the sandbox is replaced; /tmp is small.\n")
	writeNetwork(&b, in)

	b.WriteString("\n# Tools\n\n")
	fmt.Fprintf(&b, "You have these tools: %s. Each call is checked, written to an audit log the user can read", strings.Join(enabledNames(in.Tools), ", "))
	b.WriteString(", time-limited and output-capped; some may need the user's approval, and a denied call is not run. ")
	b.WriteString("When a tool fails, read the error and fix the cause rather than repeating the same call.\n")

	b.WriteString("\n# Memory\n\n")
	fmt.Fprintf(&b, "When the user shares a lasting fact or preference (names, how they like things done, ongoing projects), "+
		"or asks you to remember something, update %s with edit_file (or write_file if it does not exist yet): "+
		"short, dated bullet points, grouped by topic; remove what is no longer true. Do not store secrets there. "+
		"It is given to you at the start of every conversation in this group.\n\n", MemoryPath)
	memory := strings.TrimSpace(in.Memory)
	switch {
	case memory == "":
		b.WriteString("MEMORY.md is empty so far.\n")
	case len(memory) > maxMemoryBytes:
		fmt.Fprintf(&b, "MEMORY.md (the first %d of its %d bytes; read the file for the rest):\n<memory>\n%s\n</memory>\n",
			maxMemoryBytes, len(memory), cutUTF8([]byte(memory), maxMemoryBytes))
	default:
		fmt.Fprintf(&b, "MEMORY.md:\n<memory>\n%s\n</memory>\n", memory)
	}
	return b.String()
}

// writeNetwork says what the sandbox's network is, and what to do when a
// destination is blocked: ask the user, never work around the proxy.
func writeNetwork(b *strings.Builder, in PromptInput) {
	mode := in.Network
	if mode == "" {
		mode = egress.ModeNone
	}
	fmt.Fprintf(b, "The group's network mode is %s. ", mode)
	switch mode {
	case egress.ModeOpen:
		b.WriteString("The sandbox can reach the network.\n")
	case egress.ModeAllowlist:
		hosts := "none yet"
		if len(in.NetHosts) > 0 {
			hosts = strings.Join(in.NetHosts, ", ")
		}
		fmt.Fprintf(b, "The sandbox reaches the network only through Berth's proxy (HTTP_PROXY and HTTPS_PROXY are set; tools like curl, git, pip and npm use them), "+
			"and only the destinations the user allows for this group: %s. Any other destination is asked of the user. "+
			"An answer 403 from the proxy (its body names the blocked host) means the user has not allowed it: do not retry and do not try to get around the proxy; "+
			"tell the user which host you need and why, and ask them to allow it.\n", hosts)
	default:
		b.WriteString("The sandbox has no network: downloads, package installs and web requests will fail. Say so instead of retrying; the user can give this group network access.\n")
	}
}
