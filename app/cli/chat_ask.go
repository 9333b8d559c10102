package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/berth-app/berth/app/agent"
	"github.com/berth-app/berth/app/assistant"
	"github.com/berth-app/berth/app/egress"
)

// terminal asks the questions of one `berth chat` run on its input, one
// line per answer: the tool approvals and the network questions. One line
// reader serves both, and one question is asked at a time.
type terminal struct {
	io    IO
	p     *chatPrinter
	once  sync.Once
	lines chan string // closed at the input's end
	mu    sync.Mutex
}

func (t *terminal) read() {
	t.lines = make(chan string)
	go func() {
		defer close(t.lines)
		br := bufio.NewReader(t.io.In)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				t.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
}

// ask prints prompt and returns the answer line, lower-cased; ok is false
// at the input's end or when ctx ends first.
func (t *terminal) ask(ctx context.Context, prompt string) (answer string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.once.Do(t.read)
	t.p.endLine()
	fmt.Fprint(t.io.Err, prompt)
	select {
	case line, ok := <-t.lines:
		if !ok {
			fmt.Fprintln(t.io.Err, "(no answer: denied)")
		}
		return strings.ToLower(strings.TrimSpace(line)), ok
	case <-ctx.Done():
		fmt.Fprintln(t.io.Err, "(settled without this answer)")
		return "", false
	}
}

// approver asks about tool calls: y = once, a = always for this group,
// anything else = deny. --yes allows every call once.
func (t *terminal) approver(yes bool) agent.Approver {
	return func(ctx context.Context, req agent.ApprovalRequest) (agent.Approval, error) {
		if yes {
			return agent.AllowOnce, nil
		}
		switch line, _ := t.ask(ctx, fmt.Sprintf("Allow %s? [y] once · [a] always for this group · [N] deny: ", req.Summary)); line {
		case "y", "yes":
			return agent.AllowOnce, nil
		case "a", "always":
			return agent.AllowAlways, nil
		}
		return agent.Deny, nil
	}
}

// netAsker answers the run's network questions: the destinations --allow-net
// names are allowed once; the others are asked here (--yes does not
// answer them).
func (t *terminal) netAsker(allowNet []string) (assistant.NetAsker, error) {
	return assistant.AllowNetFor(allowNet, func(ctx context.Context, q assistant.NetQuestion) (egress.Answer, error) {
		line, _ := t.ask(ctx, fmt.Sprintf("Let the sandbox of group %s reach %s? [y] once · [a] always for this group · [N] deny: ", q.Group, q.Dest()))
		if ctx.Err() != nil {
			return egress.Deny, ctx.Err()
		}
		switch line {
		case "y", "yes":
			return egress.AllowOnce, nil
		case "a", "always":
			return egress.AllowAlways, nil
		}
		return egress.Deny, nil
	})
}

// listFlag is a flag that may be given more than once, each time with one
// or more comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
