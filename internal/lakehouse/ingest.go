package lakehouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pendingFile is one file matched by an ingest source.
type pendingFile struct {
	src *Source
	rel string // path relative to the volume dir, '/'-separated: the checkpoint key
}

// listFiles returns every file matched by the pipeline's sources, sorted by
// path (then entity) so batches load in order. Paths with a component that
// starts with '.' (in-progress batches such as .tmp-batch=...) are ignored.
// A missing volume dir matches nothing.
func (p *Pipeline) listFiles(volumeDir string) ([]pendingFile, error) {
	fsys := os.DirFS(volumeDir)
	var out []pendingFile
	for i := range p.Ingest {
		src := &p.Ingest[i]
		matches, err := fs.Glob(fsys, src.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: listing %s in %s: %w", src.where, src.Pattern, volumeDir, err)
		}
		for _, m := range matches {
			if hidden(m) {
				continue
			}
			info, err := fs.Stat(fsys, m)
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", filepath.Join(volumeDir, m), err)
			}
			if !info.Mode().IsRegular() {
				continue
			}
			if !utf8.ValidString(m) {
				return nil, fmt.Errorf("%s: the file name %q is not valid UTF-8, so it cannot be recorded as _source_file; rename it", src.where, m)
			}
			out = append(out, pendingFile{src: src, rel: m})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].rel != out[j].rel {
			return out[i].rel < out[j].rel
		}
		return out[i].src.Entity < out[j].src.Entity
	})
	return out, nil
}

func hidden(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// FileLoad describes one file loaded by a run.
type FileLoad struct {
	Path      string // relative to the volume dir, '/'-separated
	Entity    string
	Table     string // bronze table, "schema.name"
	Bytes     int64  // file size
	Rows      int64  // valid records copied into the bronze table
	Malformed int64  // records quarantined
}

// fileLoader streams one CSV file into COPY. It is the io.Reader that
// PgConn.CopyFrom pulls from: each Read parses records, validates them and
// encodes the valid ones in binary COPY format, so the file is never held in
// memory and parsing overlaps with the server inserting the previous chunk.
// Malformed records go to a spool that is copied into the quarantine table
// after the bronze COPY, in the same transaction.
type fileLoader struct {
	ctx      context.Context
	src      *Source
	rel      string
	path     string // full path, for errors
	csv      *csvReader
	file     *os.File
	bom      int64  // bytes skipped at the start of the file (a UTF-8 BOM)
	suffix   []byte // the _source_file and _ingested_at fields ending every tuple
	out      []byte
	outPos   int
	eof      bool
	rows     int64
	bad      int64
	quar     *csv.Writer
	spool    *spool
	qFixed   [3]string // pipeline, entity, file
	qAt      string
	progress func(rows int64)
}

const progressEvery = 1 << 16

// openFileLoader opens the file and checks its header against the declared
// columns. A header mismatch is an error, not a quarantine.
// The caller must close the loader.
func openFileLoader(ctx context.Context, pipeline string, pf pendingFile, volumeDir string, ingestedAt time.Time) (*fileLoader, error) {
	full := filepath.Join(volumeDir, filepath.FromSlash(pf.rel))
	f, err := os.Open(full)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", full, err)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	var bom int64
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		bom = 3
	}
	l := &fileLoader{
		ctx: ctx, src: pf.src, rel: pf.rel, path: full, csv: newCSVReader(br), file: f, bom: bom,
		qFixed: [3]string{pipeline, pf.src.Entity, pf.rel},
		qAt:    ingestedAt.UTC().Format("2006-01-02 15:04:05.999999Z07:00"),
	}
	if err := l.checkHeader(); err != nil {
		f.Close()
		return nil, err
	}
	// Every tuple ends with the same _source_file and _ingested_at.
	l.suffix = binary.BigEndian.AppendUint32(l.suffix, uint32(len(pf.rel)))
	l.suffix = append(l.suffix, pf.rel...)
	l.suffix = binary.BigEndian.AppendUint32(l.suffix, 8)
	l.suffix = binary.BigEndian.AppendUint64(l.suffix, uint64(ingestedAt.UnixMicro()-pgEpochDays*microsPerDay))
	l.out = append(l.out, copyHeader...)
	return l, nil
}

func (l *fileLoader) checkHeader() error {
	cols := l.src.Columns
	want := make([]string, len(cols))
	for i, c := range cols {
		want[i] = c.Name
	}
	fields, _, err := l.csv.read()
	if err == io.EOF {
		return fmt.Errorf("%s: the file is empty; it needs the header row %s (entity %s, %s)",
			l.path, strings.Join(want, ","), l.src.Entity, l.src.where)
	}
	if err != nil {
		return fmt.Errorf("%s: reading the header row: %w", l.path, err)
	}
	hdr := make([]string, len(fields))
	for i, f := range fields {
		hdr[i] = string(f)
	}
	for i := 0; i < len(hdr) || i < len(want); i++ {
		switch {
		case i >= len(hdr):
			return fmt.Errorf("%s:1: header has %d columns but entity %s declares %d (%s); column %q is missing from the file; fix the columns list in pipeline.yaml or the file",
				l.path, len(hdr), l.src.Entity, len(want), l.src.where, want[i])
		case i >= len(want):
			return fmt.Errorf("%s:1: header has %d columns but entity %s declares %d (%s); the file has the extra column %q; declare it in pipeline.yaml or fix the file",
				l.path, len(hdr), l.src.Entity, len(want), l.src.where, hdr[i])
		case hdr[i] != want[i]:
			return fmt.Errorf("%s:1: header column %d is %q but entity %s declares %q there (%s); fix the columns list in pipeline.yaml (names and order as in the file) or the file",
				l.path, i+1, hdr[i], l.src.Entity, want[i], l.src.where)
		}
	}
	return nil
}

// Read implements io.Reader for CopyFrom.
func (l *fileLoader) Read(p []byte) (int, error) {
	if l.outPos > 0 {
		n := copy(l.out, l.out[l.outPos:])
		l.out, l.outPos = l.out[:n], 0
	}
	for len(l.out) < len(p) && !l.eof {
		if err := l.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.outPos = n
	if n == 0 && l.eof {
		return 0, io.EOF
	}
	return n, nil
}

// next handles one CSV record.
func (l *fileLoader) next() error {
	fields, rec, err := l.csv.read()
	if err == io.EOF {
		l.eof = true
		l.out = append(l.out, copyTrailer...)
		return nil
	}
	var perr *csv.ParseError
	switch {
	case errors.As(err, &perr):
		l.quarantine(rec, fmt.Sprintf("line %d: invalid CSV: %v", perr.StartLine, perr.Err))
	case err != nil:
		return fmt.Errorf("reading %s: %w", l.path, err)
	default:
		if reason := l.encode(fields, rec.line); reason != "" {
			l.quarantine(rec, reason)
		}
	}
	if n := l.rows + l.bad; n%progressEvery == 0 {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		if l.progress != nil {
			l.progress(n)
		}
	}
	return nil
}

// encode appends a record to the COPY stream as one binary tuple: the
// declared fields, then _source_line, _source_file and _ingested_at. If a
// field fails validation it rolls the tuple back and returns the quarantine
// reason of the first failure.
func (l *fileLoader) encode(rec [][]byte, line int) string {
	cols := l.src.Columns
	if len(rec) != len(cols) {
		return fmt.Sprintf("line %d: expected %d fields, got %d", line, len(cols), len(rec))
	}
	start := len(l.out)
	b := binary.BigEndian.AppendUint16(l.out, uint16(len(cols)+3))
	for i, f := range rec {
		c := &cols[i]
		if len(f) == 0 {
			if c.NotNull {
				l.out = b[:start]
				return fmt.Sprintf("line %d: column %s: empty value, but the column is not_null", line, c.Name)
			}
			b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // NULL
			continue
		}
		v := view(f)
		var ok bool
		if b, ok = c.Type.appendValue(b, v); !ok {
			l.out = b[:start]
			return fmt.Sprintf("line %d: column %s: %s is not %s", line, c.Name, shortQuote(v), c.Type.expect())
		}
	}
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, uint64(line))
	l.out = append(b, l.suffix...)
	l.rows++
	return ""
}

// view returns b as a string without copying. The string aliases the CSV
// reader's buffer and is only valid until the next record: the validators
// only read it, and what is kept (a quarantine reason) is a copy.
func view(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func shortQuote(v string) string {
	if len(v) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		return strconv.Quote(v[:cut]) + "..."
	}
	return strconv.Quote(v)
}

// Binary COPY framing: a signature, flags and header extension length
// before the first tuple, and a -1 field count after the last.
var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

// maxRaw caps the raw text kept for one quarantined record (an unterminated
// quote can swallow the rest of a file).
const maxRaw = 1 << 20

// quarantine records a malformed record with its raw text: the bytes of the
// record in the file, without its line terminator, read back from the file
// by offset (malformed records are rare, so valid ones pay nothing for this).
func (l *fileLoader) quarantine(rec csvRecord, reason string) {
	raw := make([]byte, min(rec.end-rec.start, maxRaw))
	if _, err := l.file.ReadAt(raw, l.bom+rec.start); err != nil && !errors.Is(err, io.EOF) {
		raw = []byte(fmt.Sprintf("(reading the record back from the file failed: %v)", err))
	}
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	raw = bytes.TrimSuffix(raw, []byte("\r"))
	text := strings.ReplaceAll(strings.ToValidUTF8(string(raw), "\uFFFD"), "\x00", "\uFFFD")
	if l.quar == nil {
		l.spool = &spool{}
		l.quar = csv.NewWriter(l.spool)
	}
	// Errors surface from Flush, checked before the quarantine COPY.
	_ = l.quar.Write([]string{l.qFixed[0], l.qFixed[1], l.qFixed[2], strconv.Itoa(rec.line), reason, text, l.qAt})
	l.bad++
}

func (l *fileLoader) close() {
	l.file.Close()
	if l.spool != nil {
		l.spool.close()
	}
}

// load streams the file into the bronze table and its malformed records into
// the quarantine table, on conn, which must be inside the caller's
// transaction.
func (l *fileLoader) load(ctx context.Context, conn *pgconn.PgConn) error {
	if _, err := conn.CopyFrom(ctx, l, copyBronzeSQL(l.src)); err != nil {
		return fmt.Errorf("copying %s into %s: %w", l.path, l.src.Table, explainCopyError(err))
	}
	if l.quar == nil {
		return nil
	}
	l.quar.Flush()
	if err := l.quar.Error(); err != nil {
		return fmt.Errorf("spooling quarantined records of %s: %w", l.path, err)
	}
	r, err := l.spool.reader()
	if err != nil {
		return fmt.Errorf("spooling quarantined records of %s: %w", l.path, err)
	}
	if _, err := conn.CopyFrom(ctx, r, copyQuarantineSQL); err != nil {
		return fmt.Errorf("quarantining %d records of %s: %w", l.bad, l.path, err)
	}
	return nil
}

// explainCopyError adds a hint when Postgres rejects data that passed
// validation: that is a bug in the validators, not in the user's file.
func explainCopyError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		return fmt.Errorf("%w (a value passed Sluice's validation but Postgres rejected it; please report this with the line above)", err)
	}
	return err
}

func copyBronzeSQL(src *Source) string {
	cols := make([]string, 0, len(src.Columns)+3)
	for _, c := range src.Columns {
		cols = append(cols, pgx.Identifier{c.Name}.Sanitize())
	}
	cols = append(cols, "_source_line", "_source_file", "_ingested_at")
	return fmt.Sprintf("COPY %s (%s) FROM STDIN WITH (FORMAT binary)", src.Table.sanitize(), strings.Join(cols, ", "))
}

// spool buffers quarantine rows in memory and moves them to a temporary file
// past spoolMemLimit, so a file full of malformed records is never held in
// memory.
type spool struct {
	mem bytes.Buffer
	f   *os.File
}

const spoolMemLimit = 4 << 20

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && s.mem.Len()+len(p) > spoolMemLimit {
		f, err := os.CreateTemp("", "sluice-quarantine-*.csv")
		if err != nil {
			return 0, fmt.Errorf("creating quarantine spool file: %w", err)
		}
		s.f = f
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, fmt.Errorf("writing quarantine spool file: %w", err)
		}
	}
	if s.f != nil {
		return s.f.Write(p)
	}
	return s.mem.Write(p)
}

func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return &s.mem, nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(s.f, 256<<10), nil
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}
