// Command faulttable prints the fault suite's table from the rows the tests
// reported (see dockertest.ReportFault). Usage: faulttable FILE
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

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
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT\tWHAT THE USER SEES\tACKNOWLEDGED DATA\tAUDIT CHAIN\tORPHAN SANDBOXES")
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var r dockertest.Fault
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		n++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Fault, clip(r.Sees, 70), r.Kept, r.Chain, r.Orphans)
	}
	tw.Flush()
	fmt.Printf("%d faults injected\n", n)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
