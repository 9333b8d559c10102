// Command testimage builds Berth's test sandbox image (berth-test:busybox)
// from the host's busybox-static through the image-import API, so that tests
// run without any registry. Usage: go run ./docker/dockertest/testimage
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/berth-app/berth/docker"
	"github.com/berth-app/berth/docker/dockertest"
)

func main() {
	c, err := docker.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := dockertest.EnsureTestImage(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "testimage:", err)
		os.Exit(1)
	}
	fmt.Println("testimage:", dockertest.TestImage, "is ready at", c.Endpoint().Host)
}
