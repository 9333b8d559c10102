package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-app/berth/docker"
)

// EnsureTestImage builds TestImage when the engine does not have it yet:
// through the image-import API from a static busybox for the engine's
// architecture (see finder.find), so that no registry is needed; or, where
// this host has none that fits (macOS), on the official busybox image,
// which the engine pulls (Docker Desktop and colima reach Docker Hub).
func EnsureTestImage(ctx context.Context, c *docker.Client) error {
	ok, err := c.ImagePresent(ctx, TestImage)
	if err != nil || ok {
		return err
	}
	rootfs, err := BusyboxRootfs(ctx, c)
	if errors.Is(err, errNoHostBusybox) {
		if berr := c.BuildImage(ctx, TestImage, pulledDockerfile(PulledBase), nil); berr != nil {
			return fmt.Errorf("%v; building it on %s instead failed too: %w", err, PulledBase, berr)
		}
		return nil
	}
	if err != nil {
		return err
	}
	return c.ImportRootfs(ctx, TestImage, bytes.NewReader(rootfs), []string{`CMD ["/bin/sh"]`})
}

// PulledBase is the image TestImage is built on where the host has no
// busybox for the engine: the official image's musl build is static, as the
// host's busybox-static is.
const PulledBase = "busybox:1.36.1-musl"

// pulledDockerfile makes TestImage's layout on base: the folders the tests
// expect that the official image lacks.
func pulledDockerfile(base string) []byte {
	return []byte("FROM " + base + "\nRUN mkdir -p /workspace /home /root /usr/bin /sbin && chmod 1777 /tmp\nCMD [\"/bin/sh\"]\n")
}

// BusyboxRootfs makes TestImage's root filesystem for c's engine: a tar of
// busybox, a link per applet, and the empty folders a container expects.
func BusyboxRootfs(ctx context.Context, c *docker.Client) ([]byte, error) {
	arch, err := c.EngineArch(ctx)
	if err != nil {
		return nil, err
	}
	bb, err := hostFinder().find(arch)
	if err != nil {
		return nil, err
	}
	return bb.rootfs()
}

func (bb busybox) rootfs() ([]byte, error) {
	data := bb.bin
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin", "tmp", "etc", "proc", "sys", "dev", "home", "workspace", "root", "usr", "usr/bin", "sbin"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode}); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	for _, applet := range bb.applets {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
