package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/app/service"
)

// newService describes the user service for this berth; tests replace it.
var newService = func() (service.Service, error) { return service.FromEnv(runtime.GOOS) }

// serviceReport is `berth service status --json` and part of `berth doctor`.
type serviceReport struct {
	service.State
	Running bool   `json:"running"`         // a Berth answers on the control socket
	Pid     int    `json:"pid,omitempty"`   // its process
	Gate    string `json:"gate,omitempty"`  // open, or why it is closed
	Logs    string `json:"logs,omitempty"`  // where the service's output goes
	Error   string `json:"error,omitempty"` // the installation could not be read
}

func runService(_ context.Context, io IO, args []string) int {
	if len(args) == 0 {
		return fail(io, ExitUsage, "usage: berth service (install | uninstall | status [--json])\n"+
			"  install runs `berth serve` as your user service (systemd on Linux, a LaunchAgent on macOS)")
	}
	svc, err := newService()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	switch args[0] {
	case "install":
		rep, err := svc.Install()
		printServiceSteps(io, rep)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		if len(rep.Todo) > 0 {
			fmt.Fprintln(io.Out, "To finish, run:")
			for _, c := range rep.Todo {
				fmt.Fprintln(io.Out, "  "+c)
			}
		}
		fmt.Fprintf(io.Out, "Logs: %s · status: berth service status\n", svc.LogHint())
	case "uninstall":
		rep, err := svc.Uninstall()
		printServiceSteps(io, rep)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		for _, c := range rep.Todo {
			fmt.Fprintln(io.Out, "  then run: "+c)
		}
	case "status":
		fs := flags(io, "service status", "[--json]")
		asJSON := fs.Bool("json", false, "print the status as JSON")
		if code, ok := parse(fs, args[1:]); !ok {
			return code
		}
		r := serviceStatus(svc)
		if *asJSON {
			enc := json.NewEncoder(io.Out)
			enc.SetIndent("", "  ")
			_ = enc.Encode(r)
		} else {
			printServiceStatus(io, r)
		}
		if !r.Running {
			return ExitFailure
		}
	default:
		return fail(io, ExitUsage, "unknown service command %q; use install, uninstall or status", args[0])
	}
	return ExitOK
}

// serviceStatus reads the installed file and asks the control socket
// whether a Berth runs (the service's, or any other on this installation).
func serviceStatus(svc service.Service) serviceReport {
	r := serviceReport{State: svc.Status(), Logs: svc.LogHint()}
	p, err := home.Resolve()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	rep, err := assistant.Control(p.Socket, assistant.ControlRequest{Cmd: "status"})
	switch {
	case errors.Is(err, assistant.ErrNotRunning):
	case err != nil:
		r.Error = err.Error()
	default:
		r.Running, r.Pid = true, rep.Pid
		r.Gate = "open"
		if !rep.Gate.Open {
			r.Gate = "closed: " + rep.Gate.Reason
		}
	}
	return r
}

func printServiceSteps(io IO, rep service.Report) {
	for _, d := range rep.Done {
		fmt.Fprintln(io.Out, "✓ "+d)
	}
}

// serviceLine is the one-line summary `berth doctor` shows.
func serviceLine(r serviceReport) string {
	installed := "not installed (berth service install runs berth serve as your user service)"
	if r.Installed {
		installed = "installed (" + r.Path + ")"
		if r.Manager != "" {
			installed += ", " + r.Manager
		}
		if !r.Current {
			installed += ", written by another berth: run berth service install again"
		}
	}
	running := "no Berth running"
	if r.Running {
		running = fmt.Sprintf("a Berth is running (pid %d, gate %s)", r.Pid, r.Gate)
	}
	return installed + "; " + running
}

func printServiceStatus(io IO, r serviceReport) {
	fmt.Fprintln(io.Out, "Berth service")
	if r.Installed {
		fmt.Fprintf(io.Out, "  ✓ installed       %s\n", r.Path)
		if !r.Current {
			fmt.Fprintln(io.Out, "    (it starts another berth binary or other settings: run `berth service install` again)")
		}
	} else {
		fmt.Fprintf(io.Out, "  ✗ not installed   (%s would be written by `berth service install`)\n", r.Path)
	}
	if r.Manager != "" {
		fmt.Fprintf(io.Out, "  · service manager %s\n", r.Manager)
	}
	if r.Linger != nil && !*r.Linger {
		fmt.Fprintln(io.Out, "  · lingering off   it stops when you log out: loginctl enable-linger keeps it running")
	}
	if r.Running {
		fmt.Fprintf(io.Out, "  ✓ running         pid %d, gate %s (control socket)\n", r.Pid, r.Gate)
	} else {
		fmt.Fprintln(io.Out, "  ✗ not running     no Berth answers on the control socket")
	}
	if r.Error != "" {
		fmt.Fprintf(io.Out, "  ! %s\n", r.Error)
	}
	fmt.Fprintf(io.Out, "  · logs            %s\n", r.Logs)
}
