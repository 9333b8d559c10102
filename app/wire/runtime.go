package wire

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
	e, err := Load()
	if err != nil {
		return nil, err
	}
	w, err := e.OpenWriter(LockApp, 0)
	if err != nil {
		e.Close()
		return nil, err
	}
	svc := e.Service(w)
	mon := docker.NewMonitor(e.Docker, docker.MonitorConfig{Image: e.Config.Image, Runtime: e.Config.Runtime})
	mctx, stopMon := context.WithCancel(context.WithoutCancel(ctx))
	go mon.Run(mctx)
	rt := assistant.NewRuntime(svc, mon, assistant.RuntimeConfig{MaxSandboxes: maxSandboxes})
	cleanup := func() error {
		stopMon()
		err := w.Close()
		e.Close()
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return nil, errors.Join(err, cleanup())
	}
	sched := assistant.NewScheduler(rt)
	if err := sched.Start(mctx); err != nil {
		return nil, errors.Join(err, rt.Stop(context.Background()), cleanup())
	}
	if err := rt.ServeControl(mctx, e.Paths.Socket); err != nil {
		return nil, errors.Join(err, rt.Stop(context.Background()), cleanup())
	}
	build := func(image string, progress func(string)) error {
		err := e.Docker.BuildImage(context.Background(), image, assets.SandboxDockerfile, progress)
		mon.Poke()
		return err
	}
	return &assistant.Instance{Runtime: rt, Scheduler: sched, Service: svc, Store: w.Store, ConfigDir: e.Paths.Config, Socket: e.Paths.Socket, BuildImage: build, Close: func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := errors.Join(rt.Stop(sctx), cleanup())
		sched.Wait()
		return err
	}}, nil
}

// StartOneShot runs the runtime in-process for one CLI command (`berth
// chat`): the same queue, sandbox cap, gate (a monitor of its own, so that
// Docker going down mid-turn stops the turn) and audit as a long-running
// Berth. stop ends it and releases the installation.
func (e *Env) StartOneShot(ctx context.Context) (*assistant.Runtime, func() error, error) {
	w, err := e.OpenWriter(LockCLI, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	svc := e.Service(w)
	mon := docker.NewMonitor(e.Docker, docker.MonitorConfig{Image: e.Config.Image, Runtime: e.Config.Runtime})
	mctx, stopMon := context.WithCancel(context.WithoutCancel(ctx))
	go mon.Run(mctx)
	rt := assistant.NewRuntime(svc, mon, assistant.RuntimeConfig{OneShot: true})
	if err := rt.Start(ctx); err != nil {
		stopMon()
		return nil, nil, errors.Join(err, w.Close())
	}
	return rt, func() error {
		err := rt.Stop(context.WithoutCancel(ctx))
		stopMon()
		return errors.Join(err, w.Close())
	}, nil
}

// OpenDesktop starts the runtime for the desktop app; when a Berth already
// runs on this installation it asks it to show its window and returns
// assistant.ErrShownExisting.
func OpenDesktop(ctx context.Context) (*assistant.Instance, error) {
	inst, err := StartRuntime(ctx, 4)
	var running *home.ErrAlreadyRunning
	if errors.As(err, &running) && running.Holder.Kind == LockApp {
		p, perr := home.Resolve()
		if perr == nil {
			if _, cerr := assistant.Control(p.Socket, assistant.ControlRequest{Cmd: "show"}); cerr == nil {
				return nil, assistant.ErrShownExisting
			}
		}
	}
	return inst, err
}
