// Command berth-helper runs inside a Berth sandbox as one long-lived exec
// whose stdin and stdout carry Berth's channel (see package helper). It is
// built static (CGO_ENABLED=0) for linux/amd64 and linux/arm64 and embedded
// in Berth, which writes it into the sandbox through the Docker API.
package main

import (
	"fmt"
	"os"

	"github.com/berth-app/berth/docker/helper"
)

func main() {
	if err := helper.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "berth-helper:", err)
		os.Exit(1)
	}
}
