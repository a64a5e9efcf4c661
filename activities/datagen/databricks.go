package datagen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	dbxtask "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/datagen"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// generateDatabricks writes one batch to the environment's Unity Catalog
// volume: <volume>/<dataset>/batch=<%010d>/ holds the CSV files and, written
// last, the _SUCCESS marker whose content is the batch manifest, so a reader
// that waits for the marker never sees half a batch. A batch whose marker
// exists is never written again: its stored manifest is the result.
// Dir and Files are absolute volume paths.
func (a *Activities) generateDatabricks(ctx context.Context, at *task.Attempt, in GenerateInput) (GenerateResult, error) {
	start := time.Now()
	m := in.Meta
	cfg := Config(in.Config, m.LogicalDate)
	if err := cfg.Validate(); err != nil {
		return GenerateResult{}, task.Permanent(task.ErrConfig, "task %s: %v", m.Task, err)
	}
	volume := strings.TrimRight(m.Target.Volume, "/")
	if volume == "" {
		return GenerateResult{}, task.Permanent(task.ErrConfig,
			"environment %s has no volume for generate_data: set databricks: {volume: /Volumes/<catalog>/<schema>/<volume>} in environments.%s of %s",
			m.Env, m.Env, spec.ProjectFile)
	}
	client, err := a.Databricks.For(at, m.Target.Databricks)
	if err != nil {
		return GenerateResult{}, err
	}
	datasetDir := volume + "/" + cfg.Dataset
	batchDir := fmt.Sprintf("%s/batch=%010d", datasetDir, cfg.Batch)
	markerPath := batchDir + "/" + databricks.MarkerName

	at.Progress("checking %s", markerPath)
	marker, done, err := client.ReadFile(ctx, markerPath)
	if err != nil {
		return GenerateResult{}, dbxtask.TaskError(ctx, err, nil)
	}
	var res datagen.Result
	if done {
		if err := json.Unmarshal(marker, &res); err != nil {
			return GenerateResult{}, task.Permanent("BatchManifestInvalid",
				"batch %d is committed in %s but its marker %s is not a batch manifest (%v): move the batch directory away to generate it again",
				cfg.Batch, batchDir, markerPath, err)
		}
		res.AlreadyWritten = true
	} else {
		tmp, local, err := generateLocal(ctx, at, cfg)
		if tmp != "" {
			defer os.RemoveAll(tmp)
		}
		if err != nil {
			return GenerateResult{}, err
		}
		res, marker = local.res, local.manifest
		var batch []databricks.LocalFile
		for _, f := range res.Files {
			name := path.Base(f.Path)
			batch = append(batch, databricks.LocalFile{Path: filepath.Join(local.dir, name), Name: name})
		}
		at.Progress("uploading %d files to %s", len(batch), batchDir)
		if err := client.UploadBatch(ctx, batchDir, batch, marker); err != nil {
			return GenerateResult{}, dbxtask.TaskError(ctx, err, nil)
		}
	}

	totals, err := volumeTotals(ctx, at, client, datasetDir, batchDir, res.Rows)
	if err != nil {
		return GenerateResult{}, dbxtask.TaskError(ctx, err, nil)
	}
	out := GenerateResult{
		Dataset: res.Dataset, Batch: res.Batch, Dir: batchDir, Orders: res.Config.Orders,
		Rows: res.Rows, Malformed: res.Malformed, Totals: totals,
		AlreadyWritten: res.AlreadyWritten, DurationMS: time.Since(start).Milliseconds(),
	}
	for _, f := range res.Files {
		out.Files = append(out.Files, batchDir+"/"+path.Base(f.Path))
	}
	return out, nil
}

// localBatch is a batch generated on the worker's disk.
type localBatch struct {
	res      datagen.Result
	dir      string // the local batch folder
	manifest []byte
}

// generateLocal generates the batch under a fresh temp folder tmp, which
// the caller removes (also on error, when tmp is not empty).
func generateLocal(ctx context.Context, at *task.Attempt, cfg datagen.Config) (tmp string, b localBatch, err error) {
	tmp, err = os.MkdirTemp("", "sluice-datagen-*")
	if err != nil {
		return "", b, task.Transient("GenerateFailed", "creating a temp folder for batch %d: %v", cfg.Batch, err)
	}
	b.res, err = datagen.Generate(ctx, tmp, cfg, func(p datagen.Progress) {
		at.Progress("%s: %d/%d orders", p.Table, p.Orders, p.OrdersTotal)
	})
	if err != nil {
		if ctx.Err() != nil {
			return tmp, b, ctx.Err()
		}
		return tmp, b, task.Transient("GenerateFailed", "generating batch %d: %v", cfg.Batch, err)
	}
	b.dir = filepath.Join(tmp, filepath.FromSlash(b.res.Dir))
	if b.manifest, err = os.ReadFile(filepath.Join(b.dir, "_manifest.json")); err != nil {
		return tmp, b, task.Transient("GenerateFailed", "reading the manifest of batch %d: %v", cfg.Batch, err)
	}
	return tmp, b, nil
}

// volumeTotals sums the valid records per table over every committed batch
// of the dataset in the volume (a batch directory with its marker), this one
// (whose rows are given) included.
func volumeTotals(ctx context.Context, at *task.Attempt, client *databricks.Client, datasetDir, batchDir string, rows map[string]int64) (map[string]int64, error) {
	at.Progress("reading batch manifests in %s", datasetDir)
	entries, err := client.ListDirectory(ctx, datasetDir)
	if err != nil {
		return nil, err
	}
	totals := map[string]int64{}
	for t, n := range rows {
		totals[t] += n
	}
	for _, e := range entries {
		if !e.IsDir || !strings.HasPrefix(e.Name, "batch=") || datasetDir+"/"+e.Name == batchDir {
			continue
		}
		b, ok, err := client.ReadFile(ctx, datasetDir+"/"+e.Name+"/"+databricks.MarkerName)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // not committed: a reader ignores it too
		}
		var m datagen.Result
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, task.Permanent("BatchManifestInvalid",
				"the marker of %s/%s is not a batch manifest (%v): move that batch directory away", datasetDir, e.Name, err)
		}
		for t, n := range m.Rows {
			totals[t] += n
		}
	}
	return totals, nil
}
