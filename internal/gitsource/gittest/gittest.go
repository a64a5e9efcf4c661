// Package gittest builds git repositories for tests with the git CLI, in a
// hermetic environment (no system or user configuration), and serves them
// over smart HTTP with the real `git http-backend`.
package gittest

import (
	"io"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Require skips the test when the git binary is missing: fixtures are built
// with it, and go-git v5 runs git-upload-pack to serve file:// URLs.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found in PATH: the test builds its repositories with it")
	}
}

// Env is the environment git runs in: no system or user configuration, a
// fixed author, no prompts.
func Env() []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Sluice Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Sluice Test", "GIT_COMMITTER_EMAIL=test@example.com",
	)
}

// Run runs git in dir and returns its trimmed output; a failure fails the test.
func Run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// BareRepo makes a bare repository <name>.git whose branch main has one
// commit holding files (path -> content), and returns its path and the
// commit. It skips the test when git is missing.
func BareRepo(t testing.TB, name string, files map[string]string) (bare, commit string) {
	t.Helper()
	Require(t)
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, name+".git")
	Run(t, base, "init", "-q", "-b", "main", work)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Run(t, work, "add", "-A")
	Run(t, work, "commit", "-q", "-m", "fixture")
	Run(t, base, "clone", "-q", "--bare", work, bare)
	return bare, Run(t, work, "rev-parse", "HEAD")
}

// Backend is `git http-backend` serving every repository in bare's folder
// (smart HTTP); wrap it in a handler that checks credentials.
func Backend(t testing.TB, bare string) *cgi.Handler {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git binary not found in PATH: the test serves its repository with `git http-backend`")
	}
	return &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		// http-backend logs misses ("Not a git repository") to stderr.
		Stderr: io.Discard,
		Env:    []string{"GIT_PROJECT_ROOT=" + filepath.Dir(bare), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull},
	}
}
