package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// ErrFileTooLarge is returned by GetFile when the file exceeds the limit.
var ErrFileTooLarge = errors.New("file too large")

// PutFile writes data to an absolute path inside the sandbox through the
// archive API, owned by the sandbox's user. The parent folder must exist and
// be writable (a bind mount or a tmpfs; the root filesystem is read-only).
func (c *Client) PutFile(ctx context.Context, sandboxID, dst string, data []byte, mode int64, user string) error {
	if !path.IsAbs(dst) || path.Clean(dst) != dst || dst == "/" {
		return fmt.Errorf("put file: %q must be a clean absolute path", dst)
	}
	uid, gid := 0, 0
	if m := userRe.FindStringSubmatch(user); m != nil {
		uid, _ = strconv.Atoi(m[1])
		gid, _ = strconv.Atoi(m[2])
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: path.Base(dst), Mode: mode, Size: int64(len(data)), Uid: uid, Gid: gid, ModTime: time.Now(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("put file %s: %w", dst, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("put file %s: %w", dst, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("put file %s: %w", dst, err)
	}
	_, err := c.api.CopyToContainer(ctx, sandboxID, client.CopyToContainerOptions{DestinationPath: path.Dir(dst), Content: &buf})
	if err != nil {
		return fmt.Errorf("put file %s: %w", dst, c.fileErr(sandboxID, err))
	}
	return nil
}

// GetFile reads a regular file from inside the sandbox through the archive
// API, refusing anything larger than limit bytes.
func (c *Client) GetFile(ctx context.Context, sandboxID, src string, limit int64) ([]byte, error) {
	if !path.IsAbs(src) || path.Clean(src) != src {
		return nil, fmt.Errorf("get file: %q must be a clean absolute path", src)
	}
	res, err := c.api.CopyFromContainer(ctx, sandboxID, client.CopyFromContainerOptions{SourcePath: src})
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", src, c.fileErr(sandboxID, err))
	}
	defer res.Content.Close()
	if !res.Stat.Mode.IsRegular() {
		return nil, fmt.Errorf("get file %s: not a regular file (%s)", src, res.Stat.Mode)
	}
	if res.Stat.Size > limit {
		return nil, fmt.Errorf("get file %s: %w: %d bytes, limit %d", src, ErrFileTooLarge, res.Stat.Size, limit)
	}
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", src, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("get file %s: not a regular file", src)
	}
	data, err := io.ReadAll(io.LimitReader(tr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", src, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("get file %s: %w: limit %d", src, ErrFileTooLarge, limit)
	}
	return data, nil
}

func (c *Client) fileErr(sandboxID string, err error) error {
	switch {
	case cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "No such container"):
		return ErrSandboxGone
	case strings.Contains(err.Error(), "read-only"):
		return fmt.Errorf("read-only file system: %w", err)
	}
	return err
}
