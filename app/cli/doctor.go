package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-app/berth/app/llm"
	"github.com/berth-app/berth/docker"
)

// doctorReport is `berth doctor --json`.
type doctorReport struct {
	docker.Status
	HostSource string `json:"host_source"`
	Runtime    string `json:"runtime,omitempty"`
	ConfigDir  string `json:"config_dir"`
	DataDir    string `json:"data_dir"`
	// How tool calls reach the sandboxes: PathHelper or PathDockerExec, and why.
	ExecPath       string `json:"exec_path,omitempty"`
	ExecPathReason string `json:"exec_path_reason,omitempty"`
	// Keyring is "" when the OS keyring answers, else why not (keys then go
	// to KeyFile).
	Keyring string         `json:"keyring_unavailable,omitempty"`
	KeyFile string         `json:"key_file"`
	Service *serviceReport `json:"service,omitempty"`
	// OpenGroups are the groups whose sandboxes reach the whole network.
	OpenGroups []string `json:"open_groups,omitempty"`
}

func runDoctor(ctx context.Context, io IO, args []string) int {
	fs := flags(io, "doctor", "[--json]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	st := e.docker.Check(ctx, e.cfg.Image, e.cfg.Runtime)
	rep := doctorReport{Status: st, HostSource: e.docker.Endpoint().Source, Runtime: e.cfg.Runtime, ConfigDir: e.paths.Config, DataDir: e.paths.Data}
	if st.EngineVersion != "" {
		rep.ExecPath, rep.ExecPathReason = e.docker.HelperStatus(ctx)
	}
	rep.KeyFile, _ = llm.KeyFile()
	if err := llm.KeyringStatus(); err != nil {
		rep.Keyring = err.Error()
	}
	if svc, err := newService(); err == nil {
		sr := serviceStatus(svc)
		rep.Service = &sr
	}
	rep.OpenGroups = openGroups(ctx, e)
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printDoctor(io, rep)
	}
	if st.State != docker.Ready {
		return ExitGateClosed
	}
	return ExitOK
}

func printDoctor(io IO, r doctorReport) {
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	reached := r.EngineVersion != ""
	fmt.Fprintln(io.Out, "Berth doctor")
	fmt.Fprintf(io.Out, "  %s Docker engine   %s (%s)\n", mark(reached), r.Host, r.HostSource)
	if reached {
		fmt.Fprintf(io.Out, "  ✓ Engine version  %s, API %s (minimum %s)\n", r.EngineVersion, r.APIVersion, docker.MinAPIVersion)
		fmt.Fprintf(io.Out, "  %s Sandbox image   %s\n", mark(r.ImagePresent), r.Image)
		fmt.Fprintf(io.Out, "  · Tool calls      via %s: %s\n", r.ExecPath, r.ExecPathReason)
	}
	fmt.Fprintf(io.Out, "  · Settings        %s\n", r.ConfigDir)
	fmt.Fprintf(io.Out, "  · Data            %s (never mountable)\n", r.DataDir)
	if r.Keyring == "" {
		fmt.Fprintln(io.Out, "  · API keys        the OS keyring")
	} else {
		fmt.Fprintf(io.Out, "  · API keys        %s (readable only by you) — %s\n", r.KeyFile, r.Keyring)
	}
	if r.Service != nil {
		fmt.Fprintf(io.Out, "  · Service         %s\n", serviceLine(*r.Service))
	}
	if len(r.OpenGroups) > 0 {
		fmt.Fprintf(io.Out, "  ! Network open    groups %s: their sandboxes reach everything, your LAN and the cloud metadata address included;\n"+
			"                    prefer allowlist (berth net mode -g %s allowlist)\n", strings.Join(r.OpenGroups, ", "), r.OpenGroups[0])
	}
	if r.State == docker.Ready {
		fmt.Fprintf(io.Out, "\nAssistant: ready — %s\n", r.Reason)
		return
	}
	fmt.Fprintf(io.Out, "\nAssistant: blocked (%s) — %s\n  fix: %s\n", r.State, r.Reason, r.Hint)
}

// openGroups lists the groups in open network mode, read beside a running
// Berth; none when there is no audit log yet.
func openGroups(ctx context.Context, e *env) []string {
	st, err := e.openReader()
	if err != nil {
		return nil
	}
	defer st.Close()
	svc := e.service(nil)
	svc.Store = st
	open, _ := svc.OpenGroups(ctx)
	return open
}
