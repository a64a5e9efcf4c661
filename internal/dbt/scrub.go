package dbt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces every secret the Scrubber finds.
const Redacted = "*****"

// Scrubber removes secret values from text before it is stored or returned.
// Besides the value itself it looks for the forms in which dbt output can
// carry it: JSON-escaped (as in --log-format json lines and artifacts, both
// Go-style and Python's ASCII-only \uXXXX style) and URL-encoded (as in a
// connection string). The zero value and a Scrubber without secrets pass
// text through unchanged.
type Scrubber struct {
	patterns [][]byte // longest first, so a secret containing another is replaced whole
	replacer *strings.Replacer
	maxLen   int
}

// NewScrubber returns a Scrubber for the given secrets; empty ones are ignored.
func NewScrubber(secrets []string) *Scrubber {
	seen := map[string]bool{}
	var pats []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			pats = append(pats, p)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		add(s)
		add(jsonEscape(s))
		add(asciiJSONEscape(s))
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
	}
	slices.SortStableFunc(pats, func(a, b string) int { return len(b) - len(a) })
	sc := &Scrubber{}
	args := make([]string, 0, 2*len(pats))
	for _, p := range pats {
		sc.patterns = append(sc.patterns, []byte(p))
		args = append(args, p, Redacted)
		sc.maxLen = max(sc.maxLen, len(p))
	}
	if len(pats) > 0 {
		sc.replacer = strings.NewReplacer(args...)
	}
	return sc
}

// String returns s with every secret replaced by Redacted.
func (sc *Scrubber) String(s string) string {
	if sc == nil || sc.replacer == nil {
		return s
	}
	return sc.replacer.Replace(s)
}

// Bytes returns b with every secret replaced by Redacted. It returns b
// itself when there is nothing to replace.
func (sc *Scrubber) Bytes(b []byte) []byte {
	if sc == nil || sc.replacer == nil || !sc.contains(b) {
		return b
	}
	return []byte(sc.replacer.Replace(string(b)))
}

func (sc *Scrubber) contains(b []byte) bool {
	for _, p := range sc.patterns {
		if bytes.Contains(b, p) {
			return true
		}
	}
	return false
}

// Copy copies src to dst with secrets replaced, holding back only as many
// bytes as the longest secret so that large artifacts stream through.
func (sc *Scrubber) Copy(dst io.Writer, src io.Reader) (int64, error) {
	if sc == nil || sc.replacer == nil {
		return io.Copy(dst, src)
	}
	var written int64
	write := func(b []byte) error {
		n, err := dst.Write(b)
		written += int64(n)
		return err
	}
	pending := make([]byte, 0, 128<<10)
	chunk := make([]byte, 64<<10)
	eof := false
	for !eof {
		n, err := src.Read(chunk)
		pending = append(pending, chunk[:n]...)
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return written, fmt.Errorf("reading: %w", err)
		}
		// Replace every complete match; keep a tail that could be the
		// start of a match continuing in the next chunk.
		for {
			idx, plen := sc.firstMatch(pending)
			if idx < 0 || (!eof && idx+sc.maxLen > len(pending)) {
				break // none, or a longer secret may start here and end in the next chunk
			}
			if err := write(pending[:idx]); err != nil {
				return written, err
			}
			if err := write([]byte(Redacted)); err != nil {
				return written, err
			}
			pending = pending[idx+plen:]
		}
		keep := 0
		if !eof {
			keep = min(len(pending), sc.maxLen-1)
		}
		if err := write(pending[:len(pending)-keep]); err != nil {
			return written, err
		}
		pending = append(pending[:0], pending[len(pending)-keep:]...)
	}
	return written, nil
}

// firstMatch finds the leftmost secret in b (longest on ties).
func (sc *Scrubber) firstMatch(b []byte) (int, int) {
	best, bestLen := -1, 0
	for _, p := range sc.patterns {
		if i := bytes.Index(b, p); i >= 0 && (best < 0 || i < best || (i == best && len(p) > bestLen)) {
			best, bestLen = i, len(p)
		}
	}
	return best, bestLen
}

// jsonEscape returns s as it appears inside a JSON string written by Go.
func jsonEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// asciiJSONEscape returns s as Python's json.dumps writes it by default:
// non-ASCII runes as \uXXXX (surrogate pairs above the BMP).
func asciiJSONEscape(s string) string {
	esc := jsonEscape(s)
	var b strings.Builder
	for _, r := range esc {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
