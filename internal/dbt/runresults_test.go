package dbt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRunResultsRealFiles(t *testing.T) {
	t.Parallel()
	for _, path := range sharedGlob(t, "run_results/*.json") {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			t.Parallel()
			want := decodeGeneric(t, path)
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			rr, err := ParseRunResults(f)
			require.NoError(t, err)

			md := want["metadata"].(map[string]any)
			_, version, err := parseSchemaVersion(md["dbt_schema_version"].(string))
			require.NoError(t, err)
			require.Equal(t, version, rr.SchemaVersion)
			require.Equal(t, md["dbt_version"], rr.DbtVersion)
			require.Equal(t, md["invocation_id"], rr.InvocationID)
			require.Equal(t, seconds(want["elapsed_time"].(float64)), rr.ElapsedTime)

			results := want["results"].([]any)
			require.Len(t, rr.Results, len(results))
			var wantSummary Summary
			for i, v := range results {
				w := v.(map[string]any)
				got := rr.Results[i]
				require.Equal(t, w["unique_id"], got.UniqueID)
				require.Equal(t, Status(w["status"].(string)), got.Status, got.UniqueID)
				if w["failures"] == nil {
					require.Nil(t, got.Failures, got.UniqueID)
				} else {
					require.NotNil(t, got.Failures, got.UniqueID)
					require.Equal(t, int(w["failures"].(float64)), *got.Failures, got.UniqueID)
				}
				if w["message"] == nil {
					require.Empty(t, got.Message, got.UniqueID)
				} else {
					require.Equal(t, w["message"], got.Message, got.UniqueID)
				}
				require.Equal(t, seconds(w["execution_time"].(float64)), got.ExecutionTime)
				timing := w["timing"].([]any)
				require.Len(t, got.Timing, len(timing))
				for j, tv := range timing {
					tw := tv.(map[string]any)
					require.Equal(t, tw["name"], got.Timing[j].Name)
					require.Equal(t, tw["started_at"], got.Timing[j].StartedAt.Format("2006-01-02T15:04:05.000000Z"))
				}
				require.Equal(t, w["adapter_response"], anyMap(got.AdapterResponse))
				require.Equal(t, strings.SplitN(got.UniqueID, ".", 2)[0], got.ResourceType)
				switch got.Status {
				case StatusSuccess:
					wantSummary.Success++
				case StatusPass:
					wantSummary.Pass++
				case StatusError:
					wantSummary.Error++
				case StatusFail:
					wantSummary.Fail++
				case StatusSkipped:
					wantSummary.Skipped++
				default:
					t.Fatalf("status %q not expected in the test material", got.Status)
				}
				wantSummary.Total++
			}
			require.Equal(t, wantSummary, rr.Summary())
		})
	}
}

// anyMap lets a nil map compare equal to an absent JSON object.
func anyMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func TestParseRunResultsQuirks(t *testing.T) {
	t.Parallel()
	// The OpenLineage run: one error, one skipped node downstream with a null
	// message and empty timing.
	path := sharedDbt(t, "run_results", "openlineage_fail__rr_v2__dbt0.21.0__run_error_skipped.json")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rr, err := ParseRunResults(f)
	require.NoError(t, err)
	failed := rr.Failed()
	require.Len(t, failed, 1)
	require.Equal(t, "test_second_parallel_dbt_model", failed[0].Name)
	require.Contains(t, failed[0].Message, `Syntax error: Expected end of input but got identifier "bork"`)
	var skipped NodeResult
	for _, n := range rr.Results {
		if n.Status == StatusSkipped {
			skipped = n
		}
	}
	require.Equal(t, "model.dbt_bigquery_test.test_third_dbt_model", skipped.UniqueID)
	require.Empty(t, skipped.Message)
	require.Empty(t, skipped.Timing)
	require.Nil(t, skipped.Failures)
}

func TestParseRunResultsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, input, wantErr string }{
		{"Manifest", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {}}`, "this is a dbt manifest file, not run_results.json"},
		{"NoVersion", `{"metadata": {}, "results": []}`, "metadata.dbt_schema_version is missing"},
		{"NoUniqueID", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": [{"status": "success"}]}`, "results[0] has no unique_id"},
		{"NotJSON", `Traceback (most recent call last):`, "parsing dbt run_results.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseRunResults(strings.NewReader(tt.input))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
