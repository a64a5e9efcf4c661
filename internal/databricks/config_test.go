package databricks_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/databricks/databrickstest"
)

// skipIfDatabricksEnv skips tests whose auth outcome the process environment
// could change (they cannot use t.Setenv and stay parallel).
func skipIfDatabricksEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DATABRICKS_") {
			t.Skipf("%s is set in the environment; this test needs a clean one", strings.SplitN(kv, "=", 2)[0])
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()

	t.Run("PersonalAccessToken", func(t *testing.T) {
		t.Parallel()
		c, srv := setup(t)
		srv.AddPipeline("p-1", "olist_main")
		_, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)
		for _, r := range srv.RequestsTo("", "/api/*") {
			require.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"), r.Path)
		}
	})

	t.Run("WrongTokenIsPermanent", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken("the-right-one"))
		srv.AddJob(42, "nightly")
		c, err := databricks.New(testConfig(srv.URL))
		require.NoError(t, err)
		_, err = c.RunJob(context.Background(), databricks.JobRequest{JobName: "nightly", IdempotencyToken: "t"}, nil, nil)
		require.Equal(t, databricks.KindUnauthenticated, databricks.KindOf(err))
		require.True(t, databricks.IsPermanent(err))
		require.EqualError(t, err, fmt.Sprintf(`looking up job "nightly" in workspace %s: authentication failed `+
			`(HTTP 401 UNAUTHENTICATED: Invalid access token.): check the token, OAuth client id/secret or profile configured for this environment`, srv.URL))
		require.Len(t, srv.APIRequests(), 1)
		require.NotContains(t, err.Error(), testToken)
	})

	t.Run("OAuthMachineToMachine", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithOAuthClient("sp-sluice", "sp-secret"))
		srv.AddPipeline("p-1", "olist_main")
		cfg := testConfig(srv.URL)
		cfg.Token = ""
		cfg.ClientID, cfg.ClientSecret = "sp-sluice", "sp-secret"
		c, err := databricks.New(cfg)
		require.NoError(t, err)
		res, err := c.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineName: "olist_main"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", res.State)
		require.Len(t, srv.RequestsTo(http.MethodPost, "/oidc/v1/token"), 1)
		for _, r := range srv.RequestsTo("", "/api/*") {
			require.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer oauth-token-"), r.Path)
		}
	})

	t.Run("ProfileFromConfigFileExplicitValuesWin", func(t *testing.T) {
		t.Parallel()
		srv := databrickstest.New(t, databrickstest.WithToken("explicit-token"))
		srv.AddPipeline("p-1", "olist_main")
		cfgFile := filepath.Join(t.TempDir(), "databrickscfg")
		require.NoError(t, os.WriteFile(cfgFile, fmt.Appendf(nil,
			"[DEFAULT]\nhost = https://wrong.example.com\n\n[dev]\nhost = %s\ntoken = profile-token\nwarehouse_id = wh-from-profile\n", srv.URL), 0o600))

		fromProfile, err := databricks.New(databricks.Config{Profile: "dev", ConfigFile: cfgFile, RateLimitPerSecond: 1000})
		require.NoError(t, err)
		require.Equal(t, srv.URL, fromProfile.Host())
		_, err = fromProfile.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.Equal(t, databricks.KindUnauthenticated, databricks.KindOf(err), "the profile's token is not the one the workspace accepts")

		explicit, err := databricks.New(databricks.Config{Profile: "dev", ConfigFile: cfgFile, Token: "explicit-token",
			PollMinInterval: time.Millisecond, PollMaxInterval: time.Millisecond, RateLimitPerSecond: 1000})
		require.NoError(t, err)
		_, err = explicit.RunUpdate(context.Background(), databricks.UpdateRequest{PipelineID: "p-1"}, nil, nil)
		require.NoError(t, err)

		_, err = explicit.ExecuteStatement(context.Background(), databricks.StatementRequest{Statement: "SELECT 1"}, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "wh-from-profile", srv.Statements()[0].Call.WarehouseID)
	})

	t.Run("UnknownProfile", func(t *testing.T) {
		t.Parallel()
		cfgFile := filepath.Join(t.TempDir(), "databrickscfg")
		require.NoError(t, os.WriteFile(cfgFile, []byte("[dev]\nhost = https://x.example.com\ntoken = t\n"), 0o600))
		_, err := databricks.New(databricks.Config{Profile: "prod", ConfigFile: cfgFile})
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.Contains(t, err.Error(), `loading Databricks configuration (profile "prod"): resolve: `+cfgFile+` has no prod profile configured`)
	})

	t.Run("NoHost", func(t *testing.T) {
		t.Parallel()
		skipIfDatabricksEnv(t)
		cfgFile := filepath.Join(t.TempDir(), "empty.cfg")
		require.NoError(t, os.WriteFile(cfgFile, nil, 0o600))
		_, err := databricks.New(databricks.Config{Token: "t", ConfigFile: cfgFile})
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.EqualError(t, err, "loading Databricks configuration (no profile): no workspace host: set host in the environment's "+
			"databricks settings, DATABRICKS_HOST, or a profile with a host")
	})

	t.Run("NoCredentialsIsPermanent", func(t *testing.T) {
		t.Parallel()
		skipIfDatabricksEnv(t)
		srv := databrickstest.New(t)
		srv.AddJob(42, "nightly")
		cfgFile := filepath.Join(t.TempDir(), "empty.cfg")
		require.NoError(t, os.WriteFile(cfgFile, nil, 0o600))
		cfg := testConfig(srv.URL)
		cfg.Token, cfg.ConfigFile = "", cfgFile
		c, err := databricks.New(cfg)
		require.NoError(t, err)
		_, err = c.RunJob(context.Background(), databricks.JobRequest{JobID: 42, IdempotencyToken: "t"}, nil, nil)
		require.Equal(t, databricks.KindUnauthenticated, databricks.KindOf(err))
		require.Empty(t, srv.APIRequests())
	})
}

func TestConfig(t *testing.T) {
	t.Parallel()

	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		cfg := databricks.Config{}.WithDefaults()
		require.Equal(t, 60*time.Second, cfg.HTTPTimeout)
		require.Equal(t, 5*time.Minute, cfg.RetryTimeout)
		require.Equal(t, 2*time.Second, cfg.PollMinInterval)
		require.Equal(t, 30*time.Second, cfg.PollMaxInterval)
		require.Equal(t, 10*time.Second, cfg.StatementWaitTimeout)
		require.Equal(t, 15, cfg.RateLimitPerSecond)
	})

	t.Run("ValidationNamesFieldAndFix", func(t *testing.T) {
		t.Parallel()
		_, err := databricks.New(databricks.Config{Host: "https://x.example.com", Token: "t",
			PollMinInterval: time.Minute, PollMaxInterval: time.Second, StatementWaitTimeout: 60 * time.Second, ClientID: "id"})
		require.Equal(t, databricks.KindInvalid, databricks.KindOf(err))
		require.True(t, databricks.IsPermanent(err))
		require.EqualError(t, err, "databricks config: PollMinInterval (1m0s) exceeds PollMaxInterval (1s): lower it\n"+
			"databricks config: StatementWaitTimeout is 1m0s: Databricks accepts 0 or whole seconds from 5s to 50s\n"+
			"databricks config: ClientID/ClientSecret must be set together for OAuth machine-to-machine auth")
	})

	t.Run("SecretsMasked", func(t *testing.T) {
		t.Parallel()
		cfg := databricks.Config{Host: "https://x.example.com", Token: "dapi-secret", ClientID: "sp", ClientSecret: "sp-secret"}
		for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.LogValue().String()} {
			require.NotContains(t, s, "dapi-secret")
			require.NotContains(t, s, "sp-secret")
			require.Contains(t, s, "https://x.example.com")
		}
	})
}
