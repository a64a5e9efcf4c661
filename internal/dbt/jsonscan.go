package dbt

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonScanner walks a JSON document held in a reader without building it.
// It understands just enough of the grammar to step through objects, read
// keys, skip values it does not need (macros, docs, compiled SQL...) without
// allocating, and hand the raw bytes of values it does need to
// encoding/json. Manifests of large projects are hundreds of megabytes, most
// of it macros and compiled code Sluice never looks at.
type jsonScanner struct {
	r   *bufio.Reader
	off int64  // bytes consumed so far, for error messages
	buf []byte // capture buffer, reused between values
}

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: bufio.NewReaderSize(r, 64<<10)}
}

// errorf prefixes the byte offset so a truncated or corrupt file says where.
func (s *jsonScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", s.off, fmt.Sprintf(format, args...))
}

func (s *jsonScanner) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, s.errorf("unexpected end of JSON input")
		}
		return 0, err
	}
	s.off++
	return c, nil
}

// peekNonSpace skips whitespace and returns the next byte without consuming it.
func (s *jsonScanner) peekNonSpace() (byte, error) {
	for {
		b, err := s.r.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, s.errorf("unexpected end of JSON input")
			}
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\n', '\r':
			_, _ = s.r.ReadByte()
			s.off++
		default:
			return b[0], nil
		}
	}
}

// next skips whitespace and consumes the next byte.
func (s *jsonScanner) next() (byte, error) {
	if _, err := s.peekNonSpace(); err != nil {
		return 0, err
	}
	return s.readByte()
}

func (s *jsonScanner) expect(want byte) error {
	c, err := s.next()
	if err != nil {
		return err
	}
	if c != want {
		return s.errorf("expected %q, found %q", want, c)
	}
	return nil
}

// objectKeys iterates over the members of the object that starts at the
// current position, calling fn with each key; fn must consume the value
// (skipValue, captureValue or a nested objectKeys).
func (s *jsonScanner) objectKeys(fn func(key string) error) error {
	c, err := s.next()
	if err != nil {
		return err
	}
	if c == 'n' { // null where an object is allowed: treat as empty
		return s.expectLiteral("ull")
	}
	if c != '{' {
		return s.errorf("expected an object, found %q", c)
	}
	first := true
	for {
		c, err := s.next()
		if err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if !first {
			if c != ',' {
				return s.errorf("expected ',' or '}' in object, found %q", c)
			}
			if c, err = s.next(); err != nil {
				return err
			}
		}
		first = false
		if c != '"' {
			return s.errorf("expected an object key, found %q", c)
		}
		key, err := s.readStringBody()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

func (s *jsonScanner) expectLiteral(rest string) error {
	for i := 0; i < len(rest); i++ {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return s.errorf("invalid literal")
		}
	}
	return nil
}

// readStringBody reads a string whose opening quote was consumed and returns
// it decoded. Keys are short, so this path does not need to be clever.
func (s *jsonScanner) readStringBody() (string, error) {
	s.buf = append(s.buf[:0], '"')
	escaped := false
	for {
		c, err := s.readByte()
		if err != nil {
			return "", err
		}
		s.buf = append(s.buf, c)
		switch {
		case c == '\\':
			escaped = true
			// consume the escaped byte verbatim
			c2, err := s.readByte()
			if err != nil {
				return "", err
			}
			s.buf = append(s.buf, c2)
		case c == '"':
			if !escaped {
				return string(s.buf[1 : len(s.buf)-1]), nil
			}
			var out string
			if err := json.Unmarshal(s.buf, &out); err != nil {
				return "", s.errorf("invalid string: %v", err)
			}
			return out, nil
		}
	}
}

// skipValue consumes the next value without keeping it.
func (s *jsonScanner) skipValue() error {
	return s.scanValue(false)
}

// captureValue consumes the next value and returns its raw bytes. The slice
// is only valid until the next call on the scanner.
func (s *jsonScanner) captureValue() ([]byte, error) {
	s.buf = s.buf[:0]
	if err := s.scanValue(true); err != nil {
		return nil, err
	}
	return s.buf, nil
}

// scanValue steps over one JSON value, working on whole buffered chunks
// rather than byte by byte. Strings, nesting and escapes are tracked; scalar
// literals are taken up to the next delimiter and left for encoding/json to
// validate when captured.
func (s *jsonScanner) scanValue(capture bool) error {
	first, err := s.peekNonSpace()
	if err != nil {
		return err
	}
	depth := 0
	inString := false
	escaped := false
	scalar := first != '{' && first != '[' && first != '"'
	started := false
	for {
		chunk, _ := s.r.Peek(s.r.Buffered()) // never fails for n <= Buffered
		if len(chunk) == 0 {
			if _, err := s.r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					if scalar && started {
						return nil // a bare literal at the end of input
					}
					return s.errorf("unexpected end of JSON input")
				}
				return err
			}
			continue
		}
		end := -1 // index just past the value, when found in this chunk
	scan:
		for i, c := range chunk {
			if !started {
				started = true
				switch c {
				case '{', '[':
					depth = 1
				case '"':
					inString = true
				}
				continue
			}
			if scalar {
				switch c {
				case ',', '}', ']', ' ', '\t', '\n', '\r':
					end = i
					break scan
				}
				continue
			}
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
					if depth == 0 {
						end = i + 1
						break scan
					}
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					end = i + 1
					break scan
				}
			}
		}
		n := len(chunk)
		if end >= 0 {
			n = end
		}
		if capture {
			s.buf = append(s.buf, chunk[:n]...)
		}
		if _, err := s.r.Discard(n); err != nil {
			return err
		}
		s.off += int64(n)
		if end >= 0 {
			return nil
		}
	}
}

// finish checks that only whitespace follows the top-level value.
func (s *jsonScanner) finish() error {
	for {
		c, err := s.r.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		s.off++
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return s.errorf("unexpected %q after the top-level object", c)
		}
	}
}
