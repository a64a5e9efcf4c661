package databricks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// attempt runs one API request under the per-request timeout (0: none) and
// classifies its failure. An error of the caller's ctx is returned as is.
func (c *Client) attempt(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	err := fn(actx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case actx.Err() != nil:
		return &Error{Kind: KindTransient, Message: fmt.Sprintf("no answer within %s", timeout),
			Err: err, unknownOutcome: true}
	}
	return classify(err)
}

// retry runs an idempotent request until it succeeds, fails permanently, ctx
// ends or Config.RetryTimeout has been spent on transient errors. It returns
// nil, ctx.Err() or a classified *Error (not yet described).
func (c *Client) retry(ctx context.Context, fn func(context.Context) error) error {
	return c.retryWithTimeout(ctx, c.cfg.HTTPTimeout, fn)
}

func (c *Client) retryWithTimeout(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	start := c.now()
	b := c.newBackoff()
	for {
		err := c.attempt(ctx, timeout, fn)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Kind != KindTransient {
			return err
		}
		if err := c.backoffOrGiveUp(ctx, start, b, e); err != nil {
			return err
		}
	}
}

// backoffOrGiveUp sleeps before the next attempt, or returns e when the retry
// budget would be exceeded (or ctx's error when it ends first).
func (c *Client) backoffOrGiveUp(ctx context.Context, start time.Time, b *backoff, e *Error) error {
	wait := b.next(e.retryAfter)
	if c.now().Add(wait).Sub(start) > c.cfg.RetryTimeout {
		return e
	}
	return sleep(ctx, wait)
}

// backoff is exponential backoff with jitter between min and max.
type backoff struct {
	min, max, cur time.Duration
}

func (c *Client) newBackoff() *backoff {
	return &backoff{min: c.cfg.RetryMinBackoff, max: c.cfg.RetryMaxBackoff}
}

// next returns the wait before the next attempt; a server's Retry-After hint
// is honoured when longer.
func (b *backoff) next(hint time.Duration) time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	d := b.cur/2 + rand.N(b.cur/2+1)
	return max(d, hint)
}

// poller spaces status polls: PollMinInterval after a change, growing by half
// up to PollMaxInterval while nothing changes.
type poller struct {
	min, max, cur time.Duration
}

func (c *Client) newPoller() *poller {
	return &poller{min: c.cfg.PollMinInterval, max: c.cfg.PollMaxInterval}
}

func (p *poller) wait(ctx context.Context, changed bool) error {
	if changed || p.cur == 0 {
		p.cur = p.min
	} else {
		p.cur = min(p.cur+p.cur/2+1, p.max)
	}
	return sleep(ctx, p.cur)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cleanupContext is a fresh context for stopping external work after ctx was
// cancelled: it keeps ctx's values but not its cancellation.
func (c *Client) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CancelTimeout)
}

// joinCtx returns ctx's error joined with err, so errors.Is(_, context.Canceled)
// still holds when stopping external work also failed.
func joinCtx(ctx context.Context, err error) error {
	return errors.Join(ctx.Err(), err)
}
