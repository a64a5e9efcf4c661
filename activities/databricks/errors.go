package databricks

import (
	"context"
	"errors"
	"strings"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/task"
)

// TaskError turns an error of internal/databricks into the error a task
// activity returns. When ctx has ended the error is returned as it is, so
// task.Run reports a cancellation or the task's timeout. KindTransient
// becomes a retryable task error; every other kind a permanent one whose
// type is types[kind], or the kind's own stable name (DatabricksNotFound,
// DatabricksFailed, ...). Details (pipeline error events, a failed job
// task's error and trace) become the error's detail.
func TaskError(ctx context.Context, err error, types map[databricks.Kind]string) error {
	if err == nil || ctx.Err() != nil {
		return err
	}
	var e *databricks.Error
	if !errors.As(err, &e) {
		return err
	}
	typ := string(e.Kind)
	if t, ok := types[e.Kind]; ok {
		typ = t
	}
	var te *task.Error
	if e.Kind == databricks.KindTransient {
		te = task.Transient(typ, "%s", e.Message)
	} else {
		te = task.Permanent(typ, "%s", e.Message)
	}
	return te.WithDetail(strings.Join(e.Details, "\n")).WithCause(err)
}
