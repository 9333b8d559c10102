package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// ImagePresent reports whether the engine has the image locally. A missing
// image is (false, nil); only a failure to ask is an error.
func (c *Client) ImagePresent(ctx context.Context, ref string) (bool, error) {
	_, err := c.api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, nil
}

// BuildImage builds ref from a Dockerfile alone (no other context files),
// calling progress with each line of build output as it arrives.
func (c *Client) BuildImage(ctx context.Context, ref string, dockerfile []byte, progress func(line string)) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return err
	}
	if _, err := tw.Write(dockerfile); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := c.api.ImageBuild(ctx, &buf, client.ImageBuildOptions{
		Tags: []string{ref}, Remove: true, ForceRemove: true, Dockerfile: "Dockerfile",
		Labels: map[string]string{LabelApp: "1"},
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	defer res.Body.Close()
	return readProgress(res.Body, "build image "+ref, progress)
}

// ImportRootfs creates ref from a tar of a root filesystem, with Dockerfile
// style changes such as `CMD ["/bin/sh"]`. It needs no registry.
func (c *Client) ImportRootfs(ctx context.Context, ref string, rootfs io.Reader, changes []string) error {
	res, err := c.api.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref, client.ImageImportOptions{Changes: changes})
	if err != nil {
		return fmt.Errorf("import image %s: %w", ref, err)
	}
	defer res.Close()
	return readProgress(res, "import image "+ref, nil)
}

// readProgress reads the engine's JSON message stream, forwarding readable
// lines and turning an in-stream error into a Go error.
func readProgress(r io.Reader, what string, progress func(string)) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Stream      string `json:"stream"`
			Status      string `json:"status"`
			Progress    string `json:"progress"`
			ID          string `json:"id"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: reading progress: %w", what, err)
		}
		if msg.Error != "" || msg.ErrorDetail.Message != "" {
			m := msg.ErrorDetail.Message
			if m == "" {
				m = msg.Error
			}
			return fmt.Errorf("%s: %s", what, strings.TrimSpace(m))
		}
		if progress == nil {
			continue
		}
		line := strings.TrimRight(msg.Stream, "\n")
		if line == "" && msg.Status != "" {
			line = strings.TrimSpace(msg.ID + " " + msg.Status + " " + msg.Progress)
		}
		if line != "" {
			progress(line)
		}
	}
}

// EngineArch is the engine's architecture as a GOARCH ("amd64", "arm64"):
// what a binary delivered into its containers must be built for.
func (c *Client) EngineArch(ctx context.Context) (string, error) {
	info, err := c.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", fmt.Errorf("engine info: %w", err)
	}
	return goArch(info.Info.Architecture), nil
}
