// Package cli is Berth's headless face: `berth <subcommand>` over the
// assistant service. Every command prints for people by default and, where
// a script would parse it, JSON with --json.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes. A command's own exit code passes through `berth exec`.
const (
	ExitOK         = 0
	ExitFailure    = 1   // the command failed (audit verify: the chain is broken)
	ExitUsage      = 2   // bad arguments, or a request refused by policy
	ExitGateClosed = 3   // Docker is not ready: the assistant is blocked
	ExitProvider   = 4   // the model provider failed
	ExitInternal   = 125 // berth exec: Berth itself failed before or around the command
	ExitInterrupt  = 130 // interrupted by Ctrl-C
)

// IO is where a command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, io IO, args []string) int
}

var commands = map[string]command{
	"doctor":   {"check Docker, the sandbox image and Berth's folders", runDoctor},
	"exec":     {"run a command in a group's sandbox", runExec},
	"chat":     {"talk to the assistant; its tools run in the group's sandbox", runChat},
	"sandbox":  {"list or stop sandboxes", runSandbox},
	"group":    {"add, list, show, change or remove groups", runGroup},
	"mount":    {"add, check, list or remove a group's folders", runMount},
	"audit":    {"verify, show or export the audit log", runAudit},
	"image":    {"build the default sandbox image", runImage},
	"serve":    {"run the assistant without a window (queues, idle sandboxes, control socket)", runServe},
	"service":  {"install, remove or check berth serve as your user service (systemd, launchd)", runService},
	"pause":    {"pause the assistant: running turns stop and are kept, new ones wait", runPause},
	"resume":   {"resume the assistant", runResume},
	"session":  {"list or delete a group's chats", runSession},
	"settings": {"show or change the settings (a running Berth uses them at once)", runSettings},
	"net":      {"a group's network: mode (none, allowlist, open), rules, presets, log", runNet},
	"task":     {"schedule the assistant: add, list, pause, run or remove a group's tasks", runTask},
	"auth":     {"store or remove a model provider's API key (OS keyring, or a private key file)", runAuth},
	"version":  {"print Berth's version", runVersion},
}

// Version is set at build time.
var Version = "dev"

// Main runs berth with the process's arguments and stdio; it returns the
// exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// Run runs one subcommand.
func Run(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(io.Out)
		return ExitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.Err, "berth: unknown command %q\n\n", args[0])
		usage(io.Err)
		return ExitUsage
	}
	return cmd.run(ctx, io, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Berth — a personal AI assistant whose hands work only inside Docker sandboxes.")
	fmt.Fprintln(w, "\nUsage: berth <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `berth <command> -h` for a command's flags. BERTH_HOME=DIR keeps all state under DIR.")
}

// flags makes a FlagSet that prints its usage to the command's stderr.
func flags(io IO, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("berth "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "Usage: berth %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; ok false means the caller returns code.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}

// parseInterleaved parses flags that may come before, between or after the
// operands (`mount add PATH -g G --rw`), as people type them. "--" ends the
// flags. It returns the operands.
func parseInterleaved(fs *flag.FlagSet, args []string) (operands []string, code int, ok bool) {
	for {
		if code, ok := parse(fs, args); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return operands, 0, true
		}
		// flag.Parse drops a "--" it stops at; everything after it is an operand.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(operands, rest...), 0, true
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
}

func fail(io IO, code int, format string, a ...any) int {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintln(io.Err, "berth: "+strings.TrimRight(msg, "\n"))
	return code
}

func runVersion(_ context.Context, io IO, _ []string) int {
	fmt.Fprintln(io.Out, "berth", Version)
	return ExitOK
}
