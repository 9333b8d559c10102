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
		return fail(io, ExitUsage, "usage: berth auth (set | delete | status) (anthropic | openai)\n  set reads the key from standard input and stores it in the OS keyring")
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
		if err := llm.SetKey(provider, key); err != nil {
			return fail(io, ExitFailure, "%v\n  You can set %s in the environment instead.", err, llm.KeyEnvVar(provider))
		}
		fmt.Fprintf(io.Out, "stored the %s key in the OS keyring\n", provider)
	case "delete":
		if err := llm.DeleteKey(provider); err != nil {
			return fail(io, ExitFailure, "%v", err)
		}
		fmt.Fprintf(io.Out, "deleted the %s key from the OS keyring\n", provider)
	case "status":
		_, src, err := llm.GetKey(provider)
		if err != nil {
			fmt.Fprintf(io.Out, "%s: no key (%v)\n", provider, err)
			return ExitFailure
		}
		fmt.Fprintf(io.Out, "%s: key found in %s\n", provider, src)
	default:
		return fail(io, ExitUsage, "unknown auth command %q; use set, delete or status", args[0])
	}
	return ExitOK
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
