package workflows

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
)

func TestRunNotificationsAndDurationWarnings(t *testing.T) {
	t.Parallel()
	h := setup(t)
	var sent []notify.EventInput
	h.env.OnActivity("SendEvent", mock.Anything, mock.Anything).Return(func(_ context.Context, in notify.EventInput) (notify.EventResult, error) {
		h.mu.Lock()
		sent = append(sent, in)
		h.mu.Unlock()
		if in.ChannelName == "team" && in.Event.Kind == "on_success" {
			return notify.EventResult{}, temporal.NewNonRetryableApplicationError("channel team: 404", notify.ErrChannelPermanent, nil)
		}
		return notify.EventResult{Status: "sent"}, nil
	})
	st, err := h.execute(run.Input{Pipeline: "notified"})
	require.NoError(t, err, "a dead channel never fails the run")
	require.Equal(t, dag.StatusSuccess, st.Status)

	var got []string
	for _, s := range sent {
		got = append(got, s.Event.Kind+"->"+s.ChannelName)
		require.Equal(t, st.WorkflowID+"/"+st.RunID+"/"+s.Event.Kind+"/"+s.ChannelName, s.Event.DeliveryID)
	}
	sort.Strings(got)
	require.Equal(t, []string{"on_duration_warning->team", "on_start->console", "on_success->console", "on_success->team"}, got,
		"one message per event and channel; two duration warnings, one notification")
	require.Equal(t, []string{
		"task feed has been running for 30m0s, longer than its duration_warning of 30m",
		"run of notified has been running for 1h0m0s, longer than its duration_warning of 1h",
	}, st.Warnings)
	require.ElementsMatch(t, []run.Notification{
		{Event: "on_start", Channel: "console", Status: "sent"},
		{Event: "on_duration_warning", Channel: "team", Status: "sent"},
		{Event: "on_success", Channel: "console", Status: "sent"},
		{Event: "on_success", Channel: "team", Status: "failed", Error: st.Notifications[3].Error},
	}, st.Notifications)
	require.Contains(t, st.Notifications[3].Error, "channel team: 404")
	for _, s := range sent {
		if s.Event.Kind == "on_success" {
			require.Equal(t, "SUCCESS", s.Event.Outcome)
			require.Equal(t, "log", sent[0].Channel.Type)
			require.Equal(t, "http://localhost:8233/namespaces/default-test-namespace/workflows/default-test-workflow-id/default-test-run-id/history", s.Event.UIURL)
		}
	}
	require.Equal(t, "${secret:SLACK_URL}", channelOf(sent, "team").Channel.Webhook, "the workflow passes secret references, never values")
}

func channelOf(sent []notify.EventInput, name string) notify.EventInput {
	for _, s := range sent {
		if s.ChannelName == name {
			return s
		}
	}
	return notify.EventInput{}
}
