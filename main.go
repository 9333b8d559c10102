// Command berth is a personal AI assistant whose hands work only inside
// isolated Docker sandboxes. main only wires: see app/cli.
package main

import (
	"os"

	"github.com/berth-app/berth/app/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
