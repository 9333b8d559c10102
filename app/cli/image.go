package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-app/berth/app/config"
	"github.com/berth-app/berth/assets"
)

func runImage(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 || args[0] != "build" {
		return fail(io, ExitUsage, "usage: berth image build [--tag NAME]")
	}
	fs := flags(io, "image build", "[--tag NAME]")
	tag := fs.String("tag", "", "image name (default: the image in settings, "+config.DefaultImage+")")
	if code, ok := parse(fs, args[1:]); !ok {
		return code
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	if *tag == "" {
		*tag = e.cfg.Image
	}
	start := time.Now()
	fmt.Fprintf(io.Out, "Building %s from the built-in Dockerfile (needs access to Docker Hub and Debian's mirrors)…\n", *tag)
	err = e.docker.BuildImage(ctx, *tag, assets.SandboxDockerfile, func(line string) { fmt.Fprintln(io.Out, "  "+line) })
	if err != nil {
		return fail(io, ExitFailure, "%v\n  The build needs network access to pull debian:bookworm-slim and packages.", err)
	}
	fmt.Fprintf(io.Out, "Built %s in %s. `berth doctor` should now say ready.\n", *tag, time.Since(start).Round(time.Second))
	return ExitOK
}
