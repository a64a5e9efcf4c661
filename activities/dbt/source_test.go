package dbt

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluicedata/sluice/internal/gitsource/gittest"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/spec"
)

// gitRepo is a bare repository made with the git CLI holding a dbt project
// in dbt/, on branch main, with one commit.
type gitRepo struct {
	bare   string
	commit string
}

func newGitRepo(t *testing.T) gitRepo {
	t.Helper()
	bare, commit := gittest.BareRepo(t, "warehouse", map[string]string{
		"dbt/dbt_project.yml":   "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n",
		"dbt/models/orders.sql": "select 1 as id\n",
	})
	return gitRepo{bare: bare, commit: commit}
}

// serveHTTP serves the repository with the real `git http-backend` (smart
// HTTP) behind basic auth with one token.
func (r gitRepo) serveHTTP(t *testing.T, token string) string {
	t.Helper()
	backend := gittest.Backend(t, r.bare)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, pw, ok := req.BasicAuth(); !ok || pw != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(r.bare)
}

func TestGitSource(t *testing.T) {
	t.Parallel()
	repo := newGitRepo(t)

	t.Run("FileURL", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		m := f.meta(1)
		m.Target.DbtProjects["shop"] = spec.DbtProject{Repo: "file://" + repo.bare, Ref: "main", Path: "dbt"}
		out, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Commands: []string{"run"},
			Env: f.fake("FAKEDBT_LOG", runLog(t))}})
		require.NoError(t, err)
		require.Equal(t, repo.commit, out.Commit, "the commit dbt ran on is in the output")
		require.Equal(t, "refs/heads/main", out.Ref)
		call := f.calls()[0]
		dir := call.flag("--project-dir")[0]
		require.Equal(t, dir, call.Dir, "dbt runs in the checkout")
		require.Equal(t, "dbt", filepath.Base(dir))
		require.NotEqual(t, f.dbtDir, dir)
		require.NoDirExists(t, dir, "the private checkout is removed after the run")
		entries, err := os.ReadDir(f.acts.GitCache)
		require.NoError(t, err)
		require.NotEmpty(t, entries, "the bare clone stays in the cache for the next run")
	})

	t.Run("HTTPSTokenFromSecret", func(t *testing.T) {
		t.Parallel()
		const token = "ghp_T0kenForTheRepo"
		url := repo.serveHTTP(t, token)
		f := setup(t)
		f.secrets["GIT_TOKEN"] = token
		m := f.meta(1)
		m.Target.DbtProjects["shop"] = spec.DbtProject{Repo: url, Path: "dbt", Token: "${secret:GIT_TOKEN}"}
		out, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Commands: []string{"run"},
			Env: f.fake("FAKEDBT_LOG", runLog(t))}})
		require.NoError(t, err)
		require.Equal(t, repo.commit, out.Commit)
		require.Equal(t, "refs/heads/main", out.Ref, "no ref: the remote's default branch")
		require.Empty(t, grepTree(t, f.acts.GitCache, token), "the token is not written into the cache")
	})

	t.Run("WrongToken", func(t *testing.T) {
		t.Parallel()
		url := repo.serveHTTP(t, "the-right-one")
		f := setup(t)
		f.secrets["GIT_TOKEN"] = "ghp_Wr0ngT0ken"
		m := f.meta(1)
		m.Target.DbtProjects["shop"] = spec.DbtProject{Repo: url, Path: "dbt", Token: "${secret:GIT_TOKEN}"}
		_, err := f.run(RunInput{Meta: m, Config: spec.DbtConfig{Project: "shop", Env: f.fake()}})
		ae, fl := failure(t, err)
		require.Equal(t, ErrProjectSource, ae.Type())
		require.False(t, fl.Retryable, "bad credentials are not retried")
		require.Contains(t, ae.Message(), "authentication failed")
		require.Contains(t, ae.Message(), "check `token` in dbt_projects.shop")
		require.NotContains(t, ae.Message(), "ghp_Wr0ngT0ken")
		require.Empty(t, f.calls(), "dbt does not start")
	})

	t.Run("ConcurrentTasksShareTheCache", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		m := f.meta(1)
		m.Target.DbtProjects["shop"] = spec.DbtProject{Repo: "file://" + repo.bare, Ref: "main", Path: "dbt"}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		commits := make([]string, 4)
		for i := range errs {
			wg.Add(1)
			env := f.newEnv()
			go func() {
				defer wg.Done()
				mi := m
				mi.Task = "transform_" + string(rune('a'+i))
				val, err := env.ExecuteActivity(f.acts.RunDbt, RunInput{Meta: mi, Config: spec.DbtConfig{
					Project: "shop", Commands: []string{"run"}, Env: f.fake("FAKEDBT_LOG", runLog(t))}})
				errs[i] = err
				if err == nil {
					var out RunResult
					errs[i] = val.Get(&out)
					commits[i] = out.Commit
				}
			}()
		}
		wg.Wait()
		for i := range errs {
			require.NoError(t, errs[i])
			require.Equal(t, repo.commit, commits[i])
		}
		dirs := map[string]bool{}
		for _, c := range f.calls() {
			dirs[c.Dir] = true
		}
		require.Len(t, dirs, 4, "each task runs dbt in its own checkout")
	})
}
