package dockertest

import (
	"bytes"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// BusyboxEnv names a static Linux busybox for the engine's architecture to
// build the test image from, instead of the host's.
const BusyboxEnv = "BERTH_TEST_BUSYBOX"

// hostBusyboxPaths are where Debian's busybox-static (and others) put it.
var hostBusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// finder finds a busybox for an engine: the host it runs on and where the
// host keeps busybox.
type finder struct {
	goos, goarch string
	override     string   // BusyboxEnv
	hostPaths    []string // hostBusyboxPaths
}

// hostFinder is the finder of this process.
func hostFinder() finder {
	return finder{goos: runtime.GOOS, goarch: runtime.GOARCH, override: os.Getenv(BusyboxEnv), hostPaths: hostBusyboxPaths}
}

// errNoHostBusybox: this host has no busybox that the engine can run (macOS,
// or a remote engine of another architecture). EnsureTestImage then builds
// the image on the official busybox image instead, which the engine pulls.
var errNoHostBusybox = errors.New("no busybox on this host fits the engine")

// runsHere reports whether a linux/arch binary runs on this host.
func (f finder) runsHere(arch string) bool { return f.goos == "linux" && f.goarch == arch }

// knownApplets are the applets of Debian 12's busybox-static 1.35.0
// (`busybox --list`, the same for every architecture of one build): the
// links made for a BusyboxEnv file that cannot run on this host to list its
// own.
//
//go:embed busybox-applets.txt
var knownApplets string

// busybox is a static Linux busybox for one architecture and the applets
// the image links to it.
type busybox struct {
	bin     []byte
	applets []string
	from    string // where it came from, for messages
}

// find returns a static busybox for linux/arch: the file BusyboxEnv
// names; else the host's, when the host is Linux of that architecture. It
// wraps errNoHostBusybox, with every reason, when none fits.
func (f finder) find(arch string) (busybox, error) {
	if _, ok := elfMachines[arch]; !ok {
		return busybox{}, fmt.Errorf("no test image for the engine's architecture %s (only amd64, arm64)", arch)
	}
	if f.override != "" {
		bb, err := f.file(f.override, arch)
		if err != nil {
			return busybox{}, fmt.Errorf("%s=%s: %w", BusyboxEnv, f.override, err)
		}
		return bb, nil
	}
	var why []string
	if f.runsHere(arch) {
		for _, p := range f.hostPaths {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			bb, err := f.file(p, arch)
			if err == nil {
				return bb, nil
			}
			why = append(why, err.Error())
		}
		if len(why) == 0 {
			why = append(why, fmt.Sprintf("no busybox in %v (apt-get install busybox-static)", f.hostPaths))
		}
	} else {
		why = append(why, fmt.Sprintf("the host (%s/%s) cannot lend its own busybox to a linux/%s engine", f.goos, f.goarch, arch))
	}
	return busybox{}, fmt.Errorf("%w: the test image %s needs a static Linux busybox for linux/%s: %s; or set %s to one",
		errNoHostBusybox, TestImage, arch, strings.Join(why, "; "), BusyboxEnv)
}

// file reads a busybox binary and lists its applets: by running it
// when this host can, else from knownApplets.
func (f finder) file(path, arch string) (busybox, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return busybox{}, err
	}
	if err := checkStaticELF(bin, arch); err != nil {
		return busybox{}, fmt.Errorf("%s: %w", path, err)
	}
	bb := busybox{bin: bin, applets: strings.Fields(knownApplets), from: path}
	if f.runsHere(arch) {
		out, err := exec.Command(path, "--list").Output()
		if err != nil {
			return busybox{}, fmt.Errorf("%s --list: %w", path, err)
		}
		bb.applets = strings.Fields(string(out))
	}
	return bb, nil
}

// elfMachines are the ELF machines of the architectures an engine may have.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkStaticELF refuses what would not run in a container of an image
// that has nothing else: not a Linux executable, another architecture's,
// or one that needs a dynamic loader.
func checkStaticELF(bin []byte, arch string) error {
	want, ok := elfMachines[arch]
	if !ok {
		return fmt.Errorf("no test image for the engine's architecture %s (only amd64, arm64)", arch)
	}
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not a Linux executable: %w", err)
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("built for %s, the engine is %s", f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("linked dynamically (a container with nothing else cannot run it): install busybox-static")
		}
	}
	return nil
}
