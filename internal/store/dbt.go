package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// DbtNode is one node of a stored dbt manifest: what `sluice dbt models`
// lists and what `sluice validate` checks dbt task selections against.
type DbtNode struct {
	UniqueID     string   `json:"unique_id"`
	Name         string   `json:"name"`
	ResourceType string   `json:"resource_type"`
	Package      string   `json:"package,omitempty"`
	Path         string   `json:"path,omitempty"` // original_file_path, e.g. models/staging/stg_orders.sql
	FQN          []string `json:"fqn,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	Materialized string   `json:"materialized,omitempty"`
	Parents      []string `json:"parents,omitempty"` // unique_ids
	SourceName   string   `json:"source_name,omitempty"`
	Version      string   `json:"version,omitempty"`
}

// DbtManifest is one refresh of a dbt project (a name in sluice.yaml
// dbt_projects) in an environment.
type DbtManifest struct {
	ID            int64     `json:"id"`
	Project       string    `json:"project"`     // the Sluice project
	DbtProject    string    `json:"dbt_project"` // the name in dbt_projects
	Env           string    `json:"env"`
	Commit        string    `json:"commit,omitempty"`
	Ref           string    `json:"ref,omitempty"`
	DbtVersion    string    `json:"dbt_version,omitempty"`
	SchemaVersion int       `json:"schema_version,omitempty"`
	WorkflowID    string    `json:"workflow_id"`
	RunID         string    `json:"run_id"`
	Nodes         []DbtNode `json:"nodes"`
	CreatedAt     time.Time `json:"created_at"`
	// Manifest is manifest.json as dbt wrote it (secrets scrubbed). It is
	// written by SaveDbtManifest and read only by DbtManifestFile.
	Manifest []byte `json:"-"`
}

// Models returns the manifest's models, in stored order.
func (m *DbtManifest) Models() []DbtNode {
	var out []DbtNode
	for _, n := range m.Nodes {
		if n.ResourceType == "model" {
			out = append(out, n)
		}
	}
	return out
}

// SaveDbtManifest stores a refreshed manifest and returns its id. It is
// idempotent per workflow run and dbt project: a retried write replaces the
// row it wrote before.
func (s *Store) SaveDbtManifest(ctx context.Context, m DbtManifest) (int64, error) {
	nodes := m.Nodes
	if nodes == nil {
		nodes = []DbtNode{}
	}
	nodesJSON, err := json.Marshal(nodes)
	if err != nil {
		return 0, fmt.Errorf("encoding the nodes of dbt project %s: %w", m.DbtProject, err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(m.Manifest); err != nil {
		return 0, fmt.Errorf("compressing the manifest of dbt project %s: %w", m.DbtProject, err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compressing the manifest of dbt project %s: %w", m.DbtProject, err)
	}
	var id int64
	err = s.pool.QueryRow(ctx, `
INSERT INTO dbt_manifests (project, dbt_project, env, commit_sha, ref, dbt_version, schema_version,
                           workflow_id, run_id, nodes, manifest)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (workflow_id, run_id, dbt_project) DO UPDATE SET
    project = EXCLUDED.project, env = EXCLUDED.env, commit_sha = EXCLUDED.commit_sha, ref = EXCLUDED.ref,
    dbt_version = EXCLUDED.dbt_version, schema_version = EXCLUDED.schema_version,
    nodes = EXCLUDED.nodes, manifest = EXCLUDED.manifest, created_at = now()
RETURNING id`,
		m.Project, m.DbtProject, m.Env, m.Commit, m.Ref, m.DbtVersion, m.SchemaVersion,
		m.WorkflowID, m.RunID, nodesJSON, gz.Bytes()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("saving the manifest of dbt project %s: %w", m.DbtProject, translate(err))
	}
	return id, nil
}

// LatestDbtManifest returns the most recent manifest of a dbt project of a
// Sluice project, in env ("" = any environment), without the manifest file.
// It returns ErrNotFound when the project was never refreshed.
func (s *Store) LatestDbtManifest(ctx context.Context, project, dbtProject, env string) (*DbtManifest, error) {
	var m DbtManifest
	var nodes []byte
	err := s.pool.QueryRow(ctx, `
SELECT id, project, dbt_project, env, commit_sha, ref, dbt_version, schema_version, workflow_id, run_id, nodes, created_at
FROM dbt_manifests
WHERE project = $1 AND dbt_project = $2 AND ($3 = '' OR env = $3)
ORDER BY created_at DESC, id DESC
LIMIT 1`, project, dbtProject, env).Scan(
		&m.ID, &m.Project, &m.DbtProject, &m.Env, &m.Commit, &m.Ref, &m.DbtVersion, &m.SchemaVersion,
		&m.WorkflowID, &m.RunID, &nodes, &m.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("reading the latest manifest of dbt project %s: %w", dbtProject, translate(err))
	}
	if err := json.Unmarshal(nodes, &m.Nodes); err != nil {
		return nil, fmt.Errorf("decoding the nodes of dbt manifest %d: %w", m.ID, err)
	}
	return &m, nil
}

// DbtManifestFile returns manifest.json of a stored manifest.
func (s *Store) DbtManifestFile(ctx context.Context, id int64) ([]byte, error) {
	var gz []byte
	err := s.pool.QueryRow(ctx, `SELECT manifest FROM dbt_manifests WHERE id = $1`, id).Scan(&gz)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("dbt manifest %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading dbt manifest %d: %w", id, translate(err))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("decompressing dbt manifest %d: %w", id, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompressing dbt manifest %d: %w", id, err)
	}
	return b, nil
}
