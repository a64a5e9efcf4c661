package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/store"
)

// selectorNodes is a small project in the shape RefreshProject stores.
var selectorNodes = []store.DbtNode{
	{UniqueID: "model.olist.stg_orders", Name: "stg_orders", ResourceType: "model", Package: "olist",
		Path: "models/staging/stg_orders.sql", FQN: []string{"olist", "staging", "stg_orders"}, Tags: []string{"hourly"}, Materialized: "view"},
	{UniqueID: "model.olist.hourly_orders", Name: "hourly_orders", ResourceType: "model", Package: "olist",
		Path: "models/marts/hourly_orders.sql", FQN: []string{"olist", "marts", "hourly_orders"}, Tags: []string{"hourly", "finance"}, Materialized: "table"},
	{UniqueID: "model.olist.dim_customers.v2", Name: "dim_customers", ResourceType: "model", Package: "olist", Version: "2",
		Path: "models/marts/dim_customers_v2.sql", FQN: []string{"olist", "marts", "dim_customers", "v2"}, Materialized: "table"},
	{UniqueID: "seed.olist.country_codes", Name: "country_codes", ResourceType: "seed", Package: "olist",
		Path: "seeds/country_codes.csv", FQN: []string{"olist", "country_codes"}, Materialized: "seed"},
	{UniqueID: "source.olist.silver.orders_enriched", Name: "orders_enriched", ResourceType: "source", Package: "olist",
		SourceName: "silver", Path: "models/sources.yml", FQN: []string{"olist", "silver", "orders_enriched"}},
	{UniqueID: "test.olist.unique_stg_orders_order_id.abc", Name: "unique_stg_orders_order_id", ResourceType: "test", Package: "olist",
		Path: "models/staging/schema.yml", FQN: []string{"olist", "staging", "unique_stg_orders_order_id"}},
}

func TestMatchSelector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sel            string
		matched, known bool
	}{
		{"stg_orders", true, true},
		{"stg_orderz", false, true},
		{"+stg_orders+", true, true},
		{"2+hourly_orders+1", true, true},
		{"@stg_orders", true, true},
		{"+stg_orderz", false, true},
		{"stg_*", true, true},
		{"country_codes", true, true}, // a seed
		{"unique_stg_orders_order_id", true, true},
		{"dim_customers", true, true},
		{"olist.staging", true, true},
		{"olist.marts.*", true, true},
		{"olist.mart", false, true},
		{"staging", false, true}, // dbt's fqn starts with the package
		{"fqn:olist.staging.stg_orders", true, true},
		{"tag:hourly", true, true},
		{"tag:nightly", false, true},
		{"tag:fin*", true, true},
		{"path:models/staging", true, true},
		{"path:models/staging/", true, true},
		{"path:models/stage", false, true},
		{"models/marts/hourly_orders.sql", true, true},
		{"models/reports", false, true},
		{"file:stg_orders.sql", true, true},
		{"file:stg_orders", true, true},
		{"package:olist", true, true},
		{"package:dbt_utils", false, true},
		{"resource_type:seed", true, true},
		{"resource_type:snapshot", false, true},
		{"config.materialized:table", true, true},
		{"config.materialized:incremental", false, true},
		{"source:silver", true, true},
		{"source:silver.orders_enriched+", true, true},
		{"source:bronze", false, true},
		{"tag:hourly,config.materialized:view", true, true},
		{"tag:finance,config.materialized:view", false, true},
		{"*", true, true},
		{"state:modified+", false, false},
		{"result:error+", false, false},
		{"test_type:generic", false, false},
		{"tag:hourly,state:modified", false, false},
	} {
		matched, known := matchSelector(selectorNodes, tc.sel)
		require.Equal(t, tc.known, known, tc.sel)
		require.Equal(t, tc.matched, matched, tc.sel)
	}
}

func TestShortNodeName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "stg_orders", shortNodeName("model.olist.stg_orders"))
	require.Equal(t, "silver.orders_enriched", shortNodeName("source.olist.silver.orders_enriched"))
	require.Equal(t, "dim_customers.v2", shortNodeName("model.olist.dim_customers.v2"))
	require.Equal(t, "weird", shortNodeName("weird"))
}
