package cli

import (
	"context"
	"errors"
	"time"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/home"
	"github.com/berth-app/berth/assets"
	"github.com/berth-app/berth/docker"
)

// StartRuntime opens the installation as its one long-running Berth (the
// "app" lock), starts the Docker monitor, the assistant runtime and the
// control socket. `berth serve` and the desktop app both run on it.
func StartRuntime(ctx context.Context, maxSandboxes int) (*assistant.Instance, error) {
	e, err := loadEnv()
	if err != nil {
		return nil, err
	}
	w, err := e.openWriterAs("app", 0)
	if err != nil {
		e.close()
		return nil, err
	}
	svc := e.service(w)
	mon := docker.NewMonitor(e.docker, docker.MonitorConfig{Image: e.cfg.Image, Runtime: e.cfg.Runtime})
	mctx, stopMon := context.WithCancel(context.WithoutCancel(ctx))
	go mon.Run(mctx)
	rt := assistant.NewRuntime(svc, mon, assistant.RuntimeConfig{MaxSandboxes: maxSandboxes})
	cleanup := func() error {
		stopMon()
		err := w.close()
		e.close()
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return nil, errors.Join(err, cleanup())
	}
	sched := assistant.NewScheduler(rt)
	if err := sched.Start(mctx); err != nil {
		return nil, errors.Join(err, rt.Stop(context.Background()), cleanup())
	}
	if err := rt.ServeControl(mctx, e.paths.Socket); err != nil {
		return nil, errors.Join(err, rt.Stop(context.Background()), cleanup())
	}
	build := func(image string, progress func(string)) error {
		err := e.docker.BuildImage(context.Background(), image, assets.SandboxDockerfile, progress)
		mon.Poke()
		return err
	}
	return &assistant.Instance{Runtime: rt, Scheduler: sched, Service: svc, Store: w.store, ConfigDir: e.paths.Config, Socket: e.paths.Socket, BuildImage: build, Close: func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := errors.Join(rt.Stop(sctx), cleanup())
		sched.Wait()
		return err
	}}, nil
}

// OpenDesktop starts the runtime for the desktop app; when a Berth already
// runs on this installation it asks it to show its window and returns
// assistant.ErrShownExisting.
func OpenDesktop(ctx context.Context) (*assistant.Instance, error) {
	inst, err := StartRuntime(ctx, 4)
	var running *home.ErrAlreadyRunning
	if errors.As(err, &running) && running.Holder.Kind == "app" {
		p, perr := home.Resolve()
		if perr == nil {
			if _, cerr := assistant.Control(p.Socket, assistant.ControlRequest{Cmd: "show"}); cerr == nil {
				return nil, assistant.ErrShownExisting
			}
		}
	}
	return inst, err
}
