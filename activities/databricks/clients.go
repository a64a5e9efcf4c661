package databricks

import (
	"fmt"
	"sync"

	"github.com/sluicedata/sluice/internal/databricks"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

// Clients builds the workspace client of each databricks environment and
// keeps one per resolved configuration, so name lookups (pipelines, jobs)
// and connections are shared by every task of that environment. It is safe
// for concurrent use; the zero value is ready.
type Clients struct {
	// Tuning is applied to every client: HTTPTimeout, RetryTimeout,
	// RetryMinBackoff/RetryMaxBackoff, PollMinInterval/PollMaxInterval,
	// StatementWaitTimeout, CancelTimeout, ClockSkew, RateLimitPerSecond,
	// Transport and ConfigFile. Zero fields take the library's defaults; the
	// connection and credential fields are ignored (they come from each
	// environment).
	Tuning databricks.Config
	// Host, when set, replaces the host of every databricks environment: a
	// proxy in front of the workspace, or a test workspace. Default: each
	// environment's host (or the SDK's DATABRICKS_HOST / profile).
	Host string

	mu      sync.Mutex
	clients map[clientKey]*databricks.Client
}

// clientKey is a resolved environment configuration. It holds secret values,
// in memory only.
type clientKey struct {
	host, profile, token, clientID, clientSecret, warehouseID string
}

// For returns the client of the run's environment. Every field of env may
// hold ${secret:NAME} references (token and client_secret should); they
// are resolved here through at, which scrubs their values from everything
// the attempt reports. An unusable configuration is a permanent error
// naming the environment.
func (c *Clients) For(at *task.Attempt, env *spec.DatabricksEnv) (*databricks.Client, error) {
	name := at.Meta.Env
	if c == nil {
		return nil, task.Permanent(task.ErrConfig, "environment %s uses engine databricks, which this worker was built without: run a worker whose Dependencies include Databricks clients", name)
	}
	if env == nil {
		return nil, task.Permanent(task.ErrConfig,
			"environment %s has no databricks settings: add databricks: {host: ..., warehouse_id: ...} to environments.%s in %s",
			name, name, spec.ProjectFile)
	}
	var key clientKey
	for _, f := range []struct {
		field string
		in    string
		out   *string
	}{
		{"host", env.Host, &key.host}, {"profile", env.Profile, &key.profile}, {"token", env.Token, &key.token},
		{"client_id", env.ClientID, &key.clientID}, {"client_secret", env.ClientSecret, &key.clientSecret},
		{"warehouse_id", env.WarehouseID, &key.warehouseID},
	} {
		v, err := at.Resolve(f.in)
		if err != nil {
			return nil, fmt.Errorf("environments.%s.databricks.%s: %w", name, f.field, err)
		}
		*f.out = v
	}
	if c.Host != "" {
		key.host = c.Host
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[key]; ok {
		return cl, nil
	}
	cfg := c.Tuning
	cfg.Host, cfg.Profile, cfg.Token = key.host, key.profile, key.token
	cfg.ClientID, cfg.ClientSecret, cfg.WarehouseID = key.clientID, key.clientSecret, key.warehouseID
	cfg.AccountID, cfg.Catalog, cfg.Schema = "", "", ""
	cl, err := databricks.New(cfg)
	if err != nil {
		return nil, task.Permanent(task.ErrConfig, "environment %s: %v", name, at.Scrub(err.Error())).WithCause(err)
	}
	if c.clients == nil {
		c.clients = map[clientKey]*databricks.Client{}
	}
	c.clients[key] = cl
	return cl, nil
}
