package docker

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
)

// seccompProfile is Berth's own seccomp profile: Docker's default profile
// (github.com/moby/profiles/seccomp, DefaultProfile) without the calls in
// forbiddenSyscalls and with personality(2) limited to the default persona.
// It is generated from that Go data, never edited by hand: on Linux,
// `go test ./docker -run TestSeccompProfileIsCurrent -update-seccomp`
// rewrites it, and the same test fails when it is stale. It is embedded so
// that every platform (a Mac talking to Docker Desktop too) sends the same
// profile.
//
//go:embed seccomp.json
var seccompProfile []byte

// SeccompProfile names the profile every sandbox runs under. A spec records
// it (Spec.Seccomp), so the audit log says which profile a sandbox had and a
// warm sandbox made under an older profile is replaced.
var SeccompProfile = func() string {
	sum := sha256.Sum256(seccompProfile)
	return "berth-" + hex.EncodeToString(sum[:8])
}()

// forbiddenSyscalls are the calls Docker's default profile allows (some of
// them only with a capability a sandbox never has) that Berth's profile
// removes: no process may trace, read or write another one's memory, use
// io_uring (which bypasses seccomp for the operations it submits), catch page
// faults, open perf events, load BPF or touch the kernel keyrings.
var forbiddenSyscalls = []string{
	"ptrace", "process_vm_readv", "process_vm_writev",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"userfaultfd", "perf_event_open", "bpf",
	"add_key", "request_key", "keyctl",
}

// allowedPersonas are the only personality(2) arguments allowed: PER_LINUX
// (the default) and 0xffffffff, which asks for the current persona without
// changing it. Docker also allows PER_LINUX32 and UNAME26 variants.
var allowedPersonas = []uint64{0x0, 0xffffffff}

// seccompJSON is the profile as the engine takes it in SecurityOpt.
var seccompJSON = func() []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, seccompProfile); err != nil {
		panic("docker/seccomp.json is not JSON: " + err.Error())
	}
	return b.Bytes()
}()
