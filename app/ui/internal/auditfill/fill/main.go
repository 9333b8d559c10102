// Command fill writes a made-up audit log (see package auditfill).
// Usage: fill DB N — events #1 to #N+1, the last one a marker.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/berth-app/berth/app/ui/internal/auditfill"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fill DB N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err == nil {
		err = auditfill.Fill(os.Args[1], n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}
