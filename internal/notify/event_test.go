package notify

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEventJSON(t *testing.T) {
	t.Parallel()
	e := failureEvent()
	raw, err := json.Marshal(e)
	require.NoError(t, err)
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, raw, "", "  "))
	golden(t, "event_failure.json", indented.String()+"\n")

	var back Event
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, e, back)
}

func TestEventJSONEmpty(t *testing.T) {
	t.Parallel()
	// Every field is present even when unset, so receivers can rely on them.
	raw, err := json.Marshal(Event{Kind: KindStart})
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"on_start","project":"","pipeline":"","env":"","outcome":"","workflow_id":"","run_id":"",
		"trigger":"","logical_date":null,"started_at":null,"duration_seconds":0,"failed_tasks":[],"warnings":[],
		"ui_url":"","repair_command":"","delivery_id":""}`, string(raw))

	var back Event
	require.NoError(t, json.Unmarshal(raw, &back))
	require.True(t, back.LogicalDate.IsZero())
	require.True(t, back.StartedAt.IsZero())
}
