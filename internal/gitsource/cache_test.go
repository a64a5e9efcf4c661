package gitsource

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/stretchr/testify/require"
)

func TestCheckoutResolvesRefs(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t) // shared: the subtests also race on the first clone

	tests := []struct {
		name       string
		ref        string
		wantCommit string
		wantRef    string
		wantOrders string
	}{
		{"DefaultHEAD", "", fx.c2, "refs/heads/main", "select 2 as v\n"},
		{"HEADAlias", "HEAD", fx.c2, "refs/heads/main", "select 2 as v\n"},
		{"Branch", "main", fx.c2, "refs/heads/main", "select 2 as v\n"},
		{"OtherBranch", "feature", fx.c3, "refs/heads/feature", "select 1 as v\n"},
		{"QualifiedBranch", "refs/heads/feature", fx.c3, "refs/heads/feature", "select 1 as v\n"},
		{"AnnotatedTag", "v1.0", fx.c1, "refs/tags/v1.0", "select 1 as v\n"},
		{"LightweightTag", "light", fx.c3, "refs/tags/light", "select 1 as v\n"},
		{"FullSHA", fx.c1, fx.c1, "", "select 1 as v\n"},
		{"ShortSHA", fx.c2[:7], fx.c2, "", "select 2 as v\n"},
		{"ShortSHAOddLength", fx.c3[:9], fx.c3, "", "select 1 as v\n"},
		{"TagObjectSHA", fx.tagObj, fx.c1, "", "select 1 as v\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: fx.url, Ref: tt.ref, Path: "dbt"})
			require.Equal(t, tt.wantCommit, co.Commit)
			require.Equal(t, tt.wantRef, co.Ref)
			require.Equal(t, "dbt", filepath.Base(co.Dir))
			require.Equal(t, tt.wantOrders, readFile(t, filepath.Join(co.Dir, "models", "orders.sql")))
			_, err := os.Stat(filepath.Join(co.Dir, "models", "feature.sql"))
			require.Equal(t, tt.wantCommit == fx.c3, err == nil, "feature.sql exists only on feature")
		})
	}
}

func TestCheckoutWritesPrivateTree(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)

	co, err := c.Checkout(context.Background(), Source{Repo: fx.url, Ref: "main", Path: "dbt/"})
	require.NoError(t, err)
	top := filepath.Dir(co.Dir)
	require.Equal(t, c.CheckoutRoot, filepath.Dir(top))

	info, err := os.Stat(top)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "checkout dir must be private")

	// The whole tree is written, not only Path: projects may use ../ packages.
	require.Equal(t, "# data\n", readFile(t, filepath.Join(top, "README.md")))
	info, err = os.Stat(filepath.Join(top, "scripts", "run.sh"))
	require.NoError(t, err)
	require.NotZero(t, info.Mode().Perm()&0o100, "run.sh keeps its executable bit")
	info, err = os.Stat(filepath.Join(top, "README.md"))
	require.NoError(t, err)
	require.Zero(t, info.Mode().Perm()&0o111, "README.md is not executable")
	target, err := os.Readlink(filepath.Join(co.Dir, "current"))
	require.NoError(t, err)
	require.Equal(t, "models/orders.sql", target)
	require.Equal(t, "select 2 as v\n", readFile(t, filepath.Join(co.Dir, "current")))
	_, err = os.Stat(filepath.Join(top, ".git"))
	require.ErrorIs(t, err, os.ErrNotExist, "a checkout is a plain tree, not a repository")

	// Two checkouts of the same commit never share a directory.
	co2 := checkout(t, c, Source{Repo: fx.url, Ref: "main", Path: "dbt"})
	require.NotEqual(t, co.Dir, co2.Dir)

	require.NoError(t, co.Cleanup())
	_, err = os.Stat(top)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, co.Cleanup(), "Cleanup is idempotent")
	require.Equal(t, "select 2 as v\n", readFile(t, filepath.Join(co2.Dir, "models", "orders.sql")))
}

func TestCheckoutFetchesEachTime(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)
	src := Source{Repo: fx.url, Ref: "main", Path: "dbt"}

	require.Equal(t, fx.c2, checkout(t, c, src).Commit)

	c4 := fx.push(t, "main", "select 4 as v\n")
	co := checkout(t, c, src)
	require.Equal(t, c4, co.Commit)
	require.Equal(t, "select 4 as v\n", readFile(t, filepath.Join(co.Dir, "models", "orders.sql")))

	// A tag created after the first fetch is found.
	runGit(t, fx.bare, "tag", "v2.0", c4)
	require.Equal(t, c4, checkout(t, c, Source{Repo: fx.url, Ref: "v2.0", Path: "dbt"}).Commit)

	// A force-pushed branch follows the remote.
	runGit(t, fx.bare, "update-ref", "refs/heads/main", fx.c1)
	require.Equal(t, fx.c1, checkout(t, c, src).Commit)

	// A branch deleted upstream is gone from the cache too (fetch prunes).
	runGit(t, fx.bare, "branch", "-D", "feature")
	_, err := c.Checkout(context.Background(), Source{Repo: fx.url, Ref: "feature", Path: "dbt"})
	require.ErrorIs(t, err, ErrRefNotFound)

	// A full SHA already in the cache needs no fetch at all.
	require.NoError(t, os.Rename(fx.bare, fx.bare+".moved"))
	require.Equal(t, fx.c2, checkout(t, c, Source{Repo: fx.url, Ref: fx.c2, Path: "dbt"}).Commit)
}

func TestCheckoutDefaultBranchFollowsRemoteHEAD(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)
	require.Equal(t, "refs/heads/main", checkout(t, c, Source{Repo: fx.url, Path: "dbt"}).Ref)

	runGit(t, fx.bare, "symbolic-ref", "HEAD", "refs/heads/feature")
	co := checkout(t, c, Source{Repo: fx.url, Path: "dbt"})
	require.Equal(t, "refs/heads/feature", co.Ref)
	require.Equal(t, fx.c3, co.Commit)
}

func TestCheckoutErrors(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)
	short := fx.c2[:7]

	tests := []struct {
		name      string
		src       Source
		wantIs    error
		wantMsg   string
		permanent bool
	}{
		{
			name:   "UnknownRef",
			src:    Source{Repo: fx.url, Ref: "nope", Path: "dbt", Origin: "dbt_projects.warehouse"},
			wantIs: ErrRefNotFound,
			wantMsg: "checking out " + fx.url + " at nope: reference not found: no branch, tag or commit \"nope\" in " +
				fx.url + ": check `ref` in dbt_projects.warehouse",
			permanent: true,
		},
		{
			name:   "UnknownSHA",
			src:    Source{Repo: fx.url, Ref: "0123456789abcdef0123456789abcdef01234567", Path: "dbt"},
			wantIs: ErrRefNotFound,
			wantMsg: "checking out " + fx.url + " at 0123456789abcdef0123456789abcdef01234567: reference not found: " +
				"no branch, tag or commit \"0123456789abcdef0123456789abcdef01234567\" in " + fx.url + ": check the source's `ref`",
			permanent: true,
		},
		{
			name:   "PathMissing",
			src:    Source{Repo: fx.url, Ref: "main", Path: "warehouse", Origin: "dbt_projects.warehouse"},
			wantIs: ErrProjectNotFound,
			wantMsg: "checking out " + fx.url + " at main: dbt project not found: path warehouse/ not found at commit " +
				short + " of " + fx.url + ": check `path` in dbt_projects.warehouse",
			permanent: true,
		},
		{
			name:   "PathWithoutProjectFile",
			src:    Source{Repo: fx.url, Ref: "main", Path: "scripts", Origin: "dbt_projects.warehouse"},
			wantIs: ErrProjectNotFound,
			wantMsg: "checking out " + fx.url + " at main: dbt project not found: no dbt_project.yml in scripts/ at commit " +
				short + " of " + fx.url + ": check `path` in dbt_projects.warehouse",
			permanent: true,
		},
		{
			name:   "RootWithoutProjectFile",
			src:    Source{Repo: fx.url, Ref: "main"},
			wantIs: ErrProjectNotFound,
			wantMsg: "checking out " + fx.url + " at main: dbt project not found: no dbt_project.yml in / at commit " +
				short + " of " + fx.url + ": check the source's `path`",
			permanent: true,
		},
		{
			name:   "PathIsFile",
			src:    Source{Repo: fx.url, Ref: "main", Path: "README.md"},
			wantIs: ErrProjectNotFound,
			wantMsg: "checking out " + fx.url + " at main: dbt project not found: path README.md is a file, not a folder, at commit " +
				short + " of " + fx.url + ": check the source's `path`",
			permanent: true,
		},
		{
			name:      "PathEscapesRepo",
			src:       Source{Repo: fx.url, Path: "../etc"},
			wantIs:    ErrInvalidSource,
			wantMsg:   "invalid git source: path \"../etc\": must stay inside the repository: check the source's `path`",
			permanent: true,
		},
		{
			name:      "InvalidRefName",
			src:       Source{Repo: fx.url, Ref: "../../config", Path: "dbt"},
			wantIs:    ErrInvalidSource,
			wantMsg:   "invalid git source: ref \"../../config\" is not a valid branch, tag or commit name: check the source's `ref`",
			permanent: true,
		},
		{
			name:      "UnsupportedScheme",
			src:       Source{Repo: "ftp://example.com/data.git", Origin: "dbt_projects.warehouse"},
			wantIs:    ErrInvalidSource,
			wantMsg:   "invalid git source: repo: unsupported scheme \"ftp\" (use https, ssh, git or file): check `repo` in dbt_projects.warehouse",
			permanent: true,
		},
		{
			name:   "TokenOnSSHURL",
			src:    Source{Repo: "git@github.com:acme/data.git", Token: "ghp_secret"},
			wantIs: ErrInvalidSource,
			wantMsg: "invalid git source: a token is set but git@github.com:acme/data.git is an SSH URL: " +
				"use an https:// URL with the token, or an SSH key: check the source's `repo`",
			permanent: true,
		},
		{
			name:   "MissingRepository",
			src:    Source{Repo: "file:///nonexistent/sluice/repo.git", Ref: "main"},
			wantIs: ErrRepoNotFound,
			wantMsg: "checking out file:///nonexistent/sluice/repo.git at main: fetching: repository not found " +
				"(or the credentials cannot read it): check the source's `repo`",
			permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			co, err := c.Checkout(context.Background(), tt.src)
			require.Nil(t, co)
			require.ErrorIs(t, err, tt.wantIs)
			require.Equal(t, tt.wantMsg, err.Error())
			require.Equal(t, tt.permanent, IsPermanent(err))
		})
	}
}

func TestCheckoutNetworkErrorIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	c := newCache(t)
	_, err = c.Checkout(context.Background(), Source{Repo: "http://" + addr + "/data.git", Ref: "main", Token: "tok-123"})
	require.Error(t, err)
	require.False(t, IsPermanent(err), "connection refused is worth retrying: %v", err)
	require.Contains(t, err.Error(), "connection refused")
	require.NotContains(t, err.Error(), "tok-123")
}

func TestCheckoutHonoursCancel(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Checkout(ctx, Source{Repo: fx.url, Ref: "main", Path: "dbt"})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, IsPermanent(err))
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	c := &Cache{} // local sources never touch the cache

	t.Run("PlainFolder", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "dbt_project.yml"), "name: x\n", 0o644)
		co, err := c.Checkout(context.Background(), Source{Path: dir})
		require.NoError(t, err)
		require.Equal(t, dir, co.Dir)
		require.Empty(t, co.Commit, "not a git repository")
		require.Empty(t, co.Ref)
		require.NoError(t, co.Cleanup())
		require.FileExists(t, filepath.Join(dir, "dbt_project.yml"), "Cleanup must not touch a local project")
	})
	t.Run("InsideGitRepository", func(t *testing.T) {
		t.Parallel()
		fx := newFixture(t)
		co, err := c.Checkout(context.Background(), Source{Path: filepath.Join(fx.work, "dbt")})
		require.NoError(t, err)
		require.Equal(t, filepath.Join(fx.work, "dbt"), co.Dir)
		require.Equal(t, fx.c2, co.Commit)
		require.Equal(t, "refs/heads/main", co.Ref)
	})
	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		_, err := c.Checkout(context.Background(), Source{Path: "/nonexistent/dbt", Origin: "dbt_projects.local"})
		require.ErrorIs(t, err, ErrProjectNotFound)
		require.True(t, IsPermanent(err))
		require.Equal(t, "dbt project not found: local folder /nonexistent/dbt does not exist: check `path` in dbt_projects.local", err.Error())
	})
	t.Run("NoProjectFile", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, err := c.Checkout(context.Background(), Source{Path: dir})
		require.ErrorIs(t, err, ErrProjectNotFound)
		require.Equal(t, "dbt project not found: no dbt_project.yml in "+dir+": check `path`", err.Error())
	})
	t.Run("RefWithoutRepo", func(t *testing.T) {
		t.Parallel()
		_, err := c.Checkout(context.Background(), Source{Path: t.TempDir(), Ref: "main"})
		require.ErrorIs(t, err, ErrInvalidSource)
		require.True(t, IsPermanent(err))
	})
}

func TestHealthyCacheIsReused(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t)
	checkout(t, c, Source{Repo: fx.url, Ref: "main", Path: "dbt"})
	dir := cacheDir(t, c, fx.url)
	before, err := os.Stat(dir)
	require.NoError(t, err)

	checkout(t, c, Source{Repo: fx.url, Ref: "feature", Path: "dbt"})
	after, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after), "a healthy cache must be fetched into, not cloned again")

	// The bare clone records the credential-free URL and mirrors branches and tags.
	repo, err := git.PlainOpen(dir)
	require.NoError(t, err)
	cfg, err := repo.Config()
	require.NoError(t, err)
	require.Equal(t, []string{fx.url}, cfg.Remotes["origin"].URLs)
	entries, err := os.ReadDir(c.Root)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{filepath.Base(dir), filepath.Base(dir[:len(dir)-len(".git")]) + ".lock"}, names)
}
