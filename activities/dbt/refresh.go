package dbt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	idbt "github.com/sluicedata/sluice/internal/dbt"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/store"
	"github.com/sluicedata/sluice/internal/task"
)

// RefreshTimeout bounds one RefreshProject attempt (checkout and dbt parse).
const RefreshTimeout = spec.Duration(30 * time.Minute)

// MaxModels caps the models a RefreshResult carries; ModelCount has the
// real number and the store has them all.
const MaxModels = 1000

// RefreshInput names the dbt project whose manifest to refresh.
type RefreshInput struct {
	Project string `json:"project"`       // name in sluice.yaml dbt_projects
	Env     string `json:"env,omitempty"` // default: the project's default environment
	// Attempt numbers the workflow's attempts (default 1); each keeps its
	// artifacts in its own folder.
	Attempt int `json:"attempt,omitempty"`
}

// RefreshResult is a refreshed manifest: where it was parsed and its models.
type RefreshResult struct {
	Project       string          `json:"project"`
	Env           string          `json:"env"`
	Commit        string          `json:"commit,omitempty"`
	Ref           string          `json:"ref,omitempty"`
	DbtVersion    string          `json:"dbt_version,omitempty"`
	SchemaVersion int             `json:"schema_version"`
	ManifestID    int64           `json:"manifest_id"`
	ManifestURI   string          `json:"manifest_uri,omitempty"`
	LogURI        string          `json:"log_uri,omitempty"`
	Models        []store.DbtNode `json:"models"`
	ModelCount    int             `json:"model_count"`
	NodeCount     int             `json:"node_count"`
}

// RefreshProject checks a dbt project out as the environment's dbt tasks
// would, runs `dbt parse` with the generated profile, stores manifest.json
// with the commit and the node list in run history, and returns the models.
func (a *Activities) RefreshProject(ctx context.Context, in RefreshInput) (RefreshResult, error) {
	meta := task.Meta{Task: "dbt-refresh-" + in.Project, Type: "dbt_refresh", Timeout: RefreshTimeout, Attempt: max(in.Attempt, 1)}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		meta.WorkflowID, meta.RunID = info.WorkflowExecution.ID, info.WorkflowExecution.RunID
	}
	return task.Run(ctx, a.Runner, meta, func(ctx context.Context, at *task.Attempt) (RefreshResult, error) {
		return a.refresh(ctx, at, in)
	})
}

func (a *Activities) refresh(ctx context.Context, at *task.Attempt, in RefreshInput) (RefreshResult, error) {
	out := RefreshResult{Project: in.Project}
	p, err := spec.Load(a.ProjectDir)
	if err != nil {
		return out, task.Permanent(task.ErrConfig, "loading the project in %s: %v", a.ProjectDir, err)
	}
	def, ok := p.Config.DbtProjects[in.Project]
	if !ok {
		known := sortedKeys(p.Config.DbtProjects)
		hint := "sluice.yaml has no dbt_projects"
		if len(known) > 0 {
			hint = "known: " + strings.Join(known, ", ")
		}
		return out, task.Permanent(task.ErrConfig, "unknown dbt project %q in %s dbt_projects (%s)", in.Project, filepath.Join(p.Dir, spec.ProjectFile), hint)
	}
	t, err := p.EnvTarget(in.Env, a.getenv)
	if err != nil {
		return out, task.Permanent(task.ErrConfig, "%v", err)
	}
	out.Env = t.Env
	at.Meta.Project, at.Meta.Env, at.Meta.Target = p.Config.Project, t.Env, t
	if at.Meta.WorkflowID == "" {
		at.Meta.WorkflowID = "dbt-refresh"
	}

	dir, err := a.attemptDir(ctx, at.Meta)
	if err != nil {
		return out, task.Transient(ErrArtifacts, "%v", err)
	}
	at.Progress("checking out %s", in.Project)
	inv, err := a.prepare(ctx, at, invocationSpec{meta: at.Meta, project: in.Project, def: def})
	if err != nil {
		return out, err
	}
	defer inv.cleanup()
	out.Commit, out.Ref = inv.commit, inv.ref

	cdir := filepath.Join(dir, "01_parse")
	opts := idbt.Options{
		Executable: inv.executable, RequiredVersion: def.DbtVersion,
		ProjectDir: inv.projectDir, ProfilesDir: inv.profilesDir,
		Commands: []string{"parse"}, Env: inv.env, Secrets: inv.secrets, Grace: a.Grace,
		OnProgress: func(pr idbt.Progress) { at.Progress("%s", progressLine("dbt parse", pr)) },
	}
	res, err := runOne(ctx, opts, dir, cdir)
	out.DbtVersion = res.Version
	logFile := filepath.Join(cdir, "dbt_log.jsonl")
	if _, statErr := os.Stat(logFile); statErr == nil {
		out.LogURI = fileURI(logFile)
	}
	if err != nil {
		return out, a.failure(ctx, in.Project, inv, RunResult{LogURI: out.LogURI, ArtifactsURI: fileURI(dir) + "/"}, err)
	}

	manifestFile := filepath.Join(cdir, "manifest.json")
	raw, err := os.ReadFile(manifestFile)
	if errors.Is(err, os.ErrNotExist) {
		return out, task.Permanent(ErrManifest, "dbt parse of %s wrote no target/manifest.json: check that the dbt executable is dbt Core 1.0 or later", in.Project)
	}
	if err != nil {
		return out, task.Transient(ErrArtifacts, "reading %s: %v", manifestFile, err)
	}
	m, err := idbt.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return out, task.Permanent(ErrManifest, "dbt project %s: %v", in.Project, err)
	}
	out.ManifestURI = fileURI(manifestFile)
	out.SchemaVersion = m.SchemaVersion
	if out.DbtVersion == "" {
		out.DbtVersion = m.DbtVersion
	}
	nodes := StoreNodes(m)
	out.NodeCount = len(nodes)
	for _, n := range nodes {
		if n.ResourceType != "model" {
			continue
		}
		out.ModelCount++
		if len(out.Models) < MaxModels {
			out.Models = append(out.Models, n)
		}
	}
	if a.Store == nil {
		return out, task.Permanent(task.ErrConfig, "this worker has no run history store to keep manifests in")
	}
	at.Progress("saving the manifest of %s (%d models)", in.Project, out.ModelCount)
	out.ManifestID, err = a.Store.SaveDbtManifest(ctx, store.DbtManifest{
		Project: p.Config.Project, DbtProject: in.Project, Env: t.Env,
		Commit: out.Commit, Ref: out.Ref, DbtVersion: out.DbtVersion, SchemaVersion: m.SchemaVersion,
		WorkflowID: at.Meta.WorkflowID, RunID: at.Meta.RunID, Nodes: nodes, Manifest: raw,
	})
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, task.Transient(ErrArtifacts, "%v", err)
	}
	return out, nil
}

// StoreNodes turns a parsed manifest into the nodes run history keeps:
// models, seeds, snapshots, sources, tests and the rest, sorted by
// unique_id. Operations (hooks) are left out.
func StoreNodes(m *idbt.Manifest) []store.DbtNode {
	ids := make([]string, 0, len(m.Nodes))
	for id, n := range m.Nodes {
		if n.ResourceType == "operation" {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]store.DbtNode, 0, len(ids))
	for _, id := range ids {
		n := m.Nodes[id]
		out = append(out, store.DbtNode{
			UniqueID: n.UniqueID, Name: n.Name, ResourceType: n.ResourceType, Package: n.PackageName,
			Path: n.OriginalFilePath, FQN: n.FQN, Tags: n.Tags, Materialized: n.Materialized,
			Parents: n.Parents, SourceName: n.SourceName, Version: n.Version,
		})
	}
	return out
}
