package gitsource

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/internal/gitsource/gittest"

	"github.com/stretchr/testify/require"
)

// fixture is a bare repository built with the git CLI, with this history:
//
//	c1 (main)   dbt/dbt_project.yml, dbt/models/orders.sql "select 1 as v",
//	            dbt/current -> models/orders.sql, scripts/run.sh (+x), README.md
//	            annotated tag v1.0
//	c2 (main)   orders.sql "select 2 as v"                      <- main, HEAD
//	c3          branch feature from c1: dbt/models/feature.sql  <- feature, lightweight tag light
type fixture struct {
	bare   string // bare repository path
	url    string // file:// URL of bare
	work   string // non-bare clone used to push new commits
	c1     string
	c2     string
	c3     string
	tagObj string // SHA of the annotated tag object v1.0
}

func requireGit(t testing.TB) { t.Helper(); gittest.Require(t) }

func gitEnv() []string { return gittest.Env() }

func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return gittest.Run(t, dir, args...)
}

func writeFile(t testing.TB, path, content string, perm os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), perm))
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	requireGit(t)
	base := t.TempDir()
	fx := &fixture{work: filepath.Join(base, "work"), bare: filepath.Join(base, "origin.git")}
	fx.url = "file://" + fx.bare
	runGit(t, base, "init", "-q", "-b", "main", fx.work)

	writeFile(t, filepath.Join(fx.work, "README.md"), "# data\n", 0o644)
	writeFile(t, filepath.Join(fx.work, "scripts", "run.sh"), "#!/bin/sh\necho run\n", 0o755)
	writeFile(t, filepath.Join(fx.work, "dbt", "dbt_project.yml"), "name: warehouse\nversion: '1.0'\n", 0o644)
	writeFile(t, filepath.Join(fx.work, "dbt", "models", "orders.sql"), "select 1 as v\n", 0o644)
	require.NoError(t, os.Symlink("models/orders.sql", filepath.Join(fx.work, "dbt", "current")))
	fx.c1 = fx.commitAll(t, "c1")
	runGit(t, fx.work, "tag", "-a", "v1.0", "-m", "release 1.0")
	fx.tagObj = runGit(t, fx.work, "rev-parse", "v1.0")

	writeFile(t, filepath.Join(fx.work, "dbt", "models", "orders.sql"), "select 2 as v\n", 0o644)
	fx.c2 = fx.commitAll(t, "c2")

	runGit(t, fx.work, "checkout", "-q", "-b", "feature", fx.c1)
	writeFile(t, filepath.Join(fx.work, "dbt", "models", "feature.sql"), "select 3 as v\n", 0o644)
	fx.c3 = fx.commitAll(t, "c3")
	runGit(t, fx.work, "tag", "light")
	runGit(t, fx.work, "checkout", "-q", "main")

	runGit(t, base, "clone", "-q", "--bare", fx.work, fx.bare)
	runGit(t, fx.work, "remote", "add", "origin", fx.bare)
	return fx
}

func (fx *fixture) commitAll(t testing.TB, msg string) string {
	t.Helper()
	runGit(t, fx.work, "add", "-A")
	runGit(t, fx.work, "commit", "-q", "-m", msg)
	return runGit(t, fx.work, "rev-parse", "HEAD")
}

// push commits a change to orders.sql on branch and pushes it to the bare
// repository, returning the new commit.
func (fx *fixture) push(t *testing.T, branch, ordersSQL string) string {
	t.Helper()
	runGit(t, fx.work, "checkout", "-q", branch)
	writeFile(t, filepath.Join(fx.work, "dbt", "models", "orders.sql"), ordersSQL, 0o644)
	sha := fx.commitAll(t, "change on "+branch)
	runGit(t, fx.work, "push", "-q", "origin", branch)
	return sha
}

func newCache(t testing.TB) *Cache {
	t.Helper()
	return &Cache{Root: filepath.Join(t.TempDir(), "git"), CheckoutRoot: t.TempDir()}
}

// checkout runs Cache.Checkout and registers Cleanup.
func checkout(t *testing.T, c *Cache, src Source) *Checkout {
	t.Helper()
	co, err := c.Checkout(context.Background(), src)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, co.Cleanup()) })
	return co
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// cacheDir is where c keeps the bare clone of repo.
func cacheDir(t testing.TB, c *Cache, repo string) string {
	t.Helper()
	rs, err := resolveSource(Source{Repo: repo})
	require.NoError(t, err)
	return filepath.Join(c.Root, rs.cacheName()+".git")
}

// requireNoSecretUnder fails if any file under root contains secret.
func requireNoSecretUnder(t *testing.T, root string, secrets ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secretForms(secrets) { // raw, URL-escaped and base64
			require.NotContains(t, string(b), s, "secret found in %s", path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, files, "expected files under %s", root)
}
