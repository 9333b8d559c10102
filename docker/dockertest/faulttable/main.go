// Command faulttable prints the fault suite's table from the rows the tests
// reported (see dockertest.ReportFault) and exits 1 when a row shows lost
// data, a broken chain or an orphan, or a line is not a row.
// Usage: faulttable FILE
package main

import (
	"fmt"
	"os"

	"github.com/berth-app/berth/docker/dockertest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: faulttable FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttable:", err)
		os.Exit(1)
	}
	defer f.Close()
	if bad := dockertest.PrintFaults(os.Stdout, f); bad > 0 {
		os.Exit(1)
	}
}
