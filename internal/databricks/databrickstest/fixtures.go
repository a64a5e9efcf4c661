package databrickstest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// sourceDir is the directory of this file, so fixtures are found the same way
// whichever package's test runs the fake.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "."
	}
	return filepath.Dir(file)
}

// defaultSharedDir is <repo>/../shared/testdata.
func defaultSharedDir() string {
	return filepath.Join(sourceDir(), "..", "..", "..", "..", "shared", "testdata")
}

// ownFixtureDir is internal/databricks/testdata: fixtures the Sluice team wrote.
func ownFixtureDir() string {
	return filepath.Join(sourceDir(), "..", "testdata")
}

// OwnFixture reads one of the fixtures the Sluice team wrote
// (internal/databricks/testdata/<name>), failing the test if it is missing.
func OwnFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(ownFixtureDir(), name))
	if err != nil {
		tb.Fatalf("reading own fixture: %v", err)
	}
	return b
}

func (s *Server) sharedLoaded() bool { return s.sharedOK }

// loadSharedFixtures seeds the workspace with the real API-shaped responses:
// the DLT pipeline, the jobs list and the single jobs. A file that does not
// parse is recorded in FixtureErrors and skipped, as a real client would
// have to reject it.
func (s *Server) loadSharedFixtures() {
	dir := filepath.Join(s.sharedDir, "databricks_api", "terraform_exporter")
	if _, err := os.Stat(dir); err != nil {
		return
	}
	s.sharedOK = true

	if raw, err := readObject(filepath.Join(dir, "get-dlt-pipeline.json")); err != nil {
		s.fixtureErrors = append(s.fixtureErrors, err)
	} else {
		id, _ := raw["pipeline_id"].(string)
		name, _ := raw["name"].(string)
		p := s.addPipelineLocked(id, name)
		p.raw = raw
	}

	if raw, err := readObject(filepath.Join(dir, "get-jobs-list.json")); err != nil {
		s.fixtureErrors = append(s.fixtureErrors, err)
	} else {
		list, _ := raw["jobs"].([]any)
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			s.jobList = append(s.jobList, m)
			id := jsonInt(m["job_id"])
			if _, seen := s.jobs[id]; !seen {
				j := s.addJobLocked(id, jobName(m))
				j.raw = m
			}
		}
	}

	var singles []string
	for _, pattern := range []string{"get-job-*.json", "run-job-*.json"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		singles = append(singles, matches...)
	}
	sort.Strings(singles)
	for _, path := range singles {
		raw, err := readObject(path)
		if err != nil {
			s.fixtureErrors = append(s.fixtureErrors, err)
			continue
		}
		id := jsonInt(raw["job_id"])
		j, ok := s.jobs[id]
		if !ok {
			j = s.addJobLocked(id, jobName(raw))
			s.jobList = append(s.jobList, raw)
		}
		j.raw = raw
		j.tasks = taskKeys(raw)
	}
}

func readObject(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading fixture %s: %w", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parsing fixture %s: %w", path, err)
	}
	return m, nil
}

func jsonInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

func jobName(raw map[string]any) string {
	settings, _ := raw["settings"].(map[string]any)
	name, _ := settings["name"].(string)
	return name
}

func taskKeys(raw map[string]any) []string {
	settings, _ := raw["settings"].(map[string]any)
	tasks, _ := settings["tasks"].([]any)
	var keys []string
	for _, t := range tasks {
		m, _ := t.(map[string]any)
		if k, _ := m["task_key"].(string); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}
