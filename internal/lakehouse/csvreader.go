package lakehouse

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
)

// csvReader reads CSV records exactly as encoding/csv's Reader does with
// Comma ',', LazyQuotes false and FieldsPerRecord -1 (RFC 4180 with
// optional quotes, quoted newlines, "\r\n" read as "\n", empty lines
// skipped), but returns each record's fields as byte slices into one reused
// buffer instead of allocating a string per record. Ingestion spends most of
// its own CPU here, and the garbage encoding/csv makes was the largest part
// of it. csvreader_test.go checks the equivalence against encoding/csv.
type csvReader struct {
	br     *bufio.Reader
	long   []byte // a line longer than br's buffer
	lines  int    // physical lines read so far
	off    int64  // bytes read so far
	buf    []byte // the current record's fields, unquoted, back to back
	ends   []int  // end of each field in buf
	fields [][]byte
}

// csvRecord is where a record came from.
type csvRecord struct {
	line       int   // physical line the record starts on (1-based)
	start, end int64 // input offsets of its first byte and past its last line
}

func newCSVReader(br *bufio.Reader) *csvReader {
	return &csvReader{br: br}
}

// readLine returns the next physical line with its terminator, and whether
// it had one ("\r\n" or "\n"); the line is valid until the next call. Like
// encoding/csv, a '\r' ending the input is dropped.
func (c *csvReader) readLine() (body []byte, nl bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.long = append(c.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = c.br.ReadSlice('\n')
			c.long = append(c.long, line...)
		}
		line = c.long
	}
	n := len(line)
	if n == 0 {
		return nil, false, err
	}
	c.lines++
	c.off += int64(n)
	if err == io.EOF {
		err = nil
		if line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	if err != nil {
		return nil, false, err
	}
	if n = len(line); n > 0 && line[n-1] == '\n' {
		if n >= 2 && line[n-2] == '\r' {
			return line[:n-2], true, nil
		}
		return line[:n-1], true, nil
	}
	return line, false, nil
}

// read returns the next record's fields, valid until the next call. At the
// end of the input it returns io.EOF. Invalid CSV returns a *csv.ParseError
// (with the lines of the broken record consumed, so reading can go on).
func (c *csvReader) read() ([][]byte, csvRecord, error) {
	var (
		body []byte
		nl   bool
		err  error
		rec  csvRecord
	)
	for {
		rec.start = c.off
		body, nl, err = c.readLine()
		if err != nil {
			return nil, rec, err // io.EOF at the end of the input
		}
		if len(body) > 0 {
			break
		}
		// An empty line is skipped, not a record.
	}
	rec.line = c.lines
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	parseErr := func(e error) ([][]byte, csvRecord, error) {
		rec.end = c.off
		return nil, rec, &csv.ParseError{StartLine: rec.line, Line: c.lines, Err: e}
	}
fields:
	for {
		if len(body) == 0 || body[0] != '"' {
			field, rest, more := body, []byte(nil), false
			if i := bytes.IndexByte(body, ','); i >= 0 {
				field, rest, more = body[:i], body[i+1:], true
			}
			if bytes.IndexByte(field, '"') >= 0 {
				return parseErr(csv.ErrBareQuote)
			}
			c.buf = append(c.buf, field...)
			c.ends = append(c.ends, len(c.buf))
			if !more {
				break fields
			}
			body = rest
			continue
		}
		body = body[1:] // opening quote
		for {
			i := bytes.IndexByte(body, '"')
			if i < 0 {
				// The field goes on past the end of the line.
				c.buf = append(c.buf, body...)
				if !nl {
					return parseErr(csv.ErrQuote)
				}
				c.buf = append(c.buf, '\n')
				body, nl, err = c.readLine()
				if errors.Is(err, io.EOF) {
					return parseErr(csv.ErrQuote)
				}
				if err != nil {
					return nil, rec, err
				}
				continue
			}
			c.buf = append(c.buf, body[:i]...)
			body = body[i+1:]
			switch {
			case len(body) > 0 && body[0] == '"': // "" is a quote
				c.buf = append(c.buf, '"')
				body = body[1:]
			case len(body) > 0 && body[0] == ',': // end of field
				c.ends = append(c.ends, len(c.buf))
				body = body[1:]
				continue fields
			case len(body) == 0: // end of record
				c.ends = append(c.ends, len(c.buf))
				break fields
			default:
				return parseErr(csv.ErrQuote)
			}
		}
	}
	rec.end = c.off
	c.fields = c.fields[:0]
	prev := 0
	for _, e := range c.ends {
		c.fields = append(c.fields, c.buf[prev:e:e])
		prev = e
	}
	return c.fields, rec, nil
}
