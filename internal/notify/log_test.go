package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func newJSONLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

func TestLogChannel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := &Sender{Logger: newJSONLogger(&buf)}
	e := failureEvent()
	e.FailedTasks[0].Message = "token=ghp_abc123 rejected"

	require.NoError(t, s.Send(context.Background(), Channel{Type: TypeLog}, e, []string{"ghp_abc123"}))

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 1, "one record per notification")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	require.NotContains(t, lines[0], "ghp_abc123")
	require.Equal(t, map[string]any{
		"level":        "ERROR",
		"msg":          "[sluice] olist_daily (prod) FAILED",
		"event":        "on_failure",
		"project":      "olist",
		"pipeline":     "olist_daily",
		"env":          "prod",
		"outcome":      "FAILED",
		"workflow_id":  "sluice/olist_daily/prod/2026-11-22",
		"run_id":       "0199c3b8-7d2e-7c4a-9f1e-3b5d2a6c8e01",
		"trigger":      "SCHEDULED",
		"duration":     "1h2m3s",
		"failed_tasks": []any{"run_main_pipeline", "quality_checks"},
		"ui_url":       e.UIURL,
		"delivery_id":  "sluice/olist_daily/prod/2026-11-22/on_failure/data-eng",
		"text":         Render(scrubEvent(e, []string{"ghp_abc123"})).Text,
	}, rec)
	require.Contains(t, rec["text"], "    token=*** rejected\n")
}

func TestLogChannelLevels(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		KindStart:           "INFO",
		KindSuccess:         "INFO",
		KindFailure:         "ERROR",
		KindCanceled:        "WARN",
		KindDurationWarning: "WARN",
		KindWarning:         "WARN",
	}
	for kind, level := range tests {
		var buf bytes.Buffer
		s := &Sender{Logger: newJSONLogger(&buf)}
		require.NoError(t, s.Send(context.Background(), Channel{Type: TypeLog}, Event{Kind: kind, Pipeline: "p"}, nil))
		var rec map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
		require.Equal(t, level, rec["level"], kind)
	}
}

func TestLogChannelNeedsLogger(t *testing.T) {
	t.Parallel()
	err := (&Sender{}).Send(context.Background(), Channel{Type: TypeLog}, failureEvent(), nil)
	require.True(t, IsPermanent(err))
	require.EqualError(t, err, "log channel: Sender.Logger is nil; give the Sender a *slog.Logger")
}
