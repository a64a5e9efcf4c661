package dbt

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// TestRefreshProject parses the project with the stand-in dbt, which writes
// the real manifest of the jaffle_shop run capture, and stores it.
func TestRefreshProject(t *testing.T) {
	t.Parallel()
	f := setup(t)
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	f.acts.Store = st
	writeFile(t, filepath.Join(f.project, "sluice.yaml"), `project: itest
default_env: local
environments:
  local:
    engine: local
    warehouse: "postgres://postgres@127.0.0.1:5432/lake"
    params: {catalog: "${env:CATALOG:-olist_local}"}
dbt_projects:
  shop: {path: dbt}
`)
	wrapper := filepath.Join(t.TempDir(), "dbt")
	writeFile(t, wrapper, "#!/bin/sh\nexport FAKEDBT_RECORD='"+f.record+"' FAKEDBT_MANIFEST='"+runManifest(t)+"' FAKEDBT_LOG='"+runLog(t)+"'\nexec '"+fakeDbt(t)+"' \"$@\"\n")
	require.NoError(t, os.Chmod(wrapper, 0o755))
	f.acts.Executable = wrapper

	val, err := f.env.ExecuteActivity(f.acts.RefreshProject, RefreshInput{Project: "shop"})
	require.NoError(t, err)
	var out RefreshResult
	require.NoError(t, val.Get(&out))

	calls := f.calls()
	require.Len(t, calls, 1)
	require.Equal(t, "parse", calls[0].command())
	require.Equal(t, f.dbtDir, calls[0].flag("--project-dir")[0])
	require.Len(t, calls[0].flag("--profiles-dir"), 1, "dbt parse reads the generated profile")

	require.Equal(t, "shop", out.Project)
	require.Equal(t, "local", out.Env)
	require.Equal(t, 12, out.SchemaVersion)
	require.Equal(t, "1.8.2", out.DbtVersion)
	require.Equal(t, 5, out.ModelCount)
	var names []string
	for _, m := range out.Models {
		names = append(names, m.Name)
	}
	require.Equal(t, []string{"customers", "orders", "stg_customers", "stg_orders", "stg_payments"}, names)
	require.Equal(t, store.DbtNode{UniqueID: "model.jaffle_shop.stg_customers", Name: "stg_customers", ResourceType: "model",
		Package: "jaffle_shop", Path: "models/staging/stg_customers.sql", FQN: []string{"jaffle_shop", "staging", "stg_customers"},
		Tags: []string{"addthistag"}, Materialized: "view", Parents: []string{"seed.jaffle_shop.raw_customers"}}, out.Models[2])
	require.FileExists(t, fromURI(t, out.ManifestURI))

	saved, err := st.LatestDbtManifest(context.Background(), "itest", "shop", "local")
	require.NoError(t, err)
	require.Equal(t, out.ManifestID, saved.ID)
	require.Equal(t, out.NodeCount, len(saved.Nodes))
	require.Equal(t, out.Models, saved.Models())
	file, err := st.DbtManifestFile(context.Background(), saved.ID)
	require.NoError(t, err)
	want, err := os.ReadFile(runManifest(t))
	require.NoError(t, err)
	require.Equal(t, len(want), len(file), "manifest.json is stored as dbt wrote it")

	_, err = f.env.ExecuteActivity(f.acts.RefreshProject, RefreshInput{Project: "shoq"})
	ae, fl := failure(t, err)
	require.Equal(t, task.ErrConfig, ae.Type())
	require.False(t, fl.Retryable)
	require.Contains(t, ae.Message(), `unknown dbt project "shoq"`)
	require.Contains(t, ae.Message(), "(known: shop)")
}
