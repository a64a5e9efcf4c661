// Package deploy checks the deployment files. No Docker engine runs in CI,
// so docker-compose.yml is loaded and validated with the Compose
// specification's own Go loader instead of being started.
package deploy

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
)

func load(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"}, cli.WithWorkingDirectory(".."), cli.WithName("sluice"))
	require.NoError(t, err)
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	require.NoError(t, err, "docker-compose.yml does not load")
	return p
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p := load(t)
	require.ElementsMatch(t, []string{"postgres", "temporal", "temporal-ui", "sluice-worker", "sluice-apply"}, p.ServiceNames())

	for _, s := range p.Services {
		if s.Image != "" && s.Build == nil && s.Name != "sluice-apply" {
			require.Regexp(t, regexp.MustCompile(`:[0-9][0-9.]*$`), s.Image, "%s: pin an exact image version", s.Name)
		}
	}
	require.Equal(t, "temporalio/auto-setup:1.29.1", p.Services["temporal"].Image, "the server version the dev server and tests use")
	require.Equal(t, "temporalio/ui:2.42.1", p.Services["temporal-ui"].Image)

	w := p.Services["sluice-worker"]
	require.NotNil(t, w.Build, "the worker is built from the repository's Dockerfile")
	require.Equal(t, "temporal:7233", *w.Environment["TEMPORAL_ADDRESS"])
	require.True(t, strings.HasPrefix(*w.Environment["DATABASE_URL"], "postgres://postgres:postgres@postgres:5432/sluice"))
	require.Contains(t, w.Environment, "SLUICE_WAREHOUSE_URL")
	require.Equal(t, types.ServiceConditionHealthy, w.DependsOn["temporal"].Condition)
	require.Equal(t, types.ServiceConditionHealthy, w.DependsOn["postgres"].Condition)
	require.Equal(t, []string{"--project", "/project"}, []string(w.Command))

	a := p.Services["sluice-apply"]
	require.Equal(t, "sluice:dev", a.Image, "apply runs the image the worker service builds")
	require.Equal(t, []string{"apply", "--project", "/project", "--env", "local"}, []string(a.Command), "this host runs the local environment only")
	require.Equal(t, "no", a.Restart, "apply is a one-shot job")

	for _, name := range []string{"postgres", "temporal"} {
		require.NotNil(t, p.Services[name].HealthCheck, "%s needs a healthcheck for depends_on conditions", name)
	}
	require.Equal(t, "temporal:7233", *p.Services["temporal-ui"].Environment["TEMPORAL_ADDRESS"])
}

func TestDockerfileBuildsBothBinaries(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	s := string(b)
	require.Contains(t, s, "go build -trimpath -o /out/sluice-worker ./worker")
	require.Contains(t, s, "go build -trimpath -o /out/sluice ./starter")
	require.Regexp(t, `FROM golang:1\.26 AS build`, s, "build with the module's Go version")
}
