package dbt

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	two := 2
	testFail := NodeResult{UniqueID: "test.p.not_null_x_id.1", Name: "not_null_x_id", ResourceType: "test", Status: StatusFail, Failures: &two, Message: "Got 2 results, configured to fail if != 0"}
	sqlErr := NodeResult{UniqueID: "model.p.x", Name: "x", ResourceType: "model", Status: StatusError, Message: "Database Error in model x (models/x.sql)\n  division by zero"}
	connErr := NodeResult{UniqueID: "model.p.y", Name: "y", ResourceType: "model", Status: StatusError, Message: "Database Error in model y (models/y.sql)\n  server closed the connection unexpectedly"}
	compileErr := NodeResult{UniqueID: "model.p.z", Name: "z", ResourceType: "model", Status: StatusError, Message: "Compilation Error in model z (models/z.sql)\n  'foo' is undefined"}
	skipped := NodeResult{UniqueID: "model.p.w", Name: "w", ResourceType: "model", Status: StatusSkipped}
	ok := NodeResult{UniqueID: "model.p.v", Name: "v", ResourceType: "model", Status: StatusSuccess}

	tests := []struct {
		name       string
		in         classifyInput
		want       ErrorKind
		wantFailed []string
	}{
		{"OnlyTests", classifyInput{exitCode: 1, nodes: []NodeResult{ok, testFail, skipped}}, TestFailures, []string{"not_null_x_id"}},
		{"SQLErrorWinsOverTests", classifyInput{exitCode: 1, nodes: []NodeResult{testFail, sqlErr}}, ModelErrors, []string{"not_null_x_id", "x"}},
		{"OnlyConnectionErrors", classifyInput{exitCode: 1, nodes: []NodeResult{connErr, skipped}}, Transient, []string{"y"}},
		{"ConnectionAndSQLError", classifyInput{exitCode: 1, nodes: []NodeResult{connErr, sqlErr}}, ModelErrors, []string{"y", "x"}},
		{"ConnectionAndTestFailure", classifyInput{exitCode: 1, nodes: []NodeResult{connErr, testFail}}, TestFailures, []string{"y", "not_null_x_id"}},
		{"NodeCompilationError", classifyInput{exitCode: 1, nodes: []NodeResult{compileErr, sqlErr}}, Compilation, []string{"z", "x"}},
		{"ParsingError", classifyInput{exitCode: 2, errors: []string{"Encountered an error:\nParsing Error\n  Invalid test config given in models/schema.yml"}}, Compilation, nil},
		{"DepsNetwork", classifyInput{exitCode: 2, stderr: "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='hub.getdbt.com', port=443): Max retries exceeded"}, Transient, nil},
		{"Timeout", classifyInput{exitCode: 1, errors: []string{"Database Error\n  canceling statement due to statement timeout"}}, Transient, nil},
		{"UnknownFatal", classifyInput{exitCode: 2, errors: []string{"Encountered an error:\nRuntime Error\n  Could not find profile named 'x'"}}, Fatal, nil},
		{"KilledBySignal", classifyInput{exitCode: -1}, Crashed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.command = "build"
			e := classify(tt.in)
			require.Equal(t, tt.want, e.Kind)
			require.Equal(t, tt.wantFailed, nodeNames(e.Failed))
			require.Equal(t, tt.want.Permanent(), IsPermanent(e))
			require.Equal(t, tt.want.Permanent(), IsPermanent(fmt.Errorf("activity: %w", e)), "IsPermanent sees through wrapping")
		})
	}
}

func TestIsPermanentOtherErrors(t *testing.T) {
	t.Parallel()
	require.False(t, IsPermanent(nil))
	require.False(t, IsPermanent(context.Canceled))
	require.False(t, IsPermanent(fmt.Errorf("dbt build canceled: %w", context.Canceled)))
}

func TestNodesMessageListsAtMostTen(t *testing.T) {
	t.Parallel()
	var failed []NodeResult
	for i := range 12 {
		failed = append(failed, NodeResult{ResourceType: "model", Name: fmt.Sprintf("m%02d", i), Status: StatusError, Message: "boom"})
	}
	msg := nodesMessage("run", ModelErrors, failed)
	require.Contains(t, msg, "dbt run: 12 nodes failed; fix the SQL or the data, a retry will not help:")
	require.Contains(t, msg, "  model m09 [error]: boom\n  ... and 2 more")
	require.NotContains(t, msg, "m10")
}
