package databricks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
)

// work stands for a poll of external work: it stops the work (records
// stopped) when its context ends.
type work struct {
	started  chan struct{}
	stopped  chan struct{}
	attached func() bool
}

func newWork() *work { return &work{started: make(chan struct{}), stopped: make(chan struct{})} }

func (w *work) run(ctx context.Context, attached func() bool) (string, error) {
	w.attached = attached
	close(w.started)
	<-ctx.Done()
	close(w.stopped)
	return "", ctx.Err()
}

func TestAttached(t *testing.T) {
	t.Parallel()

	t.Run("ResultPassesThrough", func(t *testing.T) {
		t.Parallel()
		got, err := adatabricks.Attached(context.Background(), func(context.Context, func() bool) (string, error) {
			return "COMPLETED", nil
		})
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", got)
	})

	t.Run("CancellationStopsTheWork", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		w := newWork()
		go func() { <-w.started; cancel() }()
		_, err := adatabricks.Attached(ctx, w.run)
		require.ErrorIs(t, err, context.Canceled)
		select {
		case <-w.stopped:
		default:
			t.Fatal("the work was not stopped before Attached returned")
		}
		require.True(t, w.attached())
		require.True(t, adatabricks.Stopped(ctx, err))
	})

	t.Run("DeadlineStopsTheWork", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		w := newWork()
		_, err := adatabricks.Attached(ctx, w.run)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		<-w.stopped
		require.True(t, adatabricks.Stopped(ctx, err))
	})

	t.Run("WorkerShutdownLeavesTheWorkRunning", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancelCause(context.Background())
		w := newWork()
		go func() { <-w.started; cancel(worker.ErrWorkerShutdown) }()
		_, err := adatabricks.Attached(ctx, w.run)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, adatabricks.WorkerStopping(ctx))
		require.False(t, adatabricks.Stopped(ctx, err))
		require.False(t, w.attached(), "a detached poll stops heartbeating")
		select {
		case <-w.stopped:
			t.Fatal("the work was stopped on worker shutdown")
		case <-time.After(50 * time.Millisecond):
		}
	})

	t.Run("StopFailureIsNotStopped", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := errors.Join(context.Canceled, &databricks.Error{Kind: databricks.KindTransient, Message: "stop failed"})
		require.False(t, adatabricks.Stopped(ctx, err))
	})
}

func TestElapsed(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 45*time.Second + 900*time.Millisecond: "45s", 2*time.Minute + 59*time.Second: "2m",
		time.Hour: "1h", 65 * time.Minute: "1h5m", 26*time.Hour + 3*time.Minute: "26h3m",
	} {
		require.Equal(t, want, adatabricks.Elapsed(d), d.String())
	}
}
