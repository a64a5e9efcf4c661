package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/internal/quality"
)

// Task queues (DESIGN section 3).
const (
	QueueDefault    = "sluice"            // workflows and light activities
	QueueDbt        = "sluice-dbt"        // dbt processes, low concurrency
	QueueDatabricks = "sluice-databricks" // Databricks pollers, API rate limits
)

// TaskKind says how the workflow carries out a task type.
type TaskKind int

const (
	KindActivity TaskKind = iota // one activity per attempt
	KindSignal                   // waits for a signal (wait_for)
	KindUpdate                   // waits for an update (approval)
	KindChild                    // runs a child workflow (run_pipeline)
)

// TaskType describes one `type:` value.
type TaskType struct {
	Name    string
	Doc     string
	Kind    TaskKind
	Engines []string // engines that support it; nil = every engine
	// Config is a zero value of the `with:` struct (a struct, not a pointer).
	Config any
	// Timeout is the default per-attempt timeout.
	Timeout Duration
}

// Queue returns the task queue a task of this type runs on in an engine.
func (t TaskType) Queue(engine string) string {
	switch {
	case t.Name == "dbt":
		return QueueDbt
	case t.Kind == KindActivity && engine == EngineDatabricks && t.Name != "notify" && t.Name != "noop":
		return QueueDatabricks
	default:
		return QueueDefault
	}
}

// NewConfig returns a pointer to a fresh config struct of this type.
func (t TaskType) NewConfig() any { return reflect.New(reflect.TypeOf(t.Config)).Interface() }

const hour = Duration(3600e9)

// TaskTypes lists every task type, in documentation order.
var TaskTypes = []TaskType{
	{Name: "generate_data", Doc: "Generate an Olist-shaped dataset batch (CSV + CDC events) into the volume", Config: GenerateDataConfig{}, Timeout: hour},
	{Name: "dlt_pipeline", Doc: "Run a DLT (Lakeflow Declarative) pipeline update: local folder on Postgres, or a workspace pipeline", Config: DLTPipelineConfig{}, Timeout: 2 * hour},
	{Name: "dbt", Doc: "Run dbt commands on a project (git or local)", Config: DbtConfig{}, Timeout: 2 * hour},
	{Name: "quality_checks", Doc: "Run declarative data quality checks on the warehouse", Config: QualityChecksConfig{}, Timeout: hour},
	{Name: "sql", Doc: "Run SQL files or statements on the environment's warehouse", Config: SQLConfig{}, Timeout: hour},
	{Name: "databricks_job", Doc: "Run an existing Databricks job and wait", Engines: []string{EngineDatabricks}, Config: DatabricksJobConfig{}, Timeout: 4 * hour},
	{Name: "run_pipeline", Doc: "Run another Sluice pipeline as a child workflow and wait", Kind: KindChild, Config: RunPipelineConfig{}, Timeout: 24 * hour},
	{Name: "wait_for", Doc: "Wait for a data-ready signal matching a filter", Kind: KindSignal, Config: WaitForConfig{}, Timeout: 24 * hour},
	{Name: "approval", Doc: "Wait for a person to approve through the approve update", Kind: KindUpdate, Config: ApprovalConfig{}, Timeout: 24 * hour},
	{Name: "notify", Doc: "Send a message to notification channels", Config: NotifyConfig{}, Timeout: Duration(5 * 60e9)},
	{Name: "noop", Doc: "Do nothing (optionally wait): joins, placeholders, tests", Config: NoopConfig{}, Timeout: hour},
}

// LookupTaskType finds a task type by name.
func LookupTaskType(name string) (TaskType, bool) {
	i := slices.IndexFunc(TaskTypes, func(t TaskType) bool { return t.Name == name })
	if i < 0 {
		return TaskType{}, false
	}
	return TaskTypes[i], true
}

// TaskTypeNames returns the names of every task type.
func TaskTypeNames() []string {
	out := make([]string, len(TaskTypes))
	for i, t := range TaskTypes {
		out[i] = t.Name
	}
	return out
}

// validator is implemented by configs with rules beyond field types.
type validator interface {
	Validate() error
}

// NoopConfig configures a noop task.
type NoopConfig struct {
	Sleep   Duration `json:"sleep,omitempty" jsonschema:"type=string,description=Wait this long (honours cancellation)"`
	Message string   `json:"message,omitempty" jsonschema:"description=Returned as output.message"`
}

// SQLConfig configures a sql task.
type SQLConfig struct {
	Files      []string `json:"files,omitempty" jsonschema:"description=SQL files relative to the project, run in order; ${params.x} and ${run.*} are replaced"`
	Statements []string `json:"statements,omitempty" jsonschema:"description=Inline statements, run after the files"`
	Catalog    string   `json:"catalog,omitempty" jsonschema:"description=Catalog to run in (default params.catalog); local engine: the Postgres database"`
	Schema     string   `json:"schema,omitempty" jsonschema:"description=Default schema (search_path on Postgres)"`
	// Transaction runs everything in one transaction (default true on Postgres).
	Transaction *bool `json:"transaction,omitempty" jsonschema:"description=Run all statements in one transaction (default true)"`
}

// Validate implements validator.
func (c SQLConfig) Validate() error {
	if len(c.Files) == 0 && len(c.Statements) == 0 {
		return hinted{"sql task has nothing to run", "give files: [path.sql] or statements: [\"...\"]"}
	}
	return nil
}

// NotifyConfig configures a notify task.
type NotifyConfig struct {
	Channels []string `json:"channels" jsonschema:"description=Channel names from sluice.yaml"`
	Subject  string   `json:"subject,omitempty"`
	Message  string   `json:"message" jsonschema:"description=Text; references such as ${tasks.x.output.y} are replaced"`
}

// Validate implements validator.
func (c NotifyConfig) Validate() error {
	if len(c.Channels) == 0 {
		return hinted{"notify task has no channels", "list channel names from sluice.yaml channels:"}
	}
	if strings.TrimSpace(c.Message) == "" {
		return hinted{"notify task has no message", "give message: \"...\""}
	}
	return nil
}

// GenerateDataConfig configures a generate_data task.
type GenerateDataConfig struct {
	Dataset       string  `json:"dataset,omitempty" jsonschema:"enum=olist,description=Dataset to generate (default olist)"`
	Orders        int     `json:"orders,omitempty" jsonschema:"description=Orders in this batch (default 1000)"`
	Seed          int64   `json:"seed,omitempty" jsonschema:"description=Dataset seed (default 42)"`
	Batch         int64   `json:"batch,omitempty" jsonschema:"description=Batch number (default: the logical date as yyyymmdd); a batch is written once"`
	MalformedRate float64 `json:"malformed_rate,omitempty" jsonschema:"description=Fraction of extra malformed records per file (0-0.2)"`
}

// Validate implements validator.
func (c GenerateDataConfig) Validate() error {
	if c.Dataset != "" && c.Dataset != "olist" {
		return hinted{fmt.Sprintf("unknown dataset %q", c.Dataset), "the only dataset is olist"}
	}
	if c.Orders < 0 {
		return fmt.Errorf("orders must be positive, got %d", c.Orders)
	}
	if c.MalformedRate < 0 || c.MalformedRate > 0.2 {
		return fmt.Errorf("malformed_rate must be between 0 and 0.2, got %g", c.MalformedRate)
	}
	return nil
}

// DLTPipelineConfig configures a dlt_pipeline task.
type DLTPipelineConfig struct {
	Pipeline             string   `json:"pipeline" jsonschema:"description=Name in sluice.yaml dlt_pipelines"`
	FullRefresh          bool     `json:"full_refresh,omitempty" jsonschema:"description=Rebuild every table from all files"`
	RefreshSelection     []string `json:"refresh_selection,omitempty" jsonschema:"description=databricks: tables to refresh"`
	FullRefreshSelection []string `json:"full_refresh_selection,omitempty" jsonschema:"description=databricks: tables to fully refresh"`
}

// QualityChecksConfig configures a quality_checks task.
type QualityChecksConfig struct {
	Checks     []quality.Spec `json:"checks" jsonschema:"description=Declarative checks: not_null\\, unique\\, accepted_values\\, row_count\\, freshness\\, relationships\\, expression\\, sql"`
	Catalog    string         `json:"catalog,omitempty" jsonschema:"description=Catalog to check (default params.catalog)"`
	SampleRows int            `json:"sample_rows,omitempty" jsonschema:"description=Offending rows kept per check (default 5)"`
}

// Validate implements validator.
func (c QualityChecksConfig) Validate() error {
	if len(c.Checks) == 0 {
		return hinted{"quality_checks task has no checks", "list checks: [{table: silver.orders, not_null: [order_id]}]"}
	}
	_, err := quality.Expand(c.Checks)
	return err
}

// DbtConfig configures a dbt task.
type DbtConfig struct {
	Project     string            `json:"project" jsonschema:"description=Name in sluice.yaml dbt_projects"`
	Commands    []string          `json:"commands,omitempty" jsonschema:"description=dbt commands in order (default [build]): deps, seed, run, build, test, snapshot, source freshness, docs generate, compile, parse, retry"`
	Select      []string          `json:"select,omitempty"`
	Exclude     []string          `json:"exclude,omitempty"`
	Selector    string            `json:"selector,omitempty"`
	Vars        map[string]any    `json:"vars,omitempty"`
	FullRefresh bool              `json:"full_refresh,omitempty"`
	Threads     int               `json:"threads,omitempty"`
	Target      string            `json:"target,omitempty"`
	Schema      string            `json:"schema,omitempty" jsonschema:"description=Schema dbt builds into (default: the environment's databricks.schema\\, else dbt)"`
	SkipTests   bool              `json:"skip_tests,omitempty" jsonschema:"description=Drop test commands (and run build with --exclude resource_type:test)"`
	Env         map[string]string `json:"env,omitempty" jsonschema:"description=Extra environment for dbt (values may be ${secret:NAME})"`
}

// DbtCommands lists the dbt commands a dbt task may run.
var DbtCommands = []string{"deps", "seed", "run", "build", "test", "snapshot", "source freshness", "docs generate", "compile", "parse", "retry", "clean", "debug", "list", "ls"}

// Validate implements validator.
func (c DbtConfig) Validate() error {
	for _, cmd := range c.Commands {
		if !slices.Contains(DbtCommands, strings.Join(strings.Fields(cmd), " ")) {
			return hinted{fmt.Sprintf("unknown dbt command %q", cmd), suggestOr(cmd, DbtCommands)}
		}
	}
	return nil
}

// DatabricksJobConfig configures a databricks_job task.
type DatabricksJobConfig struct {
	JobID         int64             `json:"job_id,omitempty"`
	Job           string            `json:"job,omitempty" jsonschema:"description=Job name (looked up once)"`
	JobParameters map[string]string `json:"job_parameters,omitempty"`
}

// Validate implements validator.
func (c DatabricksJobConfig) Validate() error {
	if (c.JobID == 0) == (c.Job == "") {
		return hinted{"databricks_job needs exactly one of job_id and job", "give job_id: 123 or job: \"name\""}
	}
	return nil
}

// RunPipelineConfig configures a run_pipeline task.
type RunPipelineConfig struct {
	Pipeline string         `json:"pipeline" jsonschema:"description=Pipeline to run as a child workflow"`
	Env      string         `json:"env,omitempty" jsonschema:"description=Environment (default: this run's)"`
	Params   map[string]any `json:"params,omitempty"`
}

// WaitForConfig configures a wait_for task.
type WaitForConfig struct {
	Signal    string         `json:"signal,omitempty" jsonschema:"description=Signal name (default data-ready)"`
	Match     map[string]any `json:"match,omitempty" jsonschema:"description=Fields the signal payload must have, e.g. {dataset: orders, date: ${run.logical_date}}"`
	Timeout   Duration       `json:"timeout,omitempty" jsonschema:"type=string,description=How long to wait (default: the task timeout)"`
	OnTimeout string         `json:"on_timeout,omitempty" jsonschema:"enum=fail,enum=skip,description=fail (default): the task times out; skip: the task is skipped"`
}

// Validate implements validator.
func (c WaitForConfig) Validate() error {
	if c.OnTimeout != "" && c.OnTimeout != "fail" && c.OnTimeout != "skip" {
		return hinted{fmt.Sprintf("on_timeout %q", c.OnTimeout), "use fail or skip"}
	}
	return nil
}

// ApprovalConfig configures an approval task.
type ApprovalConfig struct {
	Message   string   `json:"message,omitempty" jsonschema:"description=What the approver is asked"`
	Approvers []string `json:"approvers,omitempty" jsonschema:"description=Who may approve (empty: anyone)"`
	Timeout   Duration `json:"timeout,omitempty" jsonschema:"type=string,description=How long to wait (default: the task timeout)"`
	OnTimeout string   `json:"on_timeout,omitempty" jsonschema:"enum=fail,enum=skip"`
}

// Validate implements validator.
func (c ApprovalConfig) Validate() error {
	if c.OnTimeout != "" && c.OnTimeout != "fail" && c.OnTimeout != "skip" {
		return hinted{fmt.Sprintf("on_timeout %q", c.OnTimeout), "use fail or skip"}
	}
	return nil
}
