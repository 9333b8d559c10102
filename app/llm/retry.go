package llm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// retryPolicy says how often and how long to retry. The SDKs' own retries are
// turned off: their backoff is fixed (0.5s doubling) and they cannot see a
// stream cut after the response headers, so one loop here handles both.
type retryPolicy struct {
	max      int           // retries after the first attempt
	delay    time.Duration // first wait
	maxDelay time.Duration // cap on one wait
}

// newRetryPolicy reads the retry settings of cfg, filling in defaults.
func newRetryPolicy(cfg Config) retryPolicy {
	p := retryPolicy{max: cfg.MaxRetries, delay: cfg.RetryDelay, maxDelay: cfg.MaxRetryDelay}
	switch {
	case p.max == 0:
		p.max = DefaultMaxRetries
	case p.max < 0:
		p.max = 0
	}
	if p.delay <= 0 {
		p.delay = 500 * time.Millisecond
	}
	if p.maxDelay <= 0 {
		p.maxDelay = 30 * time.Second
	}
	return p
}

// wait returns how long to wait before retry number n (0 for the first),
// honouring a server's Retry-After up to the cap.
func (p retryPolicy) wait(n int, retryAfter time.Duration) time.Duration {
	d := p.delay
	for i := 0; i < n && d < p.maxDelay; i++ {
		d *= 2
	}
	d = max(d, retryAfter)
	return min(d, p.maxDelay)
}

// attemptFunc makes one attempt. It returns an *Error, a context error, or an
// error from the transport that classify has not seen yet.
type attemptFunc func(ctx context.Context, emit func(Event)) (Response, error)

// run makes attempts until one succeeds, one fails for good, or output was
// shown: a reply that was partly streamed to the user is never retried, so
// nothing is shown twice.
func (p retryPolicy) run(ctx context.Context, s site, emit func(Event), attempt attemptFunc) (Response, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	for n := 1; ; n++ {
		shown := false
		resp, err := attempt(ctx, func(ev Event) {
			shown = true
			emit(ev)
		})
		if err == nil {
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return resp, fmt.Errorf("%s: %w", s.provider, ctxErr)
		}
		var e *Error
		if !errors.As(err, &e) {
			e = s.transport(err)
		}
		e.Attempts = n
		if shown {
			if e.retryable() {
				e = &Error{Kind: ErrStreamCut, Provider: s.provider, Status: e.Status, Attempts: n,
					msg: "the reply was cut off after part of it was shown, and was not retried so nothing is shown twice (" +
						e.msg + ") — ask again to continue"}
			}
			return resp, e
		}
		if !e.retryable() || n > p.max {
			return Response{}, e
		}
		wait := p.wait(n-1, e.wait)
		// The event's error is the failed attempt's, not a verdict: it must
		// not say "gave up" while a retry is on its way.
		failed := *e
		failed.Attempts = 0
		emit(Event{Kind: EventRetry, Err: &failed, Attempt: n + 1, Wait: wait})
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Response{}, fmt.Errorf("%s: %w", s.provider, ctx.Err())
		case <-timer.C:
		}
	}
}
