package datagen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// manifestName is the file, inside a batch dir, describing the batch.
const manifestName = "_manifest.json"

// manifestFormat is bumped when the manifest layout changes incompatibly.
const manifestFormat = 1

// manifest is what _manifest.json holds: the batch's Result without Totals
// and AlreadyWritten (Config included).
type manifest struct {
	Format    int              `json:"format"`
	Dataset   string           `json:"dataset"`
	Batch     int64            `json:"batch"`
	Dir       string           `json:"dir"`
	Config    Config           `json:"config"`
	Files     []File           `json:"files"`
	Rows      map[string]int64 `json:"rows"`
	Malformed map[string]int64 `json:"malformed"`
}

// volume is one dataset folder inside a volume dir.
type volume struct{ root, dataset string }

func (v volume) dir() string { return filepath.Join(v.root, v.dataset) }

func batchName(batch int64) string { return fmt.Sprintf("batch=%010d", batch) }

// batchRel is the batch dir relative to the volume, slash-separated.
func (v volume) batchRel(batch int64) string { return v.dataset + "/" + batchName(batch) }

// commit runs write into a fresh temp dir and renames it to the batch dir,
// under a per-batch lock so concurrent writers of one batch serialize: the
// loser finds the batch committed and returns AlreadyWritten without writing.
func (v volume) commit(ctx context.Context, cfg Config, write func(context.Context, string) (Result, error), progress func(Progress)) (Result, error) {
	ds := v.dir()
	if err := os.MkdirAll(ds, 0o755); err != nil {
		return Result{}, fmt.Errorf("creating dataset dir %s: %w", ds, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(ds, fmt.Sprintf(".%s.lock", batchName(cfg.Batch))))
	if err != nil {
		return Result{}, fmt.Errorf("locking batch %d of %s: %w", cfg.Batch, ds, err)
	}
	defer unlock()

	final := filepath.Join(ds, batchName(cfg.Batch))
	if res, ok, err := v.existing(final); err != nil || ok {
		if err != nil {
			return Result{}, err
		}
		return v.withTotals(res)
	}
	if err := v.removeStale(cfg.Batch); err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp(ds, fmt.Sprintf(".tmp-%s-*", batchName(cfg.Batch)))
	if err != nil {
		return Result{}, fmt.Errorf("creating temp batch dir in %s: %w", ds, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp makes the dir private; batches are read by other processes
	// (a Postgres server COPYing a file, for one).
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Result{}, fmt.Errorf("opening up temp batch dir %s: %w", tmp, err)
	}

	res, err := write(ctx, tmp)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("generating batch %d: %w", cfg.Batch, err)
	}
	if err := writeManifest(tmp, res); err != nil {
		return Result{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Lost a race against a writer that does not honour the lock (another
		// host on a shared volume): its batch stands, ours is dropped.
		if other, ok, err2 := v.existing(final); err2 == nil && ok {
			return v.withTotals(other)
		}
		return Result{}, fmt.Errorf("committing batch dir %s: %w", final, err)
	}
	committed = true
	if err := syncDir(ds); err != nil {
		return Result{}, err
	}
	res, err = v.withTotals(res)
	if err != nil {
		return Result{}, err
	}
	var rows int64
	for _, f := range res.Files {
		rows += f.Rows
	}
	progress(Progress{Orders: int64(cfg.Orders), OrdersTotal: int64(cfg.Orders), Rows: rows})
	return res, nil
}

// existing reads the manifest of a committed batch dir. ok is false when the
// dir does not exist; a dir without a manifest is an error, since it was not
// committed by Generate and must not be overwritten.
func (v volume) existing(dir string) (res Result, ok bool, err error) {
	m, err := readManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(dir); statErr == nil {
			return Result{}, false, fmt.Errorf("batch dir %s exists but has no %s, so it was not written by datagen: move it out of the dataset folder and retry", dir, manifestName)
		}
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	return Result{
		Dataset: m.Dataset, Batch: m.Batch, Dir: m.Dir, Config: m.Config,
		Files: m.Files, Rows: m.Rows, Malformed: m.Malformed, AlreadyWritten: true,
	}, true, nil
}

func (v volume) withTotals(res Result) (Result, error) {
	t, err := v.totals()
	if err != nil {
		return Result{}, err
	}
	res.Totals = t
	return res, nil
}

// removeStale deletes temp dirs of this batch left by crashed writers. The
// batch lock is held, so no live writer owns them.
func (v volume) removeStale(batch int64) error {
	entries, err := os.ReadDir(v.dir())
	if err != nil {
		return fmt.Errorf("listing dataset dir %s: %w", v.dir(), err)
	}
	prefix := fmt.Sprintf(".tmp-%s-", batchName(batch))
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			p := filepath.Join(v.dir(), e.Name())
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("removing stale temp dir %s: %w", p, err)
			}
		}
	}
	return nil
}

// totals sums Rows over the manifests of all committed batch dirs.
func (v volume) totals() (map[string]int64, error) {
	t := map[string]int64{}
	entries, err := os.ReadDir(v.dir())
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing dataset dir %s: %w", v.dir(), err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "batch=") {
			continue
		}
		m, err := readManifest(filepath.Join(v.dir(), e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // not a committed batch
		}
		if err != nil {
			return nil, err
		}
		for table, n := range m.Rows {
			t[table] += n
		}
	}
	return t, nil
}

func readManifest(dir string) (manifest, error) {
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return manifest{}, fmt.Errorf("reading batch manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return manifest{}, fmt.Errorf("reading batch manifest %s: %w (the file is damaged: move the batch dir away and regenerate it)", path, err)
	}
	if m.Format != manifestFormat {
		return manifest{}, fmt.Errorf("reading batch manifest %s: format %d is not supported (want %d): regenerate the batch with this version", path, m.Format, manifestFormat)
	}
	return m, nil
}

func writeManifest(dir string, res Result) error {
	files := append([]File(nil), res.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	b, err := json.MarshalIndent(manifest{
		Format: manifestFormat, Dataset: res.Dataset, Batch: res.Batch, Dir: res.Dir,
		Config: res.Config, Files: files, Rows: res.Rows, Malformed: res.Malformed,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding batch manifest: %w", err)
	}
	path := filepath.Join(dir, manifestName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}

// syncDir makes a directory's entries (new files, a rename) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening dir %s for fsync: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("syncing dir %s: %w", dir, err)
	}
	return d.Close()
}
