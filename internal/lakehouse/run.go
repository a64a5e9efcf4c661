package lakehouse

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what Run needs from Postgres: *pgxpool.Pool satisfies it. Every
// piece of work runs in its own transaction, so a pool (not a single
// connection) lets concurrent runs proceed.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options configure one Run.
type Options struct {
	// VolumeDir is the folder the ingest source globs are relative to.
	// Required. A folder that does not exist yet holds no files.
	VolumeDir string
	// FullRefresh reloads every file from scratch in one transaction; see
	// the package doc.
	FullRefresh bool
	// Vars are the ${name} substitutions allowed in step SQL. Values are
	// inserted verbatim, so they must come from the orchestrator, not from
	// end users. An unknown ${name} fails the run before anything runs.
	Vars map[string]string
	// Progress, if set, is called often (at each file and step, and every
	// 65536 records while a file streams), from one goroutine at a time but
	// not always the caller's. It must return quickly.
	Progress func(Progress)
}

// Phase says what a Progress report is about.
type Phase string

const (
	// PhaseIngest: File is streaming into its bronze table; Rows records so far.
	PhaseIngest Phase = "ingest"
	// PhaseCopied: all of File is in the open transaction, not yet committed.
	PhaseCopied Phase = "copied"
	// PhaseStep: Step is about to run.
	PhaseStep Phase = "step"
)

// Progress is a snapshot of a running Run, for heartbeats.
type Progress struct {
	Phase      Phase
	Entity     string
	File       string // relative to the volume dir
	Rows       int64  // records read from File so far (valid and malformed)
	FilesDone  int    // new files committed (or, in a full refresh, loaded) so far
	FilesTotal int    // new files this run will load
	Step       string // step file, relative to the pipeline dir
	StepsDone  int
	StepsTotal int
}

// StepResult describes one step run.
type StepResult struct {
	File     string // relative to the pipeline dir
	Duration time.Duration
	// RowsAffected sums the row counts Postgres reports for the step's
	// INSERT, UPDATE, DELETE, MERGE and CREATE TABLE AS / SELECT statements.
	RowsAffected int64
}

// Result summarises a Run. On error it holds what was committed before the
// failure (nothing for a full refresh).
type Result struct {
	Files       []FileLoad       // files loaded by this run, in load order
	Loaded      map[string]int64 // rows loaded by this run per bronze table ("bronze.orders")
	Quarantined map[string]int64 // malformed records quarantined by this run per entity
	Skipped     int              // matched files already loaded by an earlier (or concurrent) run
	Steps       []StepResult
	Tables      map[string]int64 // rows in every table the pipeline owns, after the run
}

// Run ingests new files and runs the steps of p. See the package doc for
// the guarantees.
func Run(ctx context.Context, db DB, p *Pipeline, opts Options) (Result, error) {
	if p == nil {
		return Result{}, errors.New("running local pipeline: no pipeline given; build one with lakehouse.Load")
	}
	if opts.VolumeDir == "" {
		return Result{}, fmt.Errorf("running local pipeline %s: Options.VolumeDir is empty; set it to the volume folder the ingest sources are relative to", p.Name)
	}
	sent, err := p.resolveSteps(opts.Vars)
	if err != nil {
		return Result{}, fmt.Errorf("running local pipeline %s: %w", p.Name, err)
	}
	files, err := p.listFiles(opts.VolumeDir)
	if err != nil {
		return Result{}, fmt.Errorf("running local pipeline %s: %w", p.Name, err)
	}
	r := &runner{db: db, p: p, opts: opts, sent: sent, lockKey: pipelineLockPrefix + p.Name}
	r.res = r.emptyResult()
	if err := r.setup(ctx); err != nil {
		return r.res, fmt.Errorf("running local pipeline %s: %w", p.Name, err)
	}
	if opts.FullRefresh {
		err = r.fullRefresh(ctx, files)
	} else {
		err = r.incremental(ctx, files)
	}
	if err != nil {
		return r.res, fmt.Errorf("running local pipeline %s: %w", p.Name, err)
	}
	if err := r.countTables(ctx); err != nil {
		return r.res, fmt.Errorf("running local pipeline %s: %w", p.Name, err)
	}
	return r.res, nil
}

// resolveSteps substitutes the variables in every statement up front, so an
// unknown variable fails the run before any file loads.
func (p *Pipeline) resolveSteps(vars map[string]string) ([][]string, error) {
	out := make([][]string, len(p.Steps))
	for i, st := range p.Steps {
		for _, stmt := range st.statements {
			s, err := substitute(stmt, vars)
			if err != nil {
				return nil, fmt.Errorf("%s:%w", filepath.Join(p.Dir, st.File), err)
			}
			out[i] = append(out[i], s)
		}
	}
	return out, nil
}

type runner struct {
	db         DB
	p          *Pipeline
	opts       Options
	sent       [][]string
	lockKey    string
	res        Result
	filesTotal int
	filesDone  int
	stepsDone  int
}

func (r *runner) emptyResult() Result {
	res := Result{Loaded: map[string]int64{}, Quarantined: map[string]int64{}, Tables: map[string]int64{}}
	for _, s := range r.p.Ingest {
		res.Loaded[s.Table.String()] = 0
		res.Quarantined[s.Entity] = 0
	}
	return res
}

func (r *runner) progress(pr Progress) {
	if r.opts.Progress == nil {
		return
	}
	pr.FilesDone, pr.FilesTotal = r.filesDone, r.filesTotal
	pr.StepsDone, pr.StepsTotal = r.stepsDone, len(r.p.Steps)
	r.opts.Progress(pr)
}

// inTx runs fn in a transaction holding the pipeline's advisory lock, and
// commits only if fn succeeded and ctx is still live.
func (r *runner) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx) // no-op after a commit
	}()
	if _, err := tx.Exec(ctx, lockSQL, r.lockKey); err != nil {
		return fmt.Errorf("locking pipeline %s: %w", r.p.Name, err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("not committing: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// setup creates the bookkeeping tables, the schemas the pipeline writes to
// and its bronze tables, and checks that existing bronze tables still match
// the declared columns.
func (r *runner) setup(ctx context.Context) error {
	return r.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockSQL, ddlLockKey); err != nil {
			return fmt.Errorf("taking the DDL lock: %w", err)
		}
		if _, err := tx.Exec(ctx, bookkeepingDDL); err != nil {
			return fmt.Errorf("creating the _sluice schema: %w", err)
		}
		var schemas []string
		for _, t := range r.p.Tables() {
			if t.Schema != "" && !slices.Contains(schemas, t.Schema) {
				schemas = append(schemas, t.Schema)
			}
		}
		for _, s := range schemas {
			if _, err := tx.Exec(ctx, createSchemaSQL(s)); err != nil {
				return fmt.Errorf("creating schema %s: %w", s, err)
			}
		}
		for i := range r.p.Ingest {
			src := &r.p.Ingest[i]
			if _, err := tx.Exec(ctx, createBronzeSQL(src)); err != nil {
				return fmt.Errorf("creating bronze table %s: %w", src.Table, err)
			}
			if err := checkBronze(ctx, tx, src); err != nil {
				return err
			}
		}
		return nil
	})
}

func checkBronze(ctx context.Context, tx pgx.Tx, src *Source) error {
	rows, err := tx.Query(ctx, tableColumnsSQL, src.Table.sanitize())
	if err != nil {
		return fmt.Errorf("reading the columns of %s: %w", src.Table, err)
	}
	have, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
		var c [2]string
		err := row.Scan(&c[0], &c[1])
		return c, err
	})
	if err != nil {
		return fmt.Errorf("reading the columns of %s: %w", src.Table, err)
	}
	want := bronzeColumns(src)
	if slices.Equal(have, want) {
		return nil
	}
	format := func(cols [][2]string) string {
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = c[0] + " " + c[1]
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Errorf("%s: bronze table %s already exists with other columns than entity %s declares:\n  table:         %s\n  pipeline.yaml: %s\n"+
		"migrate the table with ALTER TABLE, or drop it (DROP TABLE %s) and run with full_refresh to reload every file",
		src.where, src.Table, src.Entity, format(have), format(want), src.Table)
}

func (r *runner) incremental(ctx context.Context, files []pendingFile) error {
	done := map[[2]string]bool{}
	err := r.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, loadedFilesSQL, r.p.Name)
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
			var k [2]string
			err := row.Scan(&k[0], &k[1])
			return k, err
		})
		for _, k := range keys {
			done[k] = true
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("reading checkpoints: %w", err)
	}
	var pending []pendingFile
	for _, f := range files {
		if done[[2]string{f.src.Entity, f.rel}] {
			r.res.Skipped++
		} else {
			pending = append(pending, f)
		}
	}
	r.filesTotal = len(pending)
	for _, f := range pending {
		if err := r.loadOne(ctx, f); err != nil {
			return err
		}
		r.filesDone++
	}
	for i := range r.p.Steps {
		var sr StepResult
		err := r.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			sr, err = r.execStep(ctx, tx, i)
			return err
		})
		if err != nil {
			return err
		}
		r.res.Steps = append(r.res.Steps, sr)
	}
	return nil
}

// loadOne loads one file in its own transaction, unless a concurrent run
// loaded it first.
func (r *runner) loadOne(ctx context.Context, f pendingFile) error {
	var fl FileLoad
	skipped := false
	err := r.inTx(ctx, func(tx pgx.Tx) error {
		var now time.Time
		if err := tx.QueryRow(ctx, fileTxStartSQL, r.p.Name, f.src.Entity, f.rel).Scan(&now, &skipped); err != nil {
			return fmt.Errorf("checking the checkpoint of %s: %w", f.rel, err)
		}
		if skipped {
			return nil
		}
		var err error
		fl, err = r.loadFile(ctx, tx, f, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("loading %s: %w", f.rel, err)
	}
	if skipped {
		r.res.Skipped++
		return nil
	}
	r.record(fl)
	return nil
}

// loadFile streams f into its bronze table and quarantine inside tx, and
// writes its checkpoint row.
func (r *runner) loadFile(ctx context.Context, tx pgx.Tx, f pendingFile, now time.Time) (FileLoad, error) {
	fl, err := openFileLoader(ctx, r.p.Name, f, r.opts.VolumeDir, now)
	if err != nil {
		return FileLoad{}, err
	}
	defer fl.close()
	base := Progress{Phase: PhaseIngest, Entity: f.src.Entity, File: f.rel}
	r.progress(base)
	fl.progress = func(rows int64) {
		p := base
		p.Rows = rows
		r.progress(p)
	}
	if err := fl.load(ctx, tx.Conn().PgConn()); err != nil {
		return FileLoad{}, err
	}
	info, err := fl.file.Stat()
	if err != nil {
		return FileLoad{}, fmt.Errorf("reading the size of %s: %w", fl.path, err)
	}
	res := FileLoad{Path: f.rel, Entity: f.src.Entity, Table: f.src.Table.String(), Bytes: info.Size(), Rows: fl.rows, Malformed: fl.bad}
	if _, err := tx.Exec(ctx, insertCheckpointSQL, r.p.Name, f.src.Entity, f.rel, res.Bytes, res.Rows, res.Malformed); err != nil {
		return FileLoad{}, fmt.Errorf("writing the checkpoint of %s: %w", f.rel, err)
	}
	done := base
	done.Phase, done.Rows = PhaseCopied, fl.rows+fl.bad
	r.progress(done)
	return res, nil
}

func (r *runner) record(fl FileLoad) {
	r.res.Files = append(r.res.Files, fl)
	r.res.Loaded[fl.Table] += fl.Rows
	r.res.Quarantined[fl.Entity] += fl.Malformed
}

// fullRefresh empties the pipeline's bronze tables, quarantine and
// checkpoints, reloads every file and runs every step, all in one
// transaction.
func (r *runner) fullRefresh(ctx context.Context, files []pendingFile) error {
	var loads []FileLoad
	var steps []StepResult
	r.filesTotal = len(files)
	err := r.inTx(ctx, func(tx pgx.Tx) error {
		var bronze []Table
		for _, s := range r.p.Ingest {
			bronze = append(bronze, s.Table)
		}
		if len(bronze) > 0 {
			if _, err := tx.Exec(ctx, truncateSQL(bronze)); err != nil {
				return fmt.Errorf("truncating bronze tables: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, deleteQuarantineSQL, r.p.Name); err != nil {
			return fmt.Errorf("clearing quarantine: %w", err)
		}
		if _, err := tx.Exec(ctx, deleteCheckpointsSQL, r.p.Name); err != nil {
			return fmt.Errorf("clearing checkpoints: %w", err)
		}
		var now time.Time
		if err := tx.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
			return err
		}
		for _, f := range files {
			fl, err := r.loadFile(ctx, tx, f, now)
			if err != nil {
				return fmt.Errorf("loading %s: %w", f.rel, err)
			}
			loads = append(loads, fl)
			r.filesDone++
		}
		for i := range r.p.Steps {
			sr, err := r.execStep(ctx, tx, i)
			if err != nil {
				return err
			}
			steps = append(steps, sr)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("full refresh (rolled back, nothing changed): %w", err)
	}
	for _, fl := range loads {
		r.record(fl)
	}
	r.res.Steps = steps
	return nil
}

// execStep runs the statements of step i in tx.
func (r *runner) execStep(ctx context.Context, tx pgx.Tx, i int) (StepResult, error) {
	st := &r.p.Steps[i]
	r.progress(Progress{Phase: PhaseStep, Step: st.File})
	start := time.Now()
	var affected int64
	for j, stmt := range st.statements {
		sql := r.sent[i][j]
		tag, err := tx.Exec(ctx, sql)
		if err != nil {
			line := stmt.line
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				line = positionLine(stmt, sql, pgErr.Position)
			}
			return StepResult{}, fmt.Errorf("step %s:%d: %w", filepath.Join(r.p.Dir, st.File), line, err)
		}
		affected += rowsAffected(tag)
	}
	r.stepsDone++
	return StepResult{File: st.File, Duration: time.Since(start), RowsAffected: affected}, nil
}

func rowsAffected(tag pgconn.CommandTag) int64 {
	s := tag.String()
	for _, verb := range []string{"INSERT ", "UPDATE ", "DELETE ", "MERGE ", "SELECT "} {
		if strings.HasPrefix(s, verb) {
			return tag.RowsAffected()
		}
	}
	return 0
}

// countTables fills Result.Tables. A table a step was expected to create
// but did not is left out.
func (r *runner) countTables(ctx context.Context) error {
	tx, err := r.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("counting rows: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, t := range r.p.Tables() {
		var exists bool
		if err := tx.QueryRow(ctx, tableExistsSQL, t.sanitize()).Scan(&exists); err != nil {
			return fmt.Errorf("counting rows of %s: %w", t, err)
		}
		if !exists {
			continue
		}
		var n int64
		if err := tx.QueryRow(ctx, countSQL(t)).Scan(&n); err != nil {
			return fmt.Errorf("counting rows of %s: %w", t, err)
		}
		r.res.Tables[t.String()] = n
	}
	return nil
}
