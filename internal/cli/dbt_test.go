package cli

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDbtSummary(t *testing.T) {
	t.Parallel()
	decode := func(s string) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		return m
	}
	require.Equal(t, "5 nodes: 4 success, 1 skipped; commit 1a2b3c4d5e6f",
		dbtSummary(decode(`{"summary":{"total":5,"success":4,"skipped":1},"commit":"1a2b3c4d5e6f7a8b"}`)))
	require.Equal(t, "1 node: 1 pass; re-ran the failed nodes of test",
		dbtSummary(decode(`{"summary":{"total":1,"pass":1},"retry":{"from":"/a","command":"test"}}`)))
	require.Equal(t, "nothing run (skip_tests is set)",
		dbtSummary(decode(`{"summary":{"total":0},"commands":[{"command":"test","status":"skipped","reason":"skip_tests is set"}]}`)))
}
