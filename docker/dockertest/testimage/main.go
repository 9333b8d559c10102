// Command testimage builds Berth's test sandbox image (berth-test:busybox)
// through the image-import API from the host's busybox-static, so that tests
// run without any registry; where the host has none for the engine (macOS)
// it is built on the official busybox image, which the engine pulls (see
// dockertest.EnsureTestImage). With -check it only says whether the engine
// the environment names answers, and if not why and what to do (exit 1).
// Usage: go run ./docker/dockertest/testimage [-check]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

func main() {
	check := flag.Bool("check", false, "only check that the engine answers; print the reason and the fix when not")
	flag.Parse()
	c, err := docker.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
	if *check {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if st := c.Check(ctx, "", ""); st.State != docker.Ready {
			fmt.Printf("%s\nfix: %s\n", st.Reason, st.Hint)
			os.Exit(1)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := dockertest.EnsureTestImage(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
	fmt.Println("testimage:", dockertest.TestImage, "is ready at", c.Endpoint().Host)
}
