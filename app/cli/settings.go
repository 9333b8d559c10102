package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/config"
)

// settingKinds are the settings `berth settings set` changes, by JSON name,
// and how a value is written: text, a number or a duration ("10m").
var settingKinds = map[string]string{
	"provider": "text", "model": "text", "base_url": "text", "image": "text", "runtime": "text", "network": "text",
	"memory_mb": "number", "cpus": "number", "pids": "number",
	"idle_timeout": "duration", "max_age": "duration", "exec_timeout": "duration",
}

func runSettings(ctx context.Context, io IO, args []string) int {
	if len(args) == 0 || args[0] == "show" {
		e, err := loadEnv()
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		defer e.close()
		return printJSON(io, e.cfg)
	}
	if args[0] != "set" || len(args) < 2 {
		return fail(io, ExitUsage, "usage: berth settings [show] | berth settings set KEY=VALUE… (keys: %s)", strings.Join(settingKeys(), ", "))
	}
	e, err := loadEnv()
	if err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	defer e.close()
	c, err := applySettings(e.cfg, args[1:])
	if err != nil {
		return fail(io, ExitUsage, "%v", err)
	}
	if err := config.Save(e.paths.Config, c); err != nil {
		return fail(io, ExitFailure, "%v", err)
	}
	// A running Berth puts them in force at once.
	if _, err := assistant.Control(e.paths.Socket, assistant.ControlRequest{Cmd: "settings"}); err == nil {
		fmt.Fprintln(io.Out, "saved; the running Berth uses them now (each chat's sandbox is replaced at its next tool call)")
		return ExitOK
	} else if !errors.Is(err, assistant.ErrNotRunning) {
		return fail(io, ExitFailure, "saved, but the running Berth could not take them: %v", err)
	}
	fmt.Fprintln(io.Out, "saved; the next command uses them")
	return ExitOK
}

// applySettings sets KEY=VALUE changes on c.
func applySettings(c config.Config, changes []string) (config.Config, error) {
	fields := map[string]json.RawMessage{}
	for _, ch := range changes {
		key, val, ok := strings.Cut(ch, "=")
		kind, known := settingKinds[key]
		switch {
		case !ok:
			return c, fmt.Errorf("%q: write KEY=VALUE", ch)
		case !known:
			return c, fmt.Errorf("unknown setting %q; use one of %s", key, strings.Join(settingKeys(), ", "))
		case kind == "number":
			if _, err := strconv.ParseFloat(val, 64); err != nil {
				return c, fmt.Errorf("%s: %q is not a number", key, val)
			}
			fields[key] = json.RawMessage(val)
		default:
			b, _ := json.Marshal(val)
			fields[key] = b
		}
	}
	b, _ := json.Marshal(fields)
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("settings: %w", err)
	}
	return c, nil
}

func settingKeys() []string {
	return []string{"provider", "model", "base_url", "image", "runtime", "network", "memory_mb", "cpus", "pids", "idle_timeout", "max_age", "exec_timeout"}
}
