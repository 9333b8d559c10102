// Command berth is a personal AI assistant whose hands work only inside
// isolated Docker sandboxes. With no arguments it starts the desktop app;
// with a subcommand it is the CLI. main only wires: see app/ui/desktop and app/cli.
package main

import (
	"os"

	"github.com/berth-app/berth/app/cli"
	"github.com/berth-app/berth/app/ui/desktop"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(cli.Main(os.Args[1:]))
	}
	if code, ok := cli.PrepareDesktop(os.Stderr); !ok {
		os.Exit(code) // no display: berth serve and the subcommands still work
	}
	os.Exit(desktop.Main(cli.OpenDesktop))
}
