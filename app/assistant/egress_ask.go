package assistant

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/berth-app/berth/app/egress"
)

// Network questions: a sandbox in allowlist mode asked for a destination no
// rule covers. The connection waits (bounded by the proxy's AskTimeout)
// while the runtime asks: it publishes EventNetAsk for every face, and
// hands the question to the face that sent the running turn of that
// session (`berth chat` on a terminal, or with --allow-net), if it gave an
// AskNet. The first answer counts; no answer in time denies.

// Runtime event kinds of network questions.
const (
	EventNetAsk    = "net_ask"    // Net: a connection waits for an answer (Allow once / Always / Deny)
	EventNetAnswer = "net_answer" // Net (with Answer): the question is settled, by an answer or by time
)

// NetQuestion is a destination a sandbox waits to reach.
type NetQuestion struct {
	ID      string    `json:"id"`
	Group   string    `json:"group"`
	Session string    `json:"session,omitempty"`
	Host    string    `json:"host"`
	Port    int       `json:"port"`
	Method  string    `json:"method,omitempty"` // CONNECT, or the plain-HTTP method
	Asked   time.Time `json:"asked"`
	Answer  string    `json:"answer,omitempty"` // on EventNetAnswer: allow once, allow always, deny, or no answer
}

// Dest is host:port.
func (q NetQuestion) Dest() string { return hostPortKey(q.Host, q.Port) }

// NetAsker asks someone about a network destination and returns the answer.
// It should return when ctx ends (the question timed out or was answered
// elsewhere).
type NetAsker func(ctx context.Context, q NetQuestion) (egress.Answer, error)

// netAsk is a question waiting for its answer.
type netAsk struct {
	q  NetQuestion
	ch chan egress.Answer // buffered: the first answer wins
}

// NoAnswer is the Answer of a question nobody answered in time.
const NoAnswer = "no answer"

// askNet is the proxies' Ask.
func (r *Runtime) askNet(ctx context.Context, req egress.Request) (egress.Answer, error) {
	r.net.mu.Lock()
	r.net.seq++
	q := NetQuestion{ID: "net-" + strconv.Itoa(r.net.seq), Group: req.Group, Session: req.Session, Host: req.Host, Port: req.Port,
		Method: req.Method, Asked: time.Now()}
	a := &netAsk{q: q, ch: make(chan egress.Answer, 1)}
	r.net.asks[q.ID] = a
	r.net.mu.Unlock()
	defer func() {
		r.net.mu.Lock()
		delete(r.net.asks, q.ID)
		r.net.mu.Unlock()
	}()

	r.bus.publish(Event{Kind: EventNetAsk, Group: q.Group, Session: q.Session, Net: &q,
		Text: fmt.Sprintf("a sandbox of group %s waits to reach %s: allow once, always for this group, or deny?", q.Group, q.Dest())})
	actx, cancel := context.WithCancel(ctx)
	defer cancel() // the turn's face stops asking once the question is settled
	for _, ask := range r.turnAskers(q.Session) {
		go func() {
			if ans, err := ask(actx, q); err == nil {
				select {
				case a.ch <- ans:
				default:
				}
			}
		}()
	}
	settled := q
	defer func() { r.bus.publish(Event{Kind: EventNetAnswer, Group: q.Group, Session: q.Session, Net: &settled}) }()
	select {
	case ans := <-a.ch:
		settled.Answer = ans.String()
		return ans, nil
	case <-ctx.Done():
		settled.Answer = NoAnswer
		return egress.Deny, ctx.Err()
	}
}

// turnAskers are the AskNet of the running turns of a session.
func (r *Runtime) turnAskers(session string) []NetAsker {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []NetAsker
	for _, t := range r.running {
		if t.session == session && t.askNet != nil {
			out = append(out, t.askNet)
		}
	}
	return out
}

// AnswerNet answers a network question (a face's Allow once / Always for
// this group / Deny buttons).
func (r *Runtime) AnswerNet(id string, ans egress.Answer) error {
	r.net.mu.Lock()
	a, ok := r.net.asks[id]
	r.net.mu.Unlock()
	if !ok {
		return fmt.Errorf("no network question %s is waiting (answered, or timed out)", id)
	}
	select {
	case a.ch <- ans:
	default: // answered already
	}
	return nil
}

// NetAnswerOp answers a network question through the control socket
// (`berth net answer`).
type NetAnswerOp struct {
	ID     string        `json:"id"`
	Answer egress.Answer `json:"answer"`
}

// PendingNet lists the network questions waiting for an answer, oldest
// first (the tray shows that a sandbox waits).
func (r *Runtime) PendingNet() []NetQuestion {
	r.net.mu.Lock()
	defer r.net.mu.Unlock()
	out := make([]NetQuestion, 0, len(r.net.asks))
	for _, a := range r.net.asks {
		out = append(out, a.q)
	}
	slices.SortFunc(out, func(a, b NetQuestion) int { return a.Asked.Compare(b.Asked) })
	return out
}

// AllowNetFor is a NetAsker that allows once the destinations the rules
// name (`berth chat --allow-net HOST…`) and hands the others to next (nil:
// they stay for the other faces, or time out).
func AllowNetFor(rules []string, next NetAsker) (NetAsker, error) {
	var pol egress.Policy
	for _, s := range rules {
		r, err := egress.ParseRule(s)
		if err != nil {
			return nil, err
		}
		pol.Rules = append(pol.Rules, r)
	}
	return func(ctx context.Context, q NetQuestion) (egress.Answer, error) {
		if _, ok := pol.Match(q.Host, q.Port); ok {
			return egress.AllowOnce, nil
		}
		if next == nil {
			<-ctx.Done()
			return egress.Deny, ctx.Err()
		}
		return next(ctx, q)
	}, nil
}
