package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
	"github.com/sluicedata/sluice/internal/store"
)

func TestDbtManifests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(s.Close)

	_, err = s.LatestDbtManifest(ctx, "olist", "olist_dbt", "")
	require.True(t, errors.Is(err, store.ErrNotFound), "never refreshed: %v", err)

	nodes := []store.DbtNode{
		{UniqueID: "model.olist.stg_orders", Name: "stg_orders", ResourceType: "model", Package: "olist",
			Path: "models/staging/stg_orders.sql", FQN: []string{"olist", "staging", "stg_orders"}, Tags: []string{"hourly"},
			Materialized: "view", Parents: []string{"source.olist.silver.orders_enriched"}},
		{UniqueID: "source.olist.silver.orders_enriched", Name: "orders_enriched", ResourceType: "source", SourceName: "silver"},
	}
	first := store.DbtManifest{Project: "olist", DbtProject: "olist_dbt", Env: "local", Commit: "aaa", Ref: "refs/heads/main",
		DbtVersion: "1.8.2", SchemaVersion: 12, WorkflowID: "sluice/dbt-refresh/olist_dbt/local", RunID: "r1",
		Nodes: nodes, Manifest: []byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"}}`)}
	id1, err := s.SaveDbtManifest(ctx, first)
	require.NoError(t, err)
	again, err := s.SaveDbtManifest(ctx, first)
	require.NoError(t, err)
	require.Equal(t, id1, again, "a retried save replaces its own row")

	second := first
	second.RunID, second.Commit, second.Env, second.Nodes = "r2", "bbb", "prod", nodes[:1]
	id2, err := s.SaveDbtManifest(ctx, second)
	require.NoError(t, err)
	require.NotEqual(t, id1, id2)

	latest, err := s.LatestDbtManifest(ctx, "olist", "olist_dbt", "")
	require.NoError(t, err)
	require.Equal(t, id2, latest.ID)
	require.Equal(t, "bbb", latest.Commit)
	require.Equal(t, nodes[:1], latest.Nodes)
	require.Nil(t, latest.Manifest, "the file is read on demand")

	local, err := s.LatestDbtManifest(ctx, "olist", "olist_dbt", "local")
	require.NoError(t, err)
	require.Equal(t, id1, local.ID)
	require.Equal(t, "aaa", local.Commit)
	require.Equal(t, "refs/heads/main", local.Ref)
	require.Equal(t, "1.8.2", local.DbtVersion)
	require.Equal(t, 12, local.SchemaVersion)
	require.Equal(t, nodes, local.Nodes)
	require.Equal(t, nodes[:1], local.Models())
	require.False(t, local.CreatedAt.IsZero())

	file, err := s.DbtManifestFile(ctx, id1)
	require.NoError(t, err)
	require.Equal(t, string(first.Manifest), string(file), "stored compressed, read back as written")

	_, err = s.DbtManifestFile(ctx, 999999)
	require.True(t, errors.Is(err, store.ErrNotFound))
	_, err = s.LatestDbtManifest(ctx, "other_project", "olist_dbt", "")
	require.True(t, errors.Is(err, store.ErrNotFound), "manifests are per Sluice project")
}
