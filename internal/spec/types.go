package spec

import "github.com/sluicedata/sluice/internal/notify"

// ProjectConfig is sluice.yaml: the project's environments, shared
// definitions (DLT pipelines, dbt projects, notification channels) and where
// its pipeline files are.
type ProjectConfig struct {
	Project      string                    `json:"project" jsonschema:"description=Project name; part of schedule ids (sluice/<project>/<pipeline>/<env>)"`
	Pipelines    []string                  `json:"pipelines,omitempty" jsonschema:"description=Globs of pipeline files relative to the project folder (default [pipelines/*.yaml])"`
	DefaultEnv   string                    `json:"default_env,omitempty" jsonschema:"description=Environment used when none is given (default: the only one, else local)"`
	UIURL        string                    `json:"ui_url,omitempty" jsonschema:"description=Temporal Web UI base URL used in links (default http://localhost:8233)"`
	Namespace    string                    `json:"namespace,omitempty" jsonschema:"description=Temporal namespace used in Web UI links (default: the worker's)"`
	Environments map[string]Environment    `json:"environments" jsonschema:"description=Named environments (local, dev, staging, prod...)"`
	DLTPipelines map[string]DLTPipelineDef `json:"dlt_pipelines,omitempty" jsonschema:"description=How each engine runs a named DLT (Lakeflow Declarative) pipeline"`
	Channels     map[string]Channel        `json:"channels,omitempty" jsonschema:"description=Notification destinations, referenced by name from notify blocks and notify tasks"`
	DbtProjects  map[string]DbtProject     `json:"dbt_projects,omitempty" jsonschema:"description=dbt projects run by dbt tasks: a git repository or a local folder"`
	Notify       *Notify                   `json:"notify,omitempty" jsonschema:"description=Default notifications for every pipeline"`
}

// Engine names.
const (
	EngineLocal      = "local"
	EngineDatabricks = "databricks"
)

// Environment is where pipelines run: an engine plus its connection facts,
// parameters shared by every pipeline, and operational switches.
type Environment struct {
	Engine     string         `json:"engine" jsonschema:"enum=local,enum=databricks,description=local: Postgres + a volume folder on this machine; databricks: a Databricks workspace"`
	Warehouse  string         `json:"warehouse,omitempty" jsonschema:"description=local engine: Postgres URL of the warehouse (default $SLUICE_WAREHOUSE_URL or postgres://postgres@127.0.0.1:5432/sluice_lakehouse). Read at load; never a secret"`
	Volume     string         `json:"volume,omitempty" jsonschema:"description=local engine: folder holding landed files, relative to the project (default .data/volumes)"`
	Databricks *DatabricksEnv `json:"databricks,omitempty" jsonschema:"description=databricks engine: workspace and warehouse"`
	Params     map[string]any `json:"params,omitempty" jsonschema:"description=Parameters for every pipeline in this environment (override pipeline defaults)"`
	Schedules  string         `json:"schedules,omitempty" jsonschema:"enum=active,enum=paused,description=paused: every schedule of this environment is created paused (manual runs only)"`
	Notify     *Notify        `json:"notify,omitempty" jsonschema:"description=Replaces every pipeline's notifications in this environment ({} = none)"`
	Timeout    Duration       `json:"timeout,omitempty" jsonschema:"type=string,description=Default pipeline timeout in this environment"`
}

// DatabricksEnv holds workspace facts. Credentials are references
// (${secret:...}) resolved in the worker; unset fields fall back to the SDK's
// standard auth (DATABRICKS_HOST/DATABRICKS_TOKEN, ~/.databrickscfg profiles).
type DatabricksEnv struct {
	Host         string `json:"host,omitempty" jsonschema:"description=Workspace URL, e.g. https://adb-123.4.azuredatabricks.net"`
	Profile      string `json:"profile,omitempty" jsonschema:"description=Profile in ~/.databrickscfg"`
	Token        string `json:"token,omitempty" jsonschema:"description=Personal access token, as ${secret:NAME}"`
	ClientID     string `json:"client_id,omitempty" jsonschema:"description=OAuth M2M service principal client id"`
	ClientSecret string `json:"client_secret,omitempty" jsonschema:"description=OAuth M2M client secret, as ${secret:NAME}"`
	WarehouseID  string `json:"warehouse_id,omitempty" jsonschema:"description=SQL warehouse id for sql and quality_checks tasks"`
	Catalog      string `json:"catalog,omitempty" jsonschema:"description=Default Unity Catalog catalog (default: params.catalog)"`
	Schema       string `json:"schema,omitempty" jsonschema:"description=Default schema"`
	Volume       string `json:"volume,omitempty" jsonschema:"description=Unity Catalog volume path for generate_data, e.g. /Volumes/olist/landing/raw"`
}

// DLTPipelineDef maps a DLT pipeline name to what each engine runs.
type DLTPipelineDef struct {
	Databricks *DLTRef `json:"databricks,omitempty" jsonschema:"description=The workspace pipeline, by id or name"`
	Local      string  `json:"local,omitempty" jsonschema:"description=Local pipeline folder (pipeline.yaml + SQL), relative to the project"`
}

// DLTRef names a workspace pipeline.
type DLTRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// DbtProject says where a dbt project lives.
type DbtProject struct {
	Repo             string `json:"repo,omitempty" jsonschema:"description=Git repository URL (https, ssh or file); empty for a local folder"`
	Ref              string `json:"ref,omitempty" jsonschema:"description=Branch, tag or commit (default: the remote HEAD)"`
	Path             string `json:"path,omitempty" jsonschema:"description=Subfolder holding dbt_project.yml; with no repo, a local folder relative to the project"`
	Token            string `json:"token,omitempty" jsonschema:"description=HTTPS token, as ${secret:NAME}"`
	User             string `json:"user,omitempty" jsonschema:"description=HTTPS user for the token (default x-access-token)"`
	SSHKey           string `json:"ssh_key,omitempty" jsonschema:"description=SSH private key, as ${secret:NAME}"`
	SSHKeyPassphrase string `json:"ssh_key_passphrase,omitempty" jsonschema:"description=SSH key passphrase, as ${secret:NAME}"`
	KnownHosts       string `json:"known_hosts,omitempty" jsonschema:"description=known_hosts file for SSH"`
	DbtVersion       string `json:"dbt_version,omitempty" jsonschema:"description=Required dbt version constraint, e.g. >=1.7,<2.0"`
	Executable       string `json:"executable,omitempty" jsonschema:"description=dbt executable (default: $SLUICE_DBT or dbt on PATH)"`
}

// Channel is a notification destination (email, slack, webhook, log).
// Secrets (SMTP URLs, webhook URLs, signing keys) are ${secret:NAME}
// references, resolved by the activity that sends.
type Channel = notify.Channel

// Notify maps run events to channel names.
type Notify struct {
	OnStart           []string `json:"on_start,omitempty"`
	OnSuccess         []string `json:"on_success,omitempty"`
	OnFailure         []string `json:"on_failure,omitempty" jsonschema:"description=Run ended FAILED or TIMEDOUT (sent once, after retries are exhausted)"`
	OnCanceled        []string `json:"on_canceled,omitempty"`
	OnDurationWarning []string `json:"on_duration_warning,omitempty" jsonschema:"description=The run or a task ran longer than its duration_warning"`
	OnWarning         []string `json:"on_warning,omitempty" jsonschema:"description=Quality checks with severity warn failed"`
}

// Pipeline is one pipeline file: a DAG of tasks with its schedule, timeouts,
// parameters and notifications, plus per-environment overlays.
type Pipeline struct {
	Name            string                     `json:"name" jsonschema:"description=Pipeline name (letters, digits, _ and -)"`
	Description     string                     `json:"description,omitempty"`
	Schedule        *Schedule                  `json:"schedule,omitempty"`
	Timeout         Duration                   `json:"timeout,omitempty" jsonschema:"type=string,description=Whole-run timeout; the run ends TIMEDOUT (default 24h)"`
	DurationWarning Duration                   `json:"duration_warning,omitempty" jsonschema:"type=string,description=Fire on_duration_warning when the run lasts longer"`
	MaxParallel     int                        `json:"max_parallel,omitempty" jsonschema:"description=Most tasks running at once (default 16)"`
	Params          map[string]any             `json:"params,omitempty" jsonschema:"description=Parameters with their defaults; override per run with --param k=v"`
	Notify          *Notify                    `json:"notify,omitempty"`
	After           []AfterTrigger             `json:"after,omitempty" jsonschema:"description=Start this pipeline when another one finishes"`
	Tasks           []Task                     `json:"tasks" jsonschema:"description=The DAG, run in file order as dependencies allow"`
	Environments    map[string]PipelineOverlay `json:"environments,omitempty" jsonschema:"description=Per-environment overrides of this pipeline"`
}

// Overlap policies for schedules.
const (
	OverlapSkip        = "skip"
	OverlapBufferOne   = "buffer_one"
	OverlapBufferAll   = "buffer_all"
	OverlapCancelOther = "cancel_other"
	OverlapAllow       = "allow"
)

// Overlaps lists the valid overlap values.
var Overlaps = []string{OverlapSkip, OverlapBufferOne, OverlapBufferAll, OverlapCancelOther, OverlapAllow}

// Schedule says when a pipeline runs by itself.
type Schedule struct {
	Cron          Cron     `json:"cron" jsonschema:"type=string,description=5-field cron (0 6 * * *) or Quartz (0 0 6 * * ?)"`
	Timezone      string   `json:"timezone,omitempty" jsonschema:"description=IANA time zone (default UTC)"`
	Overlap       string   `json:"overlap,omitempty" jsonschema:"enum=skip,enum=buffer_one,enum=buffer_all,enum=cancel_other,enum=allow,description=What to do when a run is due while one is running (default skip: at most one run)"`
	CatchupWindow Duration `json:"catchup_window,omitempty" jsonschema:"type=string,description=How late a missed run may still start after an outage (default 1h)"`
	Jitter        Duration `json:"jitter,omitempty" jsonschema:"type=string,description=Random delay added to each start"`
	Paused        bool     `json:"paused,omitempty" jsonschema:"description=Create the schedule paused"`
	Note          string   `json:"note,omitempty" jsonschema:"description=Why it is paused (shown in the Web UI)"`
}

// AfterTrigger starts a pipeline when another one ends with one of the outcomes.
type AfterTrigger struct {
	Pipeline string         `json:"pipeline"`
	On       []string       `json:"on,omitempty" jsonschema:"description=Outcomes that trigger (default [SUCCESS])"`
	Params   map[string]any `json:"params,omitempty" jsonschema:"description=Parameters for the triggered run"`
}

// Task is one node of the DAG.
type Task struct {
	Key             string         `json:"key" jsonschema:"description=Unique key within the pipeline"`
	Type            string         `json:"type" jsonschema:"description=Task type (sql, generate_data, dlt_pipeline, dbt, quality_checks, notify, ...)"`
	Description     string         `json:"description,omitempty"`
	DependsOn       []string       `json:"depends_on,omitempty" jsonschema:"description=Keys of upstream tasks"`
	RunIf           string         `json:"run_if,omitempty" jsonschema:"enum=ALL_SUCCESS,enum=AT_LEAST_ONE_SUCCESS,enum=NONE_FAILED,enum=ALL_DONE,enum=AT_LEAST_ONE_FAILED,enum=ALL_FAILED,description=When the task runs given its upstream states (default ALL_SUCCESS)"`
	With            map[string]any `json:"with,omitempty" jsonschema:"description=Task type configuration"`
	Timeout         Duration       `json:"timeout,omitempty" jsonschema:"type=string,description=Per-attempt timeout (default per type; 1h for most)"`
	Heartbeat       Duration       `json:"heartbeat,omitempty" jsonschema:"type=string,description=Declare a worker lost after this long without a heartbeat (default 30s)"`
	Retry           *Retry         `json:"retry,omitempty"`
	Disabled        bool           `json:"disabled,omitempty" jsonschema:"description=Do not run; dependents treat it as succeeded"`
	DurationWarning Duration       `json:"duration_warning,omitempty" jsonschema:"type=string,description=Fire on_duration_warning when this task runs longer"`
}

// Retry is a task's retry policy. Attempts counts the first try.
type Retry struct {
	Attempts     int      `json:"attempts,omitempty" jsonschema:"description=Total attempts including the first (default 1 = no retry)"`
	Interval     Duration `json:"interval,omitempty" jsonschema:"type=string,description=Wait before the first retry (default 30s)"`
	Backoff      float64  `json:"backoff,omitempty" jsonschema:"description=Multiplier of the interval per retry (default 2)"`
	MaxInterval  Duration `json:"max_interval,omitempty" jsonschema:"type=string,description=Longest wait between retries (default 10m)"`
	OnTimeout    bool     `json:"on_timeout,omitempty" jsonschema:"description=Also retry an attempt that timed out (default false)"`
	NonRetryable []string `json:"non_retryable,omitempty" jsonschema:"description=Error types that are never retried"`
}

// PipelineOverlay overrides pipeline fields in one environment. Mappings
// merge; lists and values replace. Tasks are addressed by key.
type PipelineOverlay struct {
	Description     string                 `json:"description,omitempty"`
	Schedule        *ScheduleOverlay       `json:"schedule,omitempty"`
	Timeout         Duration               `json:"timeout,omitempty" jsonschema:"type=string"`
	DurationWarning Duration               `json:"duration_warning,omitempty" jsonschema:"type=string"`
	MaxParallel     int                    `json:"max_parallel,omitempty"`
	Params          map[string]any         `json:"params,omitempty"`
	Notify          *Notify                `json:"notify,omitempty"`
	Tasks           map[string]TaskOverlay `json:"tasks,omitempty" jsonschema:"description=Per-task overrides, by task key"`
}

// ScheduleOverlay overrides schedule fields; unset fields keep the pipeline's.
type ScheduleOverlay struct {
	Cron          Cron     `json:"cron,omitempty" jsonschema:"type=string"`
	Timezone      string   `json:"timezone,omitempty"`
	Overlap       string   `json:"overlap,omitempty"`
	CatchupWindow Duration `json:"catchup_window,omitempty" jsonschema:"type=string"`
	Jitter        Duration `json:"jitter,omitempty" jsonschema:"type=string"`
	Paused        bool     `json:"paused,omitempty"`
	Note          string   `json:"note,omitempty"`
}

// TaskOverlay overrides task fields in one environment.
type TaskOverlay struct {
	With            map[string]any `json:"with,omitempty"`
	Timeout         Duration       `json:"timeout,omitempty" jsonschema:"type=string"`
	Retry           *Retry         `json:"retry,omitempty"`
	Disabled        bool           `json:"disabled,omitempty"`
	RunIf           string         `json:"run_if,omitempty"`
	DurationWarning Duration       `json:"duration_warning,omitempty" jsonschema:"type=string"`
}
