package dbt

import (
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not found in PATH: the test builds its repository with it, and go-git serves file:// through git-upload-pack")
	}
	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "warehouse.git")
	git := func(dir string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
			"GIT_AUTHOR_NAME=Sluice Test", "GIT_AUTHOR_EMAIL=test@example.com",
			"GIT_COMMITTER_NAME=Sluice Test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git(base, "init", "-q", "-b", "main", work)
	writeFile(t, filepath.Join(work, "dbt", "dbt_project.yml"), "name: jaffle_shop\nversion: '1.0'\nconfig-version: 2\nprofile: jaffle_shop\n")
	writeFile(t, filepath.Join(work, "dbt", "models", "orders.sql"), "select 1 as id\n")
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "dbt project")
	git(base, "clone", "-q", "--bare", work, bare)
	return gitRepo{bare: bare, commit: git(work, "rev-parse", "HEAD")}
}

// serveHTTP serves the repository with the real `git http-backend` (smart
// HTTP) behind basic auth with one token.
func (r gitRepo) serveHTTP(t *testing.T, token string) string {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	require.NoError(t, err)
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Stderr: io.Discard, Env: []string{
		"GIT_PROJECT_ROOT=" + filepath.Dir(r.bare), "GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
	}}
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
