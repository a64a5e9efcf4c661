package quality

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSCD2(t *testing.T) {
	t.Parallel()
	pool, q := setup(t)
	_, err := pool.Exec(context.Background(), `
CREATE TABLE good_history (customer_id text, city text, "__START_AT" bigint, "__END_AT" bigint);
INSERT INTO good_history VALUES ('a', 'x', 1, 5), ('a', 'y', 5, NULL), ('b', 'z', 2, 3), ('b', 'w', 4, NULL);
CREATE TABLE bad_history (customer_id text, city text, "__START_AT" bigint, "__END_AT" bigint);
INSERT INTO bad_history VALUES
  ('a', 'x', 1, NULL), ('a', 'y', 5, NULL),   -- two open versions, and the first overlaps the second
  ('b', 'z', 2, 9),    ('b', 'w', 4, 6),       -- overlap: [2,9) contains [4,6)
  ('c', 'v', 1, 2),    ('c', 'u', 2, NULL);    -- touching is fine`)
	require.NoError(t, err)

	checks, err := Expand([]Spec{{Table: "good_history", SCD2: &SCD2{Key: ColumnSet{"customer_id"}}}})
	require.NoError(t, err)
	require.Len(t, checks, 2)
	require.Equal(t, "good_history: scd2_one_open_row(customer_id)", checks[0].Name)
	require.Equal(t, "good_history: scd2_no_overlap(customer_id)", checks[1].Name)
	for _, c := range checks {
		r := runOne(t, q, c, Options{})
		require.Equal(t, StatusPass, r.Status, r.Message)
	}
	require.Equal(t, `every key (customer_id) has at most one open version (__END_AT IS NULL)`, runOne(t, q, checks[0], Options{}).Message)

	checks, err = Expand([]Spec{{Table: "bad_history", SCD2: &SCD2{Key: ColumnSet{"customer_id"}}}})
	require.NoError(t, err)
	open := runOne(t, q, checks[0], Options{})
	require.Equal(t, StatusFail, open.Status)
	require.Equal(t, int64(1), open.Offending)
	require.Equal(t, "1 key has more than one open version (__END_AT IS NULL)", open.Message)
	require.Equal(t, []map[string]*string{row("customer_id", "a", "n_rows", "2")}, open.Sample)
	overlap := runOne(t, q, checks[1], Options{})
	require.Equal(t, StatusFail, overlap.Status)
	require.Equal(t, int64(2), overlap.Offending)
	require.Equal(t, "2 pairs of versions of a key overlap in [__START_AT, __END_AT)", overlap.Message)
	require.Equal(t, []map[string]*string{
		row("customer_id", "a", "first_start", "1", "first_end", nil, "next_start", "5"),
		row("customer_id", "b", "first_start", "2", "first_end", "9", "next_start", "4"),
	}, overlap.Sample)

	// custom column names, composite key, and a where filter
	checks, err = Expand([]Spec{{Table: "bad_history", Where: "customer_id <> 'a'", SCD2: &SCD2{Key: ColumnSet{"customer_id", "city"}, Start: "__START_AT", End: "__END_AT"}}})
	require.NoError(t, err)
	require.Equal(t, StatusPass, runOne(t, q, checks[0], Options{}).Status)
	require.Equal(t, StatusPass, runOne(t, q, checks[1], Options{}).Status, "versions of (b,z) and (b,w) are different keys")
}

func TestSCD2Validation(t *testing.T) {
	t.Parallel()
	_, err := Expand([]Spec{{Table: "h", SCD2: &SCD2{}}})
	require.EqualError(t, err, "checks[0].scd2.key: is missing: name the key column(s), e.g. key: customer_id")
}

func TestSCD2DatabricksSQL(t *testing.T) {
	t.Parallel()
	checks, err := Expand([]Spec{{Table: "silver.customers_history", SCD2: &SCD2{Key: ColumnSet{"customer_id"}}}})
	require.NoError(t, err)
	p, err := buildPlan(Databricks{}, checks[1], 5)
	require.NoError(t, err)
	require.Equal(t, "SELECT count(*) FROM `silver`.`customers_history` AS a JOIN `silver`.`customers_history` AS b ON a.`customer_id` = b.`customer_id`"+
		" AND a.`__START_AT` < b.`__START_AT` AND (a.`__END_AT` IS NULL OR a.`__END_AT` > b.`__START_AT`)", p.measure)
}
