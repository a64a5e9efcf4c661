package gitsource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/sluicedata/sluice/internal/gitsource/gittest"

	"github.com/go-git/go-git/v5"

	"github.com/stretchr/testify/require"
)

// gitHTTPServer serves fx's bare repository with the real `git http-backend`
// (smart HTTP) behind basic auth: users maps a user to its token; a user
// listed in forbidden authenticates but gets 403.
func gitHTTPServer(t *testing.T, fx *fixture, users map[string]string, forbidden string) string {
	t.Helper()
	backend := gittest.Backend(t, fx.bare)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, token, ok := r.BasicAuth()
		if !ok || users[user] == "" || users[user] != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		if user == forbidden {
			http.Error(w, "no access to this repository", http.StatusForbidden)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(fx.bare)
}

func TestHTTPTokenAuth(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	const (
		goodToken  = "ghp_G00dT0ken+/="
		wrongToken = "ghp_Wr0ngT0ken"
		aliceToken = "alice-s3cret"
		bobToken   = "bob-s3cret"
	)
	repoURL := gitHTTPServer(t, fx, map[string]string{
		"x-access-token": goodToken, "alice": aliceToken, "bob": bobToken,
	}, "bob")
	c := newCache(t)

	t.Run("Checkouts", func(t *testing.T) {
		t.Run("RightToken", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Ref: "v1.0", Path: "dbt", Token: goodToken})
			require.Equal(t, fx.c1, co.Commit)
			require.Equal(t, "select 1 as v\n", readFile(t, filepath.Join(co.Dir, "models", "orders.sql")))
		})
		t.Run("DefaultBranchOverHTTP", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Path: "dbt", Token: goodToken})
			require.Equal(t, fx.c2, co.Commit)
			require.Equal(t, "refs/heads/main", co.Ref)
		})
		t.Run("User", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Ref: "feature", Path: "dbt", User: "alice", Token: aliceToken})
			require.Equal(t, fx.c3, co.Commit)
		})
		t.Run("TokenInURL", func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(repoURL)
			require.NoError(t, err)
			u.User = url.UserPassword("x-access-token", goodToken)
			co := checkout(t, c, Source{Repo: u.String(), Ref: "main", Path: "dbt"})
			require.Equal(t, fx.c2, co.Commit)
		})
		t.Run("WrongToken", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{
				Repo: repoURL, Ref: "main", Path: "dbt", Token: wrongToken, Origin: "dbt_projects.warehouse",
			})
			require.ErrorIs(t, err, ErrAuth)
			require.True(t, IsPermanent(err))
			require.Equal(t, "checking out "+repoURL+" at main: fetching: authentication failed "+
				"(authentication required: bad credentials): check `token` in dbt_projects.warehouse "+
				"(it needs read access to the repository)", err.Error())
		})
		t.Run("WrongTokenInURL", func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(repoURL)
			require.NoError(t, err)
			u.User = url.UserPassword("x-access-token", wrongToken)
			_, err = c.Checkout(context.Background(), Source{Repo: u.String(), Path: "dbt"})
			require.ErrorIs(t, err, ErrAuth)
			require.NotContains(t, err.Error(), wrongToken)
			require.Contains(t, err.Error(), "checking out "+repoURL+": listing refs: authentication failed")
		})
		t.Run("NoToken", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, Ref: "main", Path: "dbt"})
			require.ErrorIs(t, err, ErrAuth)
			require.Contains(t, err.Error(), "the repository needs credentials: set the source's `token`")
		})
		t.Run("Forbidden", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, Ref: "main", Path: "dbt", User: "bob", Token: bobToken})
			require.ErrorIs(t, err, ErrAuth)
			require.True(t, IsPermanent(err))
			require.Contains(t, err.Error(), "authorization failed: no access to this repository")
			require.NotContains(t, err.Error(), bobToken)
		})
		t.Run("NotFound", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL + "-missing", Ref: "main", Token: goodToken})
			require.ErrorIs(t, err, ErrRepoNotFound)
			require.True(t, IsPermanent(err))
		})

	})

	// Nothing under Root (bare clone config, refs, lock files) holds a token.
	requireNoSecretUnder(t, c.Root, goodToken, wrongToken, aliceToken, bobToken)

	t.Run("FirstCloneWithTokenInURL", func(t *testing.T) {
		c := newCache(t)
		u, err := url.Parse(repoURL)
		require.NoError(t, err)
		u.User = url.UserPassword("x-access-token", goodToken)
		checkout(t, c, Source{Repo: u.String(), Ref: "main", Path: "dbt"})

		repo, err := git.PlainOpen(cacheDir(t, c, repoURL))
		require.NoError(t, err)
		cfg, err := repo.Config()
		require.NoError(t, err)
		require.Equal(t, []string{repoURL}, cfg.Remotes["origin"].URLs)
		requireNoSecretUnder(t, c.Root, goodToken)
	})
}
