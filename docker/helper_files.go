package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"

	"github.com/berth-app/berth/docker/helper"
)

// ErrNoHelper is returned by the helper's file operations when the sandbox
// has no helper (ExecPath says why).
var ErrNoHelper = errors.New("the sandbox has no helper")

// ReadFileNoFollow reads a regular file inside the sandbox through its
// helper, refusing a symlink anywhere on the path (openat2 with
// RESOLVE_NO_SYMLINKS, or O_NOFOLLOW on every component) and anything
// larger than limit bytes.
func (c *Client) ReadFileNoFollow(ctx context.Context, sandboxID, p string, limit int64) ([]byte, error) {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return nil, fmt.Errorf("read file: %q must be a clean absolute path", p)
	}
	h := c.helperFor(ctx, sandboxID, true)
	if h == nil {
		return nil, fmt.Errorf("read file %s: %w", p, ErrNoHelper)
	}
	res, ex, err := h.call(ctx, helper.Request{Kind: helper.KindReadFile, Path: p, Limit: limit}, ExecRequest{}, int(limit))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read file %s: %w", p, err)
	case ex.Error != "":
		return nil, fmt.Errorf("read file: %s", ex.Error)
	case res.Stdout.Total > limit || res.Stdout.Truncated:
		return nil, fmt.Errorf("read file %s: %w: limit %d", p, ErrFileTooLarge, limit)
	}
	return res.Stdout.Data, nil
}

// WriteFileNoFollow creates or replaces a regular file inside the sandbox
// through its helper, refusing a symlink anywhere on the path. The folder
// must exist.
func (c *Client) WriteFileNoFollow(ctx context.Context, sandboxID, p string, data []byte, mode uint32) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("write file: %q must be a clean absolute path", p)
	}
	h := c.helperFor(ctx, sandboxID, true)
	if h == nil {
		return fmt.Errorf("write file %s: %w", p, ErrNoHelper)
	}
	_, ex, err := h.call(ctx, helper.Request{Kind: helper.KindWriteFile, Path: p, Mode: mode, Stdin: true},
		ExecRequest{Stdin: bytes.NewReader(data)}, 4096)
	switch {
	case err != nil:
		return fmt.Errorf("write file %s: %w", p, err)
	case ex.Error != "":
		return fmt.Errorf("write file: %s", ex.Error)
	}
	return nil
}
