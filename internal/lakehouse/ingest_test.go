package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// shopYAML is a small pipeline covering every column type.
const shopYAML = `name: shop
ingest:
  - entity: items
    source: shop/batch=*/items.csv
    table: bronze.items
    columns:
      - {name: item_id, type: text, not_null: true}
      - {name: qty, type: int}
      - {name: price, type: numeric}
      - {name: sold_at, type: timestamp}
  - entity: notes
    source: shop/batch=*/notes.csv
    table: bronze.notes
    format: csv
    columns:
      - {name: note_id, type: bigint, not_null: true}
      - {name: body, type: text}
      - {name: day, type: date}
      - {name: ok, type: bool}
      - {name: score, type: double}
steps:
  - silver/items.sql
`

const shopItemsSQL = `-- latest record per item
CREATE TABLE IF NOT EXISTS silver.items (item_id text PRIMARY KEY, qty int, price numeric, sold_at timestamp);
TRUNCATE silver.items;
INSERT INTO silver.items
SELECT DISTINCT ON (item_id) item_id, qty, price, sold_at FROM bronze.items
ORDER BY item_id, _source_file DESC, _source_line DESC;
`

// shop sets up a database, a shop pipeline (with the given step SQL, or
// shopItemsSQL) and an empty volume dir.
func shop(t *testing.T, stepSQL string) (*pgxpool.Pool, *Pipeline, string) {
	t.Helper()
	if stepSQL == "" {
		stepSQL = shopItemsSQL
	}
	p, err := Load(pipelineDir(t, shopYAML, map[string]string{"silver/items.sql": stepSQL}))
	require.NoError(t, err)
	return pgtest.NewPool(t), p, t.TempDir()
}

// writeBatch writes the given files (name -> content) as batch n.
func writeBatch(t *testing.T, volume string, n int, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeFiles(t, volume, map[string]string{fmt.Sprintf("shop/batch=%010d/%s", n, name): content})
	}
}

func itemsCSV(rows ...string) string {
	return "item_id,qty,price,sold_at\n" + strings.Join(rows, "\n") + "\n"
}

func notesCSV(rows ...string) string {
	return "note_id,body,day,ok,score\n" + strings.Join(rows, "\n") + "\n"
}

func TestIngestNewFilesOnly(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	ctx := context.Background()
	writeBatch(t, volume, 1, map[string]string{
		"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00", "a2,1,3.00,2024-01-02 11:00:00"),
		"notes.csv": notesCSV("1,hello,2024-01-01,true,1.5"),
	})

	res, err := Run(ctx, db, p, Options{VolumeDir: volume})
	require.NoError(t, err)
	require.Equal(t, []FileLoad{
		{Path: "shop/batch=0000000001/items.csv", Entity: "items", Table: "bronze.items", Bytes: 87, Rows: 2},
		{Path: "shop/batch=0000000001/notes.csv", Entity: "notes", Table: "bronze.notes", Bytes: 54, Rows: 1},
	}, res.Files)
	require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 1}, res.Loaded)
	require.Equal(t, map[string]int64{"items": 0, "notes": 0}, res.Quarantined)
	require.Equal(t, 0, res.Skipped)
	require.Len(t, res.Steps, 1)
	require.Equal(t, "silver/items.sql", res.Steps[0].File)
	require.Equal(t, int64(2), res.Steps[0].RowsAffected)
	require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 1, "silver.items": 2}, res.Tables)

	t.Run("SecondRunLoadsNothing", func(t *testing.T) {
		res, err := Run(ctx, db, p, Options{VolumeDir: volume})
		require.NoError(t, err)
		require.Empty(t, res.Files)
		require.Equal(t, 2, res.Skipped)
		require.Equal(t, map[string]int64{"bronze.items": 0, "bronze.notes": 0}, res.Loaded)
		require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 1, "silver.items": 2}, res.Tables)
	})

	t.Run("OnlyTheNewFileLoads", func(t *testing.T) {
		writeBatch(t, volume, 2, map[string]string{"items.csv": itemsCSV("a2,5,4.00,2024-01-03 09:00:00", "a3,1,1.00,2024-01-03 09:30:00")})
		res, err := Run(ctx, db, p, Options{VolumeDir: volume})
		require.NoError(t, err)
		require.Equal(t, []FileLoad{
			{Path: "shop/batch=0000000002/items.csv", Entity: "items", Table: "bronze.items", Bytes: 86, Rows: 2},
		}, res.Files)
		require.Equal(t, 2, res.Skipped)
		require.Equal(t, map[string]int64{"bronze.items": 4, "bronze.notes": 1, "silver.items": 3}, res.Tables)
		require.Equal(t, []string{
			"a1|2|10.50|2024-01-02 10:00:00",
			"a2|5|4.00|2024-01-03 09:00:00",
			"a3|1|1.00|2024-01-03 09:30:00",
		}, queryRows(t, db, `SELECT * FROM silver.items ORDER BY 1`))
		require.Equal(t, []string{
			"shop|items|shop/batch=0000000001/items.csv|87|2|0",
			"shop|notes|shop/batch=0000000001/notes.csv|54|1|0",
			"shop|items|shop/batch=0000000002/items.csv|86|2|0",
		}, queryRows(t, db, `SELECT pipeline, entity, file, size, rows, malformed FROM _sluice.ingested_files ORDER BY file, entity`))
	})
}

func TestIngestQuarantine(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	// CRLF line endings, a blank line, int overflow, a short record, an
	// empty not_null key, blanks around a number, an exponent, a 'T'
	// timestamp with a fraction, and a quoted comma in a numeric column.
	items := "item_id,qty,price,sold_at\r\n" +
		"a1,2,10.50,2024-01-02 10:00:00\r\n" +
		"\r\n" +
		"a2,99999999999,1.00,2024-01-02 10:00:00\r\n" +
		"a3,1,2.00\r\n" +
		",1,2.00,2024-01-02 10:00:00\r\n" +
		"a4, 7 ,1e2,2024-01-02T10:00:00.5\r\n" +
		"a5,1,\"12,3x\",2024-01-02 10:00:00\r\n"
	// A BOM, quoted fields with embedded newlines (records after them keep
	// their physical line numbers), an impossible date, a double that
	// underflows, a bare quote (invalid CSV), all-NULL values, a bad bool.
	notes := "\xef\xbb\xbfnote_id,body,day,ok,score\n" +
		"1,\"first line\nsecond line\",2024-01-01,true,1.5\n" +
		"2,plain,2024-02-30,false,2\n" +
		"3,\"multi\nline\nnote\",2024-03-01,yes,-0.25\n" +
		"4,\"say \"\"hi\"\"\",2024-03-02,no,1e-400\n" +
		"5,x\"y,2024-03-02,no,1\n" +
		"6,,,,\n" +
		"7,\"tail\",2024-03-03,maybe,1\n"
	writeBatch(t, volume, 1, map[string]string{"items.csv": items, "notes.csv": notes})

	res, err := Run(context.Background(), db, p, Options{VolumeDir: volume})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 3}, res.Loaded)
	require.Equal(t, map[string]int64{"items": 4, "notes": 4}, res.Quarantined)
	require.Equal(t, int64(4), res.Files[0].Malformed)
	require.Equal(t, int64(4), res.Files[1].Malformed)

	require.Equal(t, []string{
		"items|4|line 4: column qty: \"99999999999\" is not an int (32-bit integer)|a2,99999999999,1.00,2024-01-02 10:00:00",
		"items|5|line 5: expected 4 fields, got 3|a3,1,2.00",
		"items|6|line 6: column item_id: empty value, but the column is not_null|,1,2.00,2024-01-02 10:00:00",
		"items|8|line 8: column price: \"12,3x\" is not numeric|a5,1,\"12,3x\",2024-01-02 10:00:00",
		"notes|4|line 4: column day: \"2024-02-30\" is not a date (YYYY-MM-DD)|2,plain,2024-02-30,false,2",
		"notes|8|line 8: column score: \"1e-400\" is not a double|4,\"say \"\"hi\"\"\",2024-03-02,no,1e-400",
		"notes|9|line 9: invalid CSV: bare \" in non-quoted-field|5,x\"y,2024-03-02,no,1",
		"notes|11|line 11: column ok: \"maybe\" is not a bool (true/false, t/f, yes/no, on/off, 1/0)|7,\"tail\",2024-03-03,maybe,1",
	}, queryRows(t, db, `SELECT entity, line, reason, raw FROM _sluice.quarantine WHERE pipeline = 'shop' ORDER BY entity, line`))
	require.Equal(t, int64(8), queryInt(t, db, `SELECT count(*) FROM _sluice.quarantine
		WHERE file LIKE 'shop/batch=0000000001/%' AND ingested_at IS NOT NULL`))

	require.Equal(t, []string{
		"a1|2|10.50|2024-01-02 10:00:00|shop/batch=0000000001/items.csv|2",
		"a4|7|100|2024-01-02 10:00:00.5|shop/batch=0000000001/items.csv|7",
	}, queryRows(t, db, `SELECT item_id, qty, price, sold_at, _source_file, _source_line FROM bronze.items ORDER BY 1`))
	require.Equal(t, []string{
		"1|first line\nsecond line|2024-01-01|t|1.5|2",
		"3|multi\nline\nnote|2024-03-01|t|-0.25|5",
		"6|∅|∅|∅|∅|10",
	}, queryRows(t, db, `SELECT note_id, body, day, ok, score, _source_line FROM bronze.notes ORDER BY 1`))
	// All rows of one file share the commit time of their transaction.
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(DISTINCT _ingested_at) FROM bronze.notes`))
}

func TestIngestHeaderMismatch(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	ctx := context.Background()
	writeBatch(t, volume, 1, map[string]string{"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00")})
	writeBatch(t, volume, 2, map[string]string{
		"items.csv": "item_id,quantity,price,sold_at\na2,1,1.00,2024-01-02 10:00:00\n",
		"notes.csv": notesCSV("1,x,2024-01-01,t,1"),
	})

	res, err := Run(ctx, db, p, Options{VolumeDir: volume})
	require.Error(t, err)
	bad := filepath.Join(volume, "shop", "batch=0000000002", "items.csv")
	require.Contains(t, err.Error(), bad+`:1: header column 2 is "quantity" but entity items declares "qty" there (`+
		filepath.Join(p.Dir, SpecFile)+`:3:5); fix the columns list in pipeline.yaml (names and order as in the file) or the file`)
	// Batch 1 committed before; nothing of the bad file, and the run
	// stopped before the later file and the steps.
	require.Equal(t, []FileLoad{{Path: "shop/batch=0000000001/items.csv", Entity: "items", Table: "bronze.items", Bytes: 57, Rows: 1}}, res.Files)
	require.Equal(t, []string{"shop/batch=0000000001/items.csv"}, queryRows(t, db, `SELECT file FROM _sluice.ingested_files`))
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM bronze.items`))
	require.Equal(t, int64(0), queryInt(t, db, `SELECT count(*) FROM _sluice.quarantine`))
	require.Empty(t, res.Steps)

	t.Run("MissingAndExtraColumnsAndEmptyFile", func(t *testing.T) {
		for _, tc := range []struct{ content, want string }{
			{"item_id,qty,price\n", `:1: header has 3 columns but entity items declares 4 (`},
			{"item_id,qty,price,sold_at,extra\n", `:1: header has 5 columns but entity items declares 4 (`},
			{"", `: the file is empty; it needs the header row item_id,qty,price,sold_at (entity items, `},
		} {
			writeFiles(t, volume, map[string]string{"shop/batch=0000000002/items.csv": tc.content})
			_, err := Run(ctx, db, p, Options{VolumeDir: volume})
			require.ErrorContains(t, err, bad+tc.want)
		}
	})
}

func TestIngestCancelBeforeCommit(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	writeBatch(t, volume, 1, map[string]string{
		"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00", "a2,x,1,2024-01-02 10:00:00"),
		"notes.csv": notesCSV("1,hello,2024-01-01,true,1.5"),
	})

	// Cancel once the first file's rows, quarantine and checkpoint are all
	// in its open transaction: nothing of it may be committed.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var copied []string
	res, err := Run(ctx, db, p, Options{VolumeDir: volume, Progress: func(pr Progress) {
		if pr.Phase == PhaseCopied {
			copied = append(copied, fmt.Sprintf("%s:%d", pr.File, pr.Rows))
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{"shop/batch=0000000001/items.csv:2"}, copied)
	require.Empty(t, res.Files)
	require.Equal(t, int64(0), queryInt(t, db, `SELECT count(*) FROM bronze.items`))
	require.Equal(t, int64(0), queryInt(t, db, `SELECT count(*) FROM _sluice.quarantine`))
	require.Equal(t, int64(0), queryInt(t, db, `SELECT count(*) FROM _sluice.ingested_files`))

	res, err = Run(context.Background(), db, p, Options{VolumeDir: volume})
	require.NoError(t, err)
	require.Len(t, res.Files, 2)
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM bronze.items`))
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM _sluice.quarantine`))
	require.Equal(t, int64(2), queryInt(t, db, `SELECT count(*) FROM _sluice.ingested_files`))
}

func TestIngestCrashBeforeCommit(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	ctx := context.Background()
	writeBatch(t, volume, 1, map[string]string{"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00")})
	writeBatch(t, volume, 2, map[string]string{"items.csv": itemsCSV("a2,2,10.50,2024-01-02 10:00:00", "a3,1,1,2024-01-02 10:00:00")})

	// Kill the server process of the run's transaction after batch 2 is
	// copied but before it commits, as a crash or a network loss would.
	killed := false
	_, err := Run(ctx, db, p, Options{VolumeDir: volume, Progress: func(pr Progress) {
		if pr.Phase != PhaseCopied || pr.File != "shop/batch=0000000002/items.csv" {
			return
		}
		var pid int32
		require.NoError(t, db.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction'`).Scan(&pid))
		_, err := db.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			return queryInt(t, db, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid) == 0
		}, 10*time.Second, 10*time.Millisecond)
		killed = true
	}})
	require.True(t, killed)
	require.Error(t, err)
	require.Equal(t, []string{"shop/batch=0000000001/items.csv|1"},
		queryRows(t, db, `SELECT file, rows FROM _sluice.ingested_files`))
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM bronze.items`))

	res, err := Run(ctx, db, p, Options{VolumeDir: volume})
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped)
	require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 0}, res.Loaded)
	require.Equal(t, []string{"a1|1", "a2|1", "a3|1"},
		queryRows(t, db, `SELECT item_id, count(*) FROM bronze.items GROUP BY 1 ORDER BY 1`))
}

func TestIngestConcurrentRuns(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	const batches, rowsPerFile = 6, 500
	for b := 1; b <= batches; b++ {
		rows := make([]string, rowsPerFile)
		for i := range rows {
			rows[i] = fmt.Sprintf("b%d-%d,%d,%d.25,2024-01-02 10:00:00", b, i, i, i)
		}
		writeBatch(t, volume, b, map[string]string{"items.csv": itemsCSV(rows...), "notes.csv": notesCSV(fmt.Sprintf("%d,n,2024-01-01,t,1", b))})
	}

	var wg sync.WaitGroup
	results := make([]Result, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range results {
		wg.Go(func() {
			<-start
			results[i], errs[i] = Run(context.Background(), db, p, Options{VolumeDir: volume})
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	loaded := map[string]int{}
	for _, r := range results {
		require.Equal(t, 2*batches, len(r.Files)+r.Skipped, "each run sees every file once, loading or skipping it")
		for _, f := range r.Files {
			loaded[f.Path]++
		}
		require.Equal(t, map[string]int64{"bronze.items": batches * rowsPerFile, "bronze.notes": batches, "silver.items": batches * rowsPerFile}, r.Tables)
	}
	require.Len(t, loaded, 2*batches)
	for path, n := range loaded {
		require.Equal(t, 1, n, "%s loaded by both runs", path)
	}
	require.Equal(t, int64(batches*rowsPerFile), queryInt(t, db, `SELECT count(DISTINCT item_id) FROM bronze.items`))
	require.Equal(t, int64(batches*rowsPerFile), queryInt(t, db, `SELECT count(*) FROM bronze.items`))
	require.Equal(t, int64(2*batches), queryInt(t, db, `SELECT count(*) FROM _sluice.ingested_files`))
}

func TestIngestProgress(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	writeBatch(t, volume, 1, map[string]string{
		"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00", "a2,bad,1,2024-01-02 10:00:00"),
		"notes.csv": notesCSV("1,hello,2024-01-01,true,1.5"),
	})
	var got []Progress
	_, err := Run(context.Background(), db, p, Options{VolumeDir: volume, Progress: func(pr Progress) { got = append(got, pr) }})
	require.NoError(t, err)
	items, notes := "shop/batch=0000000001/items.csv", "shop/batch=0000000001/notes.csv"
	require.Equal(t, []Progress{
		{Phase: PhaseIngest, Entity: "items", File: items, FilesTotal: 2, StepsTotal: 1},
		{Phase: PhaseCopied, Entity: "items", File: items, Rows: 2, FilesTotal: 2, StepsTotal: 1},
		{Phase: PhaseIngest, Entity: "notes", File: notes, FilesDone: 1, FilesTotal: 2, StepsTotal: 1},
		{Phase: PhaseCopied, Entity: "notes", File: notes, Rows: 1, FilesDone: 1, FilesTotal: 2, StepsTotal: 1},
		{Phase: PhaseStep, Step: "silver/items.sql", FilesDone: 2, FilesTotal: 2, StepsTotal: 1},
	}, got)
}

func TestIngestLargeFileStreams(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	// Enough rows for several COPY chunks and periodic progress reports,
	// with a malformed record every 10000 rows.
	const n = 200_000
	var b strings.Builder
	b.WriteString("item_id,qty,price,sold_at\n")
	for i := 1; i <= n; i++ {
		if i%10000 == 0 {
			fmt.Fprintf(&b, "i%d,not-a-number,1,2024-01-02 10:00:00\n", i)
			continue
		}
		fmt.Fprintf(&b, "i%d,%d,%d.99,2024-01-02 10:%02d:00\n", i, i, i, i%60)
	}
	writeBatch(t, volume, 1, map[string]string{"items.csv": b.String()})
	var reports []int64
	res, err := Run(context.Background(), db, p, Options{VolumeDir: volume, Progress: func(pr Progress) {
		if pr.Phase == PhaseIngest {
			reports = append(reports, pr.Rows)
		}
	}})
	require.NoError(t, err)
	require.Equal(t, []int64{0, 65536, 131072, 196608}, reports)
	require.Equal(t, map[string]int64{"bronze.items": n - 20, "bronze.notes": 0}, res.Loaded)
	require.Equal(t, int64(20), res.Quarantined["items"])
	require.Equal(t, []string{"199999|199999|199999.99|2024-01-02 10:19:00|200000"},
		queryRows(t, db, `SELECT substr(item_id, 2), qty, price, sold_at, _source_line FROM bronze.items WHERE item_id = 'i199999'`))
	wantSum := int64(n) * (n + 1) / 2
	for i := int64(10000); i <= n; i += 10000 {
		wantSum -= i
	}
	require.Equal(t, wantSum, queryInt(t, db, `SELECT sum(qty) FROM bronze.items`))
	// Raw record text survives the reader's buffer compaction.
	require.Equal(t, []string{
		"10001|line 10001: column qty: \"not-a-number\" is not an int (32-bit integer)|i10000,not-a-number,1,2024-01-02 10:00:00",
		"200001|line 200001: column qty: \"not-a-number\" is not an int (32-bit integer)|i200000,not-a-number,1,2024-01-02 10:00:00",
	}, queryRows(t, db, `SELECT line, reason, raw FROM _sluice.quarantine WHERE line IN (10001, 200001) ORDER BY line`))
}

func TestStepErrorNamesFileAndLine(t *testing.T) {
	t.Parallel()
	bad := "-- reads a table that does not exist\n" +
		"CREATE TABLE IF NOT EXISTS silver.items (item_id text);\n" +
		"\n" +
		"INSERT INTO silver.items\n" +
		"SELECT item_id FROM bronze.itemz;\n"
	db, p, volume := shop(t, bad)
	ctx := context.Background()
	writeBatch(t, volume, 1, map[string]string{"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00")})

	res, err := Run(ctx, db, p, Options{VolumeDir: volume})
	require.EqualError(t, err, "running local pipeline shop: step "+filepath.Join(p.Dir, "silver", "items.sql")+
		`:5: ERROR: relation "bronze.itemz" does not exist (SQLSTATE 42P01)`)
	// The file was committed before the steps ran; the failed step's
	// transaction rolled back (silver.items was not created).
	require.Len(t, res.Files, 1)
	require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM bronze.items`))
	require.Equal(t, []string{"∅"}, queryRows(t, db, `SELECT to_regclass('silver.items')`))

	t.Run("RuntimeErrorNamesTheStatementLine", func(t *testing.T) {
		writeFiles(t, p.Dir, map[string]string{"silver/items.sql": "SELECT 1;\n\nSELECT 1 /\n  (SELECT count(*) - 1 FROM bronze.items);\n"})
		p2, err := Load(p.Dir)
		require.NoError(t, err)
		_, err = Run(ctx, db, p2, Options{VolumeDir: volume})
		require.EqualError(t, err, "running local pipeline shop: step "+filepath.Join(p.Dir, "silver", "items.sql")+
			`:3: ERROR: division by zero (SQLSTATE 22012)`)
	})

	t.Run("FixedStepRerunsWithoutReloading", func(t *testing.T) {
		writeFiles(t, p.Dir, map[string]string{"silver/items.sql": shopItemsSQL})
		p3, err := Load(p.Dir)
		require.NoError(t, err)
		res, err := Run(ctx, db, p3, Options{VolumeDir: volume})
		require.NoError(t, err)
		require.Empty(t, res.Files)
		require.Equal(t, 1, res.Skipped)
		require.Equal(t, map[string]int64{"bronze.items": 1, "bronze.notes": 0, "silver.items": 1}, res.Tables)
	})
}

func TestStepVars(t *testing.T) {
	t.Parallel()
	step := "CREATE TABLE IF NOT EXISTS silver.run_log (day date, note text);\n" +
		"INSERT INTO silver.run_log VALUES ('${run_logical_date}', '${note}');\n"
	db, p, volume := shop(t, step)
	ctx := context.Background()

	_, err := Run(ctx, db, p, Options{VolumeDir: volume, Vars: map[string]string{"run_logical_date": "2026-11-22"}})
	require.EqualError(t, err, "running local pipeline shop: "+filepath.Join(p.Dir, "silver", "items.sql")+
		":2: unknown variable ${note}; the run provides ${run_logical_date}")
	require.Equal(t, []string{"∅"}, queryRows(t, db, `SELECT to_regclass('_sluice.ingested_files')`),
		"an unknown variable fails the run before anything is created or loaded")

	_, err = Run(ctx, db, p, Options{VolumeDir: volume, Vars: map[string]string{"run_logical_date": "2026-11-22", "note": "manual"}})
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-22|manual"}, queryRows(t, db, `SELECT * FROM silver.run_log`))
}

func TestRunWithoutVolumeFiles(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	res, err := Run(context.Background(), db, p, Options{VolumeDir: filepath.Join(volume, "does-not-exist")})
	require.NoError(t, err)
	require.Empty(t, res.Files)
	require.Equal(t, 0, res.Skipped)
	require.Equal(t, map[string]int64{"bronze.items": 0, "bronze.notes": 0, "silver.items": 0}, res.Tables)

	_, err = Run(context.Background(), db, p, Options{})
	require.EqualError(t, err, "running local pipeline shop: Options.VolumeDir is empty; set it to the volume folder the ingest sources are relative to")
}

func TestBronzeTableMismatch(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	ctx := context.Background()
	_, err := db.Exec(ctx, `CREATE SCHEMA bronze; CREATE TABLE bronze.items (item_id text, qty bigint)`)
	require.NoError(t, err)
	_, err = Run(ctx, db, p, Options{VolumeDir: volume})
	require.EqualError(t, err, "running local pipeline shop: "+filepath.Join(p.Dir, SpecFile)+":3:5: bronze table bronze.items already exists with other columns than entity items declares:\n"+
		"  table:         item_id text, qty bigint\n"+
		"  pipeline.yaml: item_id text, qty integer, price numeric, sold_at timestamp without time zone, _source_file text, _source_line bigint, _ingested_at timestamp with time zone\n"+
		"migrate the table with ALTER TABLE, or drop it (DROP TABLE bronze.items) and run with full_refresh to reload every file")
}

// snapshot returns every row of every table the pipeline owns (without
// _ingested_at, which records when), plus its checkpoints and quarantine.
func snapshot(t *testing.T, db *pgxpool.Pool, p *Pipeline) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tbl := range p.Tables() {
		cols := queryRows(t, db, `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
			WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname <> '_ingested_at'`, tbl.sanitize())
		out[tbl.String()] = queryRows(t, db, fmt.Sprintf(`SELECT %s FROM %s ORDER BY %[1]s`, cols[0], tbl.sanitize()))
	}
	out["checkpoints"] = queryRows(t, db, `SELECT entity, file, size, rows, malformed FROM _sluice.ingested_files WHERE pipeline = $1 ORDER BY 1, 2`, p.Name)
	out["quarantine"] = queryRows(t, db, `SELECT entity, file, line, reason, raw FROM _sluice.quarantine WHERE pipeline = $1 ORDER BY 1, 2, 3`, p.Name)
	return out
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
}

func TestFullRefreshEqualsIncremental(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	ctx := context.Background()
	volume := t.TempDir()
	pipelines := []*Pipeline{olistPipeline(t, "olist_main"), olistPipeline(t, "olist_cdc")}
	// Batches arrive one at a time; each pipeline runs after each.
	for _, batch := range []string{"batch=0000000001", "batch=0000000002"} {
		copyDir(t, filepath.Join(olistVolume, "olist", batch), filepath.Join(volume, "olist", batch))
		for _, p := range pipelines {
			_, err := Run(ctx, db, p, Options{VolumeDir: volume})
			require.NoError(t, err)
		}
	}
	for _, p := range pipelines {
		incremental := snapshot(t, db, p)
		last := p.Tables()[len(p.Tables())-1].String()
		require.NotEmpty(t, incremental[last], "guards against comparing empty tables")
		res, err := Run(ctx, db, p, Options{VolumeDir: volume, FullRefresh: true})
		require.NoError(t, err)
		require.Equal(t, 0, res.Skipped)
		require.Len(t, res.Files, 2*len(p.Ingest))
		require.Equal(t, incremental, snapshot(t, db, p), p.Name)
	}
}

func TestFullRefreshRollsBackOnFailure(t *testing.T) {
	t.Parallel()
	db, p, volume := shop(t, "")
	ctx := context.Background()
	writeBatch(t, volume, 1, map[string]string{"items.csv": itemsCSV("a1,2,10.50,2024-01-02 10:00:00"), "notes.csv": notesCSV("1,x,2024-01-01,t,1")})
	_, err := Run(ctx, db, p, Options{VolumeDir: volume})
	require.NoError(t, err)
	before := snapshot(t, db, p)

	// A new batch, and a step that now fails.
	writeBatch(t, volume, 2, map[string]string{"items.csv": itemsCSV("a2,1,1.00,2024-01-03 10:00:00", "a3,x,1,2024-01-03 10:00:00")})
	writeFiles(t, p.Dir, map[string]string{"silver/items.sql": shopItemsSQL + "SELECT no_such_column FROM silver.items;\n"})
	broken, err := Load(p.Dir)
	require.NoError(t, err)
	res, err := Run(ctx, db, broken, Options{VolumeDir: volume, FullRefresh: true})
	require.ErrorContains(t, err, "full refresh (rolled back, nothing changed): step "+filepath.Join(p.Dir, "silver", "items.sql")+
		`:7: ERROR: column "no_such_column" does not exist (SQLSTATE 42703)`)
	require.Empty(t, res.Files)
	require.Equal(t, before, snapshot(t, db, p))

	t.Run("SucceedsOnceFixed", func(t *testing.T) {
		res, err := Run(ctx, db, p, Options{VolumeDir: volume, FullRefresh: true})
		require.NoError(t, err)
		require.Len(t, res.Files, 3)
		require.Equal(t, map[string]int64{"items": 1, "notes": 0}, res.Quarantined)
		require.Equal(t, map[string]int64{"bronze.items": 2, "bronze.notes": 1, "silver.items": 2}, res.Tables)
		require.Equal(t, int64(1), queryInt(t, db, `SELECT count(*) FROM _sluice.quarantine`))
	})
}

func TestRunNilPipeline(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), nil, nil, Options{VolumeDir: "x"})
	require.True(t, err != nil && !errors.Is(err, context.Canceled))
	require.EqualError(t, err, "running local pipeline: no pipeline given; build one with lakehouse.Load")
}
