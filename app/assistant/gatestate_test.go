package assistant

import (
	"testing"

	"github.com/berth-app/berth/docker"
)

// TestNewGateState pins the one rule: open only when Docker is ready, the
// user has not paused and no disk is almost full; the line shown is the
// pause's, else the disk's, else Docker's; Docker's own fields pass through.
func TestNewGateState(t *testing.T) {
	t.Parallel()
	ready := docker.Status{State: docker.Ready, Reason: "Docker 20.10 is ready", Host: "unix:///run/docker.sock",
		Image: "berth-sandbox:latest", ImagePresent: true}
	down := docker.Status{State: docker.Down, Reason: "cannot connect", Hint: "start Docker", Host: "unix:///run/docker.sock"}
	full := &diskFull{Reason: "the disk holding Berth's data folder (/d) is almost full: 1 MiB left", Hint: "free space"}
	for _, tc := range []struct {
		name   string
		st     docker.Status
		paused string
		disk   *diskFull
		want   GateState
	}{
		{"ready", ready, "", nil, GateState{Open: true, Reason: "Docker 20.10 is ready", Docker: DockerReady,
			Endpoint: "unix:///run/docker.sock", Image: "berth-sandbox:latest", ImagePresent: true}},
		{"down", down, "", nil, GateState{Reason: "cannot connect", Hint: "start Docker", Docker: DockerDown,
			Endpoint: "unix:///run/docker.sock"}},
		{"disk full", ready, "", full, GateState{Reason: full.Reason, Hint: "free space", Docker: DockerReady,
			Endpoint: "unix:///run/docker.sock", Image: "berth-sandbox:latest", ImagePresent: true, Disk: full.Reason}},
		{"paused over a full disk", ready, "lunch", full, GateState{Reason: "the assistant is paused (lunch)",
			Hint: "resume it from the tray or with `berth resume`", Docker: DockerReady, Endpoint: "unix:///run/docker.sock",
			Image: "berth-sandbox:latest", ImagePresent: true, Paused: "lunch", Disk: full.Reason}},
		{"disk full while Docker is down", down, "", full, GateState{Reason: full.Reason, Hint: "free space", Docker: DockerDown,
			Endpoint: "unix:///run/docker.sock", Disk: full.Reason}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := newGateState(tc.st, tc.paused, tc.disk); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
