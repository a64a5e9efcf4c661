package datagen

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// Limits of Config values.
const (
	// MaxBatch is the largest batch number (10 digits, so yyyymmddhh fits).
	MaxBatch int64 = 9_999_999_999
	// MaxOrders bounds Orders so that a batch's CDC sequence numbers
	// (Batch*10_000_000 + i, i < Orders/5) never reach the next batch's.
	MaxOrders = 50_000_000
	// MaxMalformedRate is the largest MalformedRate.
	MaxMalformedRate = 0.2
	// DefaultDataset is the dataset folder used when Config.Dataset is empty.
	DefaultDataset = "olist"
	// DefaultOrders is the number of orders used when Config.Orders is 0.
	DefaultOrders = 1000
)

// Config says what one batch holds. The same Config gives byte-identical
// files on every machine.
type Config struct {
	// Dataset is the folder under the volume holding the batches. Default "olist".
	Dataset string `json:"dataset"`
	// Seed selects the dataset. Ids derive from (Seed, Batch, index); the CDC
	// key space derives from Seed alone, so batches of one seed share CDC keys.
	Seed int64 `json:"seed"`
	// Batch numbers the batch, 1..MaxBatch. A yyyymmdd value puts purchases on
	// that day, a yyyymmddhh value in that hour; any other value maps to a
	// deterministic day from 2016-10-01 on. Required.
	Batch int64 `json:"batch"`
	// Orders is the number of orders in the batch, 1..MaxOrders. Default 1000.
	Orders int `json:"orders"`
	// MalformedRate is the fraction (0..0.2) of EXTRA malformed records
	// injected into every data file except the translation file. Default 0.
	MalformedRate float64 `json:"malformed_rate"`
}

// File describes one CSV file of a batch.
type File struct {
	// Path is relative to the volume dir, slash-separated:
	// "olist/batch=0020261122/olist_orders_dataset.csv".
	Path string `json:"path"`
	// Table is the short table name ("orders").
	Table string `json:"table"`
	// Rows counts valid data records (header and malformed records excluded;
	// CDC duplicate lines included).
	Rows int64 `json:"rows"`
	// Malformed counts the injected malformed records.
	Malformed int64 `json:"malformed"`
	// MalformedLines holds the 1-based physical line on which each malformed
	// record starts (the header is line 1). It has Malformed entries, so at
	// large sizes and rates it is big: keep it out of workflow payloads.
	MalformedLines []int64 `json:"malformed_lines,omitempty"`
	// Duplicates counts CDC lines that exactly repeat the line before them
	// (included in Rows). Zero for non-CDC files.
	Duplicates int64 `json:"duplicates,omitempty"`
	// Bytes is the file size.
	Bytes int64 `json:"bytes"`
}

// Result describes one committed batch.
type Result struct {
	Dataset string `json:"dataset"`
	Batch   int64  `json:"batch"`
	// Dir is the batch dir relative to the volume: "olist/batch=0020261122".
	Dir string `json:"dir"`
	// Config is the configuration the batch was generated with (defaults
	// applied). With AlreadyWritten it may differ from the one requested.
	Config Config `json:"config"`
	// Files are sorted by Path.
	Files []File `json:"files"`
	// Rows counts valid records per short table name in this batch.
	Rows map[string]int64 `json:"rows"`
	// Malformed counts injected malformed records per short table name.
	Malformed map[string]int64 `json:"malformed"`
	// Totals sums Rows over all committed batches of the dataset in the
	// volume, this one included.
	Totals map[string]int64 `json:"totals,omitempty"`
	// AlreadyWritten is true when the batch existed: nothing was written and
	// Files/Rows/Malformed come from its manifest.
	AlreadyWritten bool `json:"already_written,omitempty"`
}

// Progress is reported while a batch is generated.
type Progress struct {
	// Table is the table just written (or, mid-stream, being written);
	// "orders" stands for the five order-derived files. Empty in the last
	// call, made after the batch committed. A batch found AlreadyWritten
	// reports no progress.
	Table string `json:"table"`
	// Orders is the number of orders written so far, out of OrdersTotal.
	Orders      int64 `json:"orders"`
	OrdersTotal int64 `json:"orders_total"`
	// Rows counts valid records written so far over all files.
	Rows int64 `json:"rows"`
}

// WithDefaults returns c with empty fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Dataset == "" {
		c.Dataset = DefaultDataset
	}
	if c.Orders == 0 {
		c.Orders = DefaultOrders
	}
	return c
}

// validDataset keeps Dataset a single visible folder name: readers ignore
// dot-dirs, and the name must never escape the volume.
func validDataset(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

// Validate reports the first invalid field, naming it and the fix. Call it on
// WithDefaults().
func (c Config) Validate() error {
	switch {
	case !validDataset(c.Dataset):
		return fmt.Errorf("datagen config: dataset %q is not a folder name: use letters, digits, '_', '-' or '.', starting with a letter or digit (default %q)", c.Dataset, DefaultDataset)
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("datagen config: batch %d is out of range: use 1..%d, e.g. 20261122 (yyyymmdd) or 2026112206 (yyyymmddhh)", c.Batch, MaxBatch)
	case c.Orders < 1 || c.Orders > MaxOrders:
		return fmt.Errorf("datagen config: orders %d is out of range: use 1..%d (0 means the default %d)", c.Orders, MaxOrders, DefaultOrders)
	case math.IsNaN(c.MalformedRate) || c.MalformedRate < 0 || c.MalformedRate > MaxMalformedRate:
		return fmt.Errorf("datagen config: malformed_rate %v is out of range: use 0..%v (0 injects no malformed records)", c.MalformedRate, MaxMalformedRate)
	}
	return nil
}

// Generate writes batch cfg.Batch of dataset cfg.Dataset into volumeDir and
// returns what it wrote. The batch dir appears atomically; if it already
// exists, nothing is written and the result is read from its manifest with
// AlreadyWritten set. progress, if not nil, is called from the calling
// goroutine about every 50,000 orders, after each other table, and once at
// the end.
func Generate(ctx context.Context, volumeDir string, cfg Config, progress func(Progress)) (Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if volumeDir == "" {
		return Result{}, errors.New("datagen: volume dir is empty: pass the folder that holds the datasets (e.g. .data/volumes)")
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	v := volume{root: volumeDir, dataset: cfg.Dataset}
	return v.commit(ctx, cfg, func(ctx context.Context, dir string) (Result, error) {
		return newGen(cfg, dir, v.batchRel(cfg.Batch), progress).run(ctx)
	}, progress)
}

// Totals sums the valid records per table over every committed batch of the
// dataset in volumeDir (batch dirs with a manifest). A missing dataset dir
// gives an empty map. dataset "" means DefaultDataset.
func Totals(volumeDir, dataset string) (map[string]int64, error) {
	if dataset == "" {
		dataset = DefaultDataset
	}
	v := volume{root: volumeDir, dataset: dataset}
	return v.totals()
}
