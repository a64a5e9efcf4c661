package databricks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/databricks/databricks-sdk-go/client"
	"github.com/databricks/databricks-sdk-go/config"
	"github.com/databricks/databricks-sdk-go/httpclient"
	"github.com/databricks/databricks-sdk-go/service/files"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// Config is one environment's workspace connection. Secrets arrive already
// resolved; String and LogValue mask them.
//
// Authentication follows the SDK's standard chain: values set here win, then
// DATABRICKS_* environment variables, then the profile in ~/.databrickscfg
// (or ConfigFile). Token selects a personal access token; ClientID and
// ClientSecret select OAuth machine-to-machine.
type Config struct {
	// Host is the workspace URL, e.g. https://adb-123.4.azuredatabricks.net.
	// Default: DATABRICKS_HOST or the profile's host.
	Host string
	// Token is a personal access token. Default: DATABRICKS_TOKEN or profile.
	Token string
	// Profile names a section of the config file. Default: none (DEFAULT).
	Profile string
	// ConfigFile is the config file path. Default: ~/.databrickscfg.
	ConfigFile string
	// ClientID and ClientSecret are a service principal's OAuth credentials.
	ClientID     string
	ClientSecret string
	// AccountID is the account, for account-level hosts. Default: none.
	AccountID string
	// WarehouseID is the SQL warehouse statements run on unless a request
	// names another. Default: DATABRICKS_WAREHOUSE_ID or the profile's.
	WarehouseID string
	// Catalog and Schema are the default namespace of statements.
	Catalog string
	Schema  string

	// HTTPTimeout bounds one API request (uploads: inactivity). Default 60s.
	HTTPTimeout time.Duration
	// RetryTimeout is how long one call keeps retrying transient errors
	// before giving up with KindTransient. Default 5m.
	RetryTimeout time.Duration
	// RetryMinBackoff and RetryMaxBackoff bound the wait between retries.
	// Defaults 1s and 30s.
	RetryMinBackoff time.Duration
	RetryMaxBackoff time.Duration
	// PollMinInterval and PollMaxInterval bound the wait between status
	// polls; the interval grows while nothing changes. Keep the maximum below
	// the activity heartbeat timeout. Defaults 2s and 30s.
	PollMinInterval time.Duration
	PollMaxInterval time.Duration
	// StatementWaitTimeout is wait_timeout of statement execution: 0 or
	// 5s..50s. Default 10s.
	StatementWaitTimeout time.Duration
	// CancelTimeout bounds stopping external work after ctx is cancelled.
	// Default 30s.
	CancelTimeout time.Duration
	// ClockSkew is the tolerance when matching an update's server-side
	// creation time to our start time. Default 2m.
	ClockSkew time.Duration
	// RateLimitPerSecond caps requests per second. Default 15 (the SDK's).
	RateLimitPerSecond int
	// Transport overrides the HTTP transport (proxies, tests). Default: the SDK's.
	Transport http.RoundTripper
}

// WithDefaults returns c with every unset tunable at its documented default.
func (c Config) WithDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.HTTPTimeout, 60*time.Second)
	def(&c.RetryTimeout, 5*time.Minute)
	def(&c.RetryMinBackoff, time.Second)
	def(&c.RetryMaxBackoff, 30*time.Second)
	def(&c.PollMinInterval, 2*time.Second)
	def(&c.PollMaxInterval, 30*time.Second)
	def(&c.StatementWaitTimeout, 10*time.Second)
	def(&c.CancelTimeout, 30*time.Second)
	def(&c.ClockSkew, 2*time.Minute)
	if c.RateLimitPerSecond == 0 {
		c.RateLimitPerSecond = 15
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	bad := func(field, fix string) { errs = append(errs, fmt.Errorf("databricks config: %s %s", field, fix)) }
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"HTTPTimeout", c.HTTPTimeout}, {"RetryTimeout", c.RetryTimeout},
		{"RetryMinBackoff", c.RetryMinBackoff}, {"RetryMaxBackoff", c.RetryMaxBackoff},
		{"PollMinInterval", c.PollMinInterval}, {"PollMaxInterval", c.PollMaxInterval},
		{"CancelTimeout", c.CancelTimeout}, {"ClockSkew", c.ClockSkew},
	} {
		if d.v < 0 {
			bad(d.name, fmt.Sprintf("is %s: use a positive duration", d.v))
		}
	}
	if c.RetryMinBackoff > c.RetryMaxBackoff {
		bad("RetryMinBackoff", fmt.Sprintf("(%s) exceeds RetryMaxBackoff (%s): lower it", c.RetryMinBackoff, c.RetryMaxBackoff))
	}
	if c.PollMinInterval > c.PollMaxInterval {
		bad("PollMinInterval", fmt.Sprintf("(%s) exceeds PollMaxInterval (%s): lower it", c.PollMinInterval, c.PollMaxInterval))
	}
	if w := c.StatementWaitTimeout; w < 0 || w > 0 && (w < 5*time.Second || w > 50*time.Second) || w%time.Second != 0 {
		bad("StatementWaitTimeout", fmt.Sprintf("is %s: Databricks accepts 0 or whole seconds from 5s to 50s", w))
	}
	if (c.ClientID == "") != (c.ClientSecret == "") {
		bad("ClientID/ClientSecret", "must be set together for OAuth machine-to-machine auth")
	}
	if c.RateLimitPerSecond < 0 {
		bad("RateLimitPerSecond", "is negative: use a positive number")
	}
	return errors.Join(errs...)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// String describes c with secrets masked.
func (c Config) String() string {
	return fmt.Sprintf("databricks.Config{Host:%q Profile:%q ConfigFile:%q Token:%q ClientID:%q ClientSecret:%q WarehouseID:%q Catalog:%q Schema:%q}",
		c.Host, c.Profile, c.ConfigFile, mask(c.Token), c.ClientID, mask(c.ClientSecret), c.WarehouseID, c.Catalog, c.Schema)
}

// GoString masks secrets under %#v too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.String("profile", c.Profile),
		slog.String("token", mask(c.Token)), slog.String("client_id", c.ClientID),
		slog.String("client_secret", mask(c.ClientSecret)), slog.String("warehouse_id", c.WarehouseID),
		slog.String("catalog", c.Catalog), slog.String("schema", c.Schema),
	)
}

// Services are the SDK services a Client uses, as small interfaces so tests
// can also fake at this level.
type Services struct {
	Pipelines  PipelinesAPI
	Jobs       JobsAPI
	Statements StatementsAPI
	Files      FilesAPI
}

// Client runs Databricks work for one environment. It is safe for
// concurrent use.
type Client struct {
	cfg  Config
	host string
	svc  Services
	now  func() time.Time

	mu          sync.Mutex
	pipelineIDs map[string]string // pipeline name -> id
	jobIDs      map[string]int64  // job name -> id
}

// New resolves cfg through the SDK's auth chain and returns a Client. It
// makes at most one network call (the host's metadata discovery, bounded
// by HTTPTimeout); credentials are checked on first use.
func New(cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, &Error{Kind: KindInvalid, Message: err.Error(), Err: err, described: true}
	}
	sdkCfg := &config.Config{
		Host:                cfg.Host,
		Token:               cfg.Token,
		Profile:             cfg.Profile,
		ConfigFile:          cfg.ConfigFile,
		ClientID:            cfg.ClientID,
		ClientSecret:        cfg.ClientSecret,
		AccountID:           cfg.AccountID,
		WarehouseID:         cfg.WarehouseID,
		HTTPTimeoutSeconds:  ceilSeconds(cfg.HTTPTimeout),
		RetryTimeoutSeconds: ceilSeconds(cfg.RetryTimeout),
		RateLimitPerSecond:  cfg.RateLimitPerSecond,
		HTTPTransport:       outcomeTransport{base: transport(cfg)},
	}
	// Explicit credentials win over whatever the environment adds.
	switch {
	case cfg.Token != "":
		sdkCfg.AuthType = "pat"
	case cfg.ClientID != "":
		sdkCfg.AuthType = "oauth-m2m"
	}
	sdkCfg.HostMetadataResolver = func(ctx context.Context, host string) (*config.HostMetadata, error) {
		ctx, cancel := context.WithTimeout(ctx, cfg.HTTPTimeout)
		defer cancel()
		return sdkCfg.DefaultHostMetadataResolver()(ctx, host)
	}
	if err := sdkCfg.EnsureResolved(); err != nil {
		return nil, &Error{Kind: KindInvalid, Err: err, Message: fmt.Sprintf(
			"loading Databricks configuration (%s): %v: check the environment's databricks settings, DATABRICKS_* variables and the config file",
			profileHint(cfg), err)}
	}
	if sdkCfg.Host == "" {
		return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf(
			"loading Databricks configuration (%s): no workspace host: set host in the environment's databricks settings, DATABRICKS_HOST, or a profile with a host",
			profileHint(cfg))}
	}
	httpCfg, err := config.HTTPClientConfigFromConfig(sdkCfg)
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Err: err, Message: fmt.Sprintf("configuring the Databricks HTTP client: %v", err)}
	}
	// Retries are ours: the SDK would repeat a POST after a 503/504 without
	// knowing whether it took effect. It still retries dropped connections.
	httpCfg.ErrorRetriable = func(context.Context, error) bool { return false }
	httpCfg.TransientErrors = nil
	dbc, err := client.NewWithClient(sdkCfg, httpclient.NewApiClient(httpCfg))
	if err != nil {
		return nil, &Error{Kind: KindInvalid, Err: err, Message: fmt.Sprintf("creating the Databricks client: %v", err)}
	}
	if cfg.WarehouseID == "" {
		cfg.WarehouseID = sdkCfg.WarehouseID
	}
	cfg.Host = sdkCfg.CanonicalHostName()
	return NewWithServices(cfg, Services{
		Pipelines:  sdkPipelines{PipelinesAPI: pipelines.NewPipelines(dbc), dbc: dbc},
		Jobs:       sdkJobs{JobsAPI: jobs.NewJobs(dbc)},
		Statements: sdkStatements{dbc: dbc},
		Files:      files.NewFiles(dbc),
	})
}

// NewWithServices returns a Client over the given services, for tests that
// fake at the service level. cfg.Host is used for links and messages.
func NewWithServices(cfg Config, svc Services) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, &Error{Kind: KindInvalid, Message: err.Error(), Err: err, described: true}
	}
	return &Client{
		cfg:         cfg,
		host:        strings.TrimRight(cfg.Host, "/"),
		svc:         svc,
		now:         time.Now,
		pipelineIDs: map[string]string{},
		jobIDs:      map[string]int64{},
	}, nil
}

// Host is the resolved workspace URL.
func (c *Client) Host() string { return c.host }

func transport(cfg Config) http.RoundTripper {
	if cfg.Transport != nil {
		return cfg.Transport
	}
	return http.DefaultTransport
}

func profileHint(cfg Config) string {
	if cfg.Profile != "" {
		return fmt.Sprintf("profile %q", cfg.Profile)
	}
	return "no profile"
}

func ceilSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
