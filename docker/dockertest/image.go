package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/berth-app/berth/docker"
)

// busyboxPaths are where Debian's busybox-static (and others) put the binary.
var busyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// EnsureTestImage builds TestImage from the host's static busybox through
// the image-import API when the engine does not have it yet.
func EnsureTestImage(ctx context.Context, c *docker.Client) error {
	ok, err := c.ImagePresent(ctx, TestImage)
	if err != nil || ok {
		return err
	}
	rootfs, err := BusyboxRootfs()
	if err != nil {
		return err
	}
	return c.ImportRootfs(ctx, TestImage, bytes.NewReader(rootfs), []string{`CMD ["/bin/sh"]`})
}

// BusyboxRootfs makes a tiny root filesystem tar: busybox, a link per applet,
// and the empty folders a container expects.
func BusyboxRootfs() ([]byte, error) {
	var bin string
	for _, p := range busyboxPaths {
		if _, err := os.Stat(p); err == nil {
			bin = p
			break
		}
	}
	if bin == "" && runtime.GOOS != "linux" {
		return nil, fmt.Errorf("the test image %s is missing and cannot be built on %s: it needs a static Linux busybox at %s; "+
			"build it on a Linux machine (`make test-image`), then `docker save %s | docker load` here", TestImage, runtime.GOOS, busyboxPaths[0], TestImage)
	}
	if bin == "" {
		return nil, fmt.Errorf("no busybox binary found in %v: install busybox-static (`apt-get install busybox-static`)", busyboxPaths)
	}
	out, err := exec.Command(bin, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", bin, err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
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
	for _, applet := range strings.Fields(string(out)) {
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
