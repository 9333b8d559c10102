package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/berth-app/berth/app/llm"
	"golang.org/x/term"
)

func runAuth(_ context.Context, io IO, args []string) int {
	if len(args) != 2 || (args[1] != llm.Anthropic && args[1] != llm.OpenAI) {
		return fail(io, ExitUsage, "usage: berth auth (set | delete | status) (anthropic | openai)\n"+
			"  set reads the key from standard input and stores it in the OS keyring, or, where there is\n"+
			"  none (a headless machine), in %s in Berth's config folder, readable only by you", llm.KeyFileName)
	}
	provider := args[1]
	switch args[0] {
	case "set":
		key, err := readSecret(io, fmt.Sprintf("%s API key: ", provider))
		if err != nil {
			return fail(io, ExitFailure, "read the key: %v", err)
		}
		if key == "" {
			return fail(io, ExitUsage, "no key given")
		}
		loc, err := llm.StoreKey(provider, key)
		if err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "stored the %s key in %s\n", provider, loc)
		keyringNote(io, loc)
	case "delete":
		if err := llm.DeleteKey(provider); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "deleted the %s key (OS keyring and key file)\n", provider)
		if os.Getenv(llm.KeyEnvVar(provider)) != "" {
			fmt.Fprintf(io.Out, "  %s is still set in this environment\n", llm.KeyEnvVar(provider))
		}
	case "status":
		_, loc, err := llm.LookupKey(provider)
		if err != nil {
			fmt.Fprintf(io.Out, "%s: no key (%v)\n", provider, err)
			return ExitFailure
		}
		fmt.Fprintf(io.Out, "%s: key found in %s\n", provider, loc)
		keyringNote(io, loc)
	default:
		return fail(io, ExitUsage, "unknown auth command %q; use set, delete or status", args[0])
	}
	return ExitOK
}

// keyringNote says, once, why a key is not in the OS keyring.
func keyringNote(io IO, loc llm.KeyLocation) {
	if loc.KeyringDown != "" {
		fmt.Fprintf(io.Out, "  (%s)\n", loc.KeyringDown)
	}
}

// readSecret reads one line without echo on a terminal, or from a pipe.
func readSecret(io IO, prompt string) (string, error) {
	if f, ok := io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(io.Err, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(io.Err)
		return strings.TrimSpace(string(b)), err
	}
	line, err := bufio.NewReader(io.In).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
