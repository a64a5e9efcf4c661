// Package secret resolves ${secret:NAME} references inside activities and
// scrubs resolved values from anything that leaves them. Secrets come from a
// folder of files (one file per secret, as Kubernetes and Docker mount them)
// or, failing that, from the worker's environment variable of the same name.
// They never enter workflow inputs, results, heartbeats or history.
package secret

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Store looks secrets up.
type Store struct {
	// Dir holds one file per secret (trailing newline trimmed); optional.
	Dir string
	// Getenv reads the environment (default os.LookupEnv).
	Getenv func(string) (string, bool)
}

// ErrNotFound is returned for an unknown secret.
var ErrNotFound = errors.New("secret not found")

// Lookup returns the value of a secret.
func (s *Store) Lookup(name string) (string, error) {
	if s.Dir != "" {
		b, err := os.ReadFile(filepath.Join(s.Dir, filepath.Base(name)))
		if err == nil {
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("reading secret %s: %w", name, err)
		}
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if v, ok := getenv(name); ok && v != "" {
		return v, nil
	}
	where := "the worker's environment"
	if s.Dir != "" {
		where = fmt.Sprintf("%s or the worker's environment", s.Dir)
	}
	return "", fmt.Errorf("%w: %s is not in %s: set it on the worker and restart it", ErrNotFound, name, where)
}

// Scrubber remembers resolved secret values and removes them from text.
// It is safe for concurrent use.
type Scrubber struct {
	mu     sync.Mutex
	values []string
}

// Add registers a value to scrub (values shorter than 4 characters are
// ignored: they would mangle ordinary text and protect nothing).
func (s *Scrubber) Add(v string) {
	if len(v) < 4 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
		dup := false
		for _, y := range s.values {
			dup = dup || x == y
		}
		if !dup {
			s.values = append(s.values, x)
		}
	}
	// longest first so a secret containing another is replaced whole
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// Values returns the registered values.
func (s *Scrubber) Values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.values...)
}

// Scrub replaces every registered value in text with ***.
func (s *Scrubber) Scrub(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, "***")
	}
	return text
}
