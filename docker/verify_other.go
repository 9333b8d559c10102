//go:build !linux

package docker

import "errors"

// hostIdentity is never needed off Linux: no engine there shares the
// host's file system (SharesHostFS).
func hostIdentity(string) (uint64, uint64, error) {
	return 0, 0, errors.New("not on Linux")
}

func kernelRelease() string { return "" }
