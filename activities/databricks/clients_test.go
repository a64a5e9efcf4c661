package databricks_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/activities/databricks/acttest"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
	"github.com/sluicedata/sluice/internal/secret"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// probe is a task activity that builds its environment's client twice and
// reads a file through it, so a test sees auth at work.
type probe struct {
	clients *adatabricks.Clients
	runner  *task.Runner
}

// ProbeResult says what the probe saw.
type ProbeResult struct {
	Host   string
	Same   bool
	Exists bool
}

func (p *probe) Probe(ctx context.Context, m task.Meta) (ProbeResult, error) {
	return task.Run(ctx, p.runner, m, func(ctx context.Context, at *task.Attempt) (ProbeResult, error) {
		c, err := p.clients.For(at, m.Target.Databricks)
		if err != nil {
			return ProbeResult{}, err
		}
		again, err := p.clients.For(at, m.Target.Databricks)
		if err != nil {
			return ProbeResult{}, err
		}
		_, ok, err := c.ReadFile(ctx, "/Volumes/olist/landing/raw/probe.txt")
		if err != nil {
			return ProbeResult{}, adatabricks.TaskError(ctx, err, nil)
		}
		return ProbeResult{Host: c.Host(), Same: c == again, Exists: ok}, nil
	})
}

func runProbe(t *testing.T, p *probe, m task.Meta) (ProbeResult, error) {
	t.Helper()
	env, _ := acttest.Env(t, p)
	val, err := env.ExecuteActivity(p.Probe, m)
	var res ProbeResult
	if err == nil {
		require.NoError(t, val.Get(&res))
	}
	return res, err
}

func secrets(kv map[string]string) *task.Runner {
	return &task.Runner{Secrets: &secret.Store{Getenv: func(k string) (string, bool) { v, ok := kv[k]; return v, ok }}}
}

func TestClients(t *testing.T) {
	t.Parallel()

	t.Run("PersonalAccessTokenFromASecret", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token))
		srv.PutFile("/Volumes/olist/landing/raw/probe.txt", []byte("x"))
		p := &probe{clients: acttest.Clients(), runner: acttest.Runner()}
		res, err := runProbe(t, p, acttest.Meta(srv.URL, "probe", "noop"))
		require.NoError(t, err)
		require.Equal(t, ProbeResult{Host: srv.URL, Same: true, Exists: true}, res)
		reqs := srv.RequestsTo(http.MethodGet, "/api/2.0/fs/files/*")
		require.Len(t, reqs, 1)
		require.Equal(t, "Bearer "+acttest.Token, reqs[0].Header.Get("Authorization"))
	})

	t.Run("OAuthMachineToMachineFromASecret", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithOAuthClient("sp-sluice", "sp-secret-value"))
		p := &probe{clients: acttest.Clients(), runner: secrets(map[string]string{"SP_SECRET": "sp-secret-value"})}
		m := acttest.Meta(srv.URL, "probe", "noop")
		m.Target.Databricks = &spec.DatabricksEnv{Host: srv.URL, ClientID: "sp-sluice", ClientSecret: "${secret:SP_SECRET}"}
		res, err := runProbe(t, p, m)
		require.NoError(t, err)
		require.False(t, res.Exists)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/oidc/v1/token"), 1)
		reqs := srv.RequestsTo(http.MethodGet, "/api/2.0/fs/files/*")
		require.Len(t, reqs, 1)
		require.True(t, strings.HasPrefix(reqs[0].Header.Get("Authorization"), "Bearer oauth-token-"), reqs[0].Header.Get("Authorization"))
	})

	t.Run("OneClientPerConfiguration", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token), databrickstest.WithToken("other-token"))
		clients := acttest.Clients()
		p := &probe{clients: clients, runner: secrets(map[string]string{"DBX_TOKEN": acttest.Token, "OTHER": "other-token"})}
		m := acttest.Meta(srv.URL, "probe", "noop")
		_, err := runProbe(t, p, m)
		require.NoError(t, err)
		m.Target.Databricks = &spec.DatabricksEnv{Host: srv.URL, Token: "${secret:OTHER}"}
		_, err = runProbe(t, p, m)
		require.NoError(t, err)
		reqs := srv.RequestsTo(http.MethodGet, "/api/2.0/fs/files/*")
		require.Equal(t, "Bearer other-token", reqs[1].Header.Get("Authorization"), "a rotated token gets its own client")
	})

	t.Run("HostOverrideReplacesTheEnvironmentsHost", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token))
		clients := acttest.Clients()
		clients.Host = srv.URL
		p := &probe{clients: clients, runner: acttest.Runner()}
		res, err := runProbe(t, p, acttest.Meta("https://adb-1234567890123456.7.azuredatabricks.net", "probe", "noop"))
		require.NoError(t, err)
		require.Equal(t, srv.URL, res.Host)
		require.Len(t, srv.RequestsTo(http.MethodGet, "/api/2.0/fs/files/*"), 1)
	})

	t.Run("BadTokenSaysWhatToCheck", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken(acttest.Token))
		p := &probe{clients: acttest.Clients(), runner: secrets(map[string]string{"DBX_TOKEN": "dapi-expired-token"})}
		_, err := runProbe(t, p, acttest.Meta(srv.URL, "probe", "noop"))
		typ, msg, f := acttest.Failure(t, err)
		require.Equal(t, "DatabricksUnauthenticated", typ)
		require.False(t, f.Retryable)
		require.Contains(t, msg, "authentication failed (HTTP 401 UNAUTHENTICATED: Invalid access token.): check the token, OAuth client id/secret or profile")
		require.NotContains(t, msg, "dapi-expired-token")
	})

	t.Run("MissingSecretIsReported", func(t *testing.T) {
		t.Parallel()
		p := &probe{clients: acttest.Clients(), runner: secrets(nil)}
		_, err := runProbe(t, p, acttest.Meta("http://127.0.0.1:1", "probe", "noop"))
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "SecretMissing", typ)
		require.Contains(t, msg, "DBX_TOKEN is not in the worker's environment")
	})

	t.Run("EnvironmentWithoutSettings", func(t *testing.T) {
		t.Parallel()
		p := &probe{clients: acttest.Clients(), runner: acttest.Runner()}
		m := acttest.Meta("", "probe", "noop")
		m.Target.Databricks = nil
		_, err := runProbe(t, p, m)
		typ, msg, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
		require.Equal(t, "environment prod has no databricks settings: add databricks: {host: ..., warehouse_id: ...} to environments.prod in sluice.yaml", msg)
	})

	t.Run("WorkerWithoutClients", func(t *testing.T) {
		t.Parallel()
		p := &probe{runner: acttest.Runner()}
		_, err := runProbe(t, p, acttest.Meta("http://127.0.0.1:1", "probe", "noop"))
		typ, _, _ := acttest.Failure(t, err)
		require.Equal(t, "ConfigInvalid", typ)
	})
}
