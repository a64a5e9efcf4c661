package dbt

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// sharedDbt returns a path under the real third-party dbt material
// (../shared/testdata/dbt), skipping the test when it is not beside the
// checkout.
func sharedDbt(t testing.TB, parts ...string) string {
	t.Helper()
	root := filepath.Join("..", "..", "..", "shared", "testdata", "dbt")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("real dbt test material not found at %s (CI has ../shared beside the checkout): %v", root, err)
	}
	return absPath(t, filepath.Join(append([]string{root}, parts...)...))
}

// fixture returns the absolute path of one of this package's testdata
// files (the stand-in runs in the project folder, so paths must be absolute).
func fixture(t testing.TB, parts ...string) string {
	t.Helper()
	return absPath(t, filepath.Join(append([]string{"testdata"}, parts...)...))
}

func absPath(t testing.TB, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

func sharedGlob(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(sharedDbt(t, pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no files match %s", pattern)
	return files
}

// decodeGeneric reads a JSON file into untyped values: the independent
// reading the tests compare the typed parsers against.
func decodeGeneric(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), path)
	return v
}

// fakeDbtBuild holds the stand-in dbt executable, built once per test
// binary into a temporary folder that TestMain removes.
type fakeDbtBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var fakeDbtBin fakeDbtBuild

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-fakedbt-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeDbtBin.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeDbt builds testdata/fakedbt, the stand-in for the dbt CLI (which
// cannot be installed here), and returns its path.
func fakeDbt(t testing.TB) string {
	t.Helper()
	fakeDbtBin.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			fakeDbtBin.err = fmt.Errorf("the go tool is needed to build the stand-in dbt: %w", err)
			return
		}
		fakeDbtBin.path = filepath.Join(fakeDbtBin.dir, "dbt")
		out, err := exec.Command(goBin, "build", "-o", fakeDbtBin.path, "./testdata/fakedbt").CombinedOutput()
		if err != nil {
			fakeDbtBin.err = fmt.Errorf("building testdata/fakedbt: %w\n%s", err, out)
		}
	})
	require.NoError(t, fakeDbtBin.err)
	return fakeDbtBin.path
}

// newProject copies testdata/project into a fresh folder, so each test has
// its own target/.
func newProject(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "project", "dbt_project.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dbt_project.yml"), b, 0o644))
	return dir
}

// recorded is one invocation of the stand-in, as FAKEDBT_RECORD wrote it.
type recorded struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

func readRecord(t testing.TB, path string) []recorded {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []recorded
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r recorded
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		out = append(out, r)
	}
	return out
}

// processGone reports whether pid has exited (a zombie counts: it runs no code).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// state is the field after the parenthesised command name
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func nodeNames(nodes []NodeResult) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	return out
}
