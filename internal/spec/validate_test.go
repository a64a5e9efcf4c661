package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type validateCase struct {
	name     string
	project  string            // sluice.yaml; baseProject when empty
	pipeline string            // pipelines/p.yaml
	files    map[string]string // more files
	want     []string          // every diagnostic, as printed
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{}
			if tc.pipeline != "" {
				files["pipelines/p.yaml"] = tc.pipeline
			}
			for k, v := range tc.files {
				files[k] = v
			}
			p := loadProject(t, writeProject(t, tc.project, files))
			require.Equal(t, tc.want, diagLines(p.Validate()))
		})
	}
}

func TestValidateValid(t *testing.T) {
	t.Parallel()
	runValidateCases(t, []validateCase{{
		name: "EveryTaskType",
		pipeline: `name: p
description: all task types that run on both engines
schedule: {cron: "0 0 6 ? * MON-FRI", timezone: Europe/Paris, overlap: buffer_one, catchup_window: 2h, jitter: 5m}
timeout: 2h
duration_warning: 1h
max_parallel: 4
params: {orders: 100, day: "${run.logical_date}", full: false}
notify: {on_failure: [data-eng], on_success: [console]}
tasks:
  - key: gen
    type: generate_data
    with: {orders: "${params.orders}", seed: 7, malformed_rate: 0.01}
    retry: {attempts: 3, interval: 10s, backoff: 1.5, max_interval: 1m, on_timeout: true, non_retryable: [BadConfig]}
    timeout: 30m
    heartbeat: 1m
  - key: main
    type: dlt_pipeline
    depends_on: [gen]
    with: {pipeline: main, full_refresh: "${params.full}"}
  - key: model
    type: dbt
    depends_on: [main]
    with: {project: warehouse, commands: [deps, "source  freshness", build], select: [tag:daily], vars: {day: "${run.logical_date.iso_date}"}}
  - key: checks
    type: quality_checks
    depends_on: [main]
    with:
      checks:
        - {table: silver.orders, row_count: {min: "${tasks.gen.output.rows.orders}", max: "${params.orders}"}}
  - key: report
    type: sql
    depends_on: [model, checks]
    run_if: none_failed
    with: {files: [sql/a.sql], statements: ["select '${env.catalog}', '$${literal}'"]}
  - key: wait
    type: wait_for
    with: {match: {dataset: orders, date: "${run.logical_date}"}, timeout: 2h, on_timeout: skip}
  - key: gate
    type: approval
    depends_on: [wait]
    with: {message: "ship it?", approvers: [ana], on_timeout: fail}
  - key: child
    type: run_pipeline
    depends_on: [gate]
    with: {pipeline: p, env: prod, params: {x: 1}}
  - key: tell
    type: notify
    depends_on: [report, child]
    run_if: ALL_DONE
    with: {channels: [console], subject: done, message: "rows: ${tasks.gen.output.rows.orders}"}
  - key: idle
    type: noop
    disabled: true
    with: {sleep: 1s}
environments:
  prod:
    schedule: {cron: "@daily"}
    tasks:
      gen: {with: {orders: 1000}}
`,
	}})
}

// TestValidateCron checks the diagnostics of bad schedules, 5-field and
// Quartz (as Databricks Jobs write them).
func TestValidateCron(t *testing.T) {
	t.Parallel()
	hint := ` (write 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 6 * * *") or Quartz "0 0 6 * * ?")`
	var cases []validateCase
	for _, tc := range []struct{ cron, msg string }{
		{"0 25 * * *", `cron "0 25 * * *": end of range (25) above maximum (23): 25`},
		{"0 6 * *", `cron "0 6 * *" has 4 fields`},
		{"every day", `cron "every day" has 2 fields`},
		{"@fortnightly", `cron "@fortnightly" has 1 fields`},
		{"0 6 * * MON-FRY", `cron "0 6 * * MON-FRY": failed to parse int from FRY: strconv.Atoi: parsing "FRY": invalid syntax`},
		{"0 0 6 L * ?", `cron "0 0 6 L * ?": "L" (L, W and # modifiers) is not supported`},
		{"0 0 6 15W * ?", `cron "0 0 6 15W * ?": "15W" (L, W and # modifiers) is not supported`},
		{"0 0 6 ? * 6L", `cron "0 0 6 ? * 6L": "6L" (L, W and # modifiers) is not supported`},
		{"0 0 6 ? * 2#1", `cron "0 0 6 ? * 2#1": "2#1" (L, W and # modifiers) is not supported`},
		{"30 0 6 * * ?", `cron "30 0 6 * * ?": seconds field "30": schedules have minute precision, use 0`},
		{"0 0 6 * * ? 2027", `cron "0 0 6 * * ? 2027": year field "2027" is not supported`},
		{"0 0 6 ? * 0", `cron "0 0 6 ? * 0": day of week 0 is out of range 1-7 (Quartz: 1=SUN)`},
		{"0 0 25 * * ?", `cron "0 0 25 * * ?": end of range (25) above maximum (23): 25`},
	} {
		cases = append(cases, validateCase{
			name:     tc.cron,
			pipeline: "name: p\nschedule:\n  cron: \"" + tc.cron + "\"\ntasks: [{key: a, type: noop}]\n",
			want:     []string{`pipelines/p.yaml:3:9: schedule.cron: ` + tc.msg + hint},
		})
	}
	cases = append(cases, validateCase{
		name:     "QuestionMarkIn5Fields",
		pipeline: "name: p\nschedule:\n  cron: \"0 6 ? * *\"\ntasks: [{key: a, type: noop}]\n",
		want:     []string{`pipelines/p.yaml:3:9: schedule.cron: cron "0 6 ? * *": "?" is Quartz syntax (use * in a 5-field expression, or write all 6 Quartz fields (seconds first))`},
	})
	runValidateCases(t, cases)
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	runValidateCases(t, []validateCase{
		// --- the DAG
		{name: "Cycle", pipeline: `name: p
tasks:
  - {key: a, type: noop, depends_on: [c]}
  - {key: b, type: noop, depends_on: [a]}
  - {key: c, type: noop, depends_on: [b]}
`, want: []string{
			`pipelines/p.yaml:3:38: tasks[0].depends_on: dependency cycle: a -> b -> c -> a (remove one of these dependencies)`,
		}},
		{name: "SelfDependency", pipeline: `name: p
tasks:
  - {key: a, type: noop}
  - {key: b, type: noop, depends_on: [a, b]}
`, want: []string{
			`pipelines/p.yaml:4:42: tasks[1].depends_on[1]: task "b" depends on itself (remove it)`,
		}},
		{name: "DependencyListedTwice", pipeline: `name: p
tasks:
  - {key: a, type: noop}
  - {key: b, type: noop, depends_on: [a, a]}
`, want: []string{
			`pipelines/p.yaml:4:42: tasks[1].depends_on[1]: "a" is listed twice (remove the duplicate)`,
		}},
		{name: "UnknownDependsOn", pipeline: `name: p
tasks:
  - {key: load, type: noop}
  - {key: check, type: noop, depends_on: [lod]}
`, want: []string{
			`pipelines/p.yaml:4:43: tasks[1].depends_on[0]: unknown task "lod" (did you mean "load"?)`,
		}},
		{name: "DuplicateTaskKey", pipeline: `name: p
tasks:
  - {key: load, type: noop}
  - {key: load, type: noop}
`, want: []string{
			`pipelines/p.yaml:4:11: tasks[1].key: duplicate task key "load" (the first is at pipelines/p.yaml:3:11; rename one)`,
		}},
		{name: "BadAndMissingTaskKeys", pipeline: `name: p
tasks:
  - {key: load-orders, type: noop}
  - {type: noop}
`, want: []string{
			`pipelines/p.yaml:3:11: tasks[0].key: bad task key "load-orders" (use letters, digits and _ (it is used in ${tasks.<key>...}))`,
			`pipelines/p.yaml:4:5: tasks[1].key: task without a key (add key: <name>)`,
		}},
		{name: "NoTasks", pipeline: `name: p
tasks: []
`, want: []string{
			`pipelines/p.yaml:2:8: tasks: pipeline has no tasks (add at least one task)`,
		}},
		// --- unknown fields, at every level
		{name: "UnknownTopLevelField", pipeline: `name: p
descripton: typo
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:2:1: descripton: unknown field "descripton" (did you mean "description"?)`,
		}},
		{name: "UnknownTaskField", pipeline: `name: p
tasks:
  - {key: a, type: noop}
  - key: b
    type: noop
    dependson: [a]
`, want: []string{
			`pipelines/p.yaml:6:5: tasks[1].dependson: unknown field "dependson" (did you mean "depends_on"?)`,
		}},
		{name: "UnknownScheduleField", pipeline: `name: p
schedule:
  cron: "0 6 * * *"
  timezon: UTC
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:4:3: schedule.timezon: unknown field "timezon" (did you mean "timezone"?)`,
		}},
		{name: "UnknownRetryField", pipeline: `name: p
tasks:
  - key: a
    type: noop
    retry: {attempt: 3}
`, want: []string{
			`pipelines/p.yaml:5:13: tasks[0].retry.attempt: unknown field "attempt" (did you mean "attempts"?)`,
		}},
		{name: "UnknownWithFields", pipeline: `name: p
tasks:
  - {key: gen, type: generate_data, with: {order: 10}}
  - {key: run, type: dlt_pipeline, with: {pipeline: main, fullrefresh: true}}
  - {key: model, type: dbt, with: {project: warehouse, command: [build]}}
  - {key: tell, type: notify, with: {channels: [console], message: hi, subjct: x}}
  - {key: load, type: sql, with: {file: [sql/a.sql]}}
`, want: []string{
			`pipelines/p.yaml:3:44: tasks[0].with.order: unknown field "order" (did you mean "orders"?)`,
			`pipelines/p.yaml:4:59: tasks[1].with.fullrefresh: unknown field "fullrefresh" (did you mean "full_refresh"?)`,
			`pipelines/p.yaml:5:56: tasks[2].with.command: unknown field "command" (did you mean "commands"?)`,
			`pipelines/p.yaml:6:72: tasks[3].with.subjct: unknown field "subjct" (did you mean "subject"?)`,
			`pipelines/p.yaml:7:34: tasks[4].with: sql task has nothing to run (give files: [path.sql] or statements: ["..."])`,
			`pipelines/p.yaml:7:35: tasks[4].with.file: unknown field "file" (did you mean "files"?)`,
		}},
		{name: "UnknownOverlayField", pipeline: `name: p
tasks:
  - {key: a, type: noop}
environments:
  prod:
    timeout: 1h
    retries: 3
    tasks:
      a: {type: sql}
`, want: []string{
			`pipelines/p.yaml:3:5: tasks[0].with: sql task has nothing to run (give files: [path.sql] or statements: ["..."])`,
			`pipelines/p.yaml:7:5: environments.prod.retries: unknown field "retries"`,
			`pipelines/p.yaml:9:11: environments.prod.tasks.a.type: unknown field "type"`,
		}},
		{name: "UnknownProjectFields", project: strings.NewReplacer(
			"console: {type: log}", "console: {type: log, level: info}",
			"warehouse_id: wh1}", "warehouse_id: wh1, clustr: c1}",
			"default_env: local", "default_env: local\nenviroment: x",
		).Replace(baseProject), pipeline: `name: p
tasks:
  - {key: a, type: noop}
`, want: []string{
			`sluice.yaml:3:1: enviroment: unknown field "enviroment" (did you mean "environments"?)`,
			`sluice.yaml:11:82: environments.prod.databricks.clustr: unknown field "clustr"`,
			`sluice.yaml:16:24: channels.console.level: unknown field "level"`,
		}},
		// --- task types
		{name: "UnknownTaskType", pipeline: `name: p
tasks:
  - {key: a, type: sqll}
  - {key: b, type: spark_job}
  - {key: c}
`, want: []string{
			`pipelines/p.yaml:3:20: tasks[0].type: unknown task type "sqll" (did you mean "sql"?)`,
			`pipelines/p.yaml:4:20: tasks[1].type: unknown task type "spark_job" (known: generate_data, dlt_pipeline, dbt, quality_checks, sql, databricks_job, run_pipeline, wait_for, approval, notify, noop)`,
			`pipelines/p.yaml:5:5: tasks[2].type: task "c" has no type (add type: one of generate_data, dlt_pipeline, dbt, quality_checks, sql, databricks_job, run_pipeline, wait_for, approval, notify, noop)`,
		}},
		{name: "EngineSpecificTaskType", pipeline: `name: p
tasks:
  - {key: job, type: databricks_job, with: {job_id: 42}}
`, want: []string{
			`pipelines/p.yaml:3:22: tasks[0].type: task type databricks_job needs engine databricks (environment local) (disable the task in this environment or use a databricks environment)`,
		}},
		{name: "TaskConfigRules", pipeline: `name: p
tasks:
  - {key: gen, type: generate_data, with: {dataset: tpch, orders: 5}}
  - {key: job, type: databricks_job, disabled: true, with: {job_id: 1, job: nightly}}
  - {key: model, type: dbt, with: {project: warehouse, commands: [biuld]}}
  - {key: wait, type: wait_for, with: {on_timeout: retry}}
  - {key: run, type: dlt_pipeline}
  - {key: tell, type: notify, with: {channels: [console]}}
  - {key: load, type: sql, with: {files: [sql/missing.sql]}}
  - {key: child, type: run_pipeline, with: {pipeline: q, env: staging}}
`, want: []string{
			`pipelines/p.yaml:3:43: tasks[0].with: unknown dataset "tpch" (the only dataset is olist)`,
			`pipelines/p.yaml:4:22: tasks[1].type: task type databricks_job needs engine databricks (environment local) (disable the task in this environment or use a databricks environment)`,
			`pipelines/p.yaml:4:60: tasks[1].with: databricks_job needs exactly one of job_id and job (give job_id: 123 or job: "name")`,
			`pipelines/p.yaml:5:35: tasks[2].with: unknown dbt command "biuld" (did you mean "build"?)`,
			`pipelines/p.yaml:6:39: tasks[3].with: on_timeout "retry" (use fail or skip)`,
			`pipelines/p.yaml:7:5: tasks[4].with.pipeline: dlt_pipeline task without pipeline (name a pipeline from dlt_pipelines in sluice.yaml)`,
			`pipelines/p.yaml:8:37: tasks[5].with: notify task has no message (give message: "...")`,
			`pipelines/p.yaml:9:43: tasks[6].with.files[0]: SQL file sql/missing.sql not found (paths are relative to the project folder)`,
			`pipelines/p.yaml:10:55: tasks[7].with.pipeline: unknown pipeline "q" (did you mean "p"?)`,
			`pipelines/p.yaml:10:63: tasks[7].with.env: unknown environment "staging" (known: local, prod)`,
		}},
		{name: "SQLFileOutsideProject", pipeline: `name: p
tasks:
  - {key: a, type: sql, with: {files: [../../etc/passwd, /etc/passwd, sql/./a.sql]}}
`, want: []string{
			`pipelines/p.yaml:3:40: tasks[0].with.files[0]: SQL file ../../etc/passwd is outside the project folder (paths are relative to the project folder)`,
			`pipelines/p.yaml:3:58: tasks[0].with.files[1]: SQL file /etc/passwd is outside the project folder (paths are relative to the project folder)`,
		}},
		// --- values
		{name: "BadDurations", pipeline: `name: p
timeout: 5 minutes
tasks:
  - key: a
    type: noop
    heartbeat: -5s
    retry: {interval: "10"}
    timeout: 1e300d
`, want: []string{
			`pipelines/p.yaml:2:10: timeout: "5 minutes" is not a duration (write e.g. 90s, 30m, 2h or 7d)`,
			`pipelines/p.yaml:6:16: tasks[0].heartbeat: "-5s" is negative (durations must be positive)`,
			`pipelines/p.yaml:7:23: tasks[0].retry.interval: "10" is not a duration (write e.g. 90s, 30m, 2h or 7d)`,
			`pipelines/p.yaml:8:14: tasks[0].timeout: "1e300d" is too long (durations must be under 106751d)`,
		}},
		{name: "WrongTypes", pipeline: `name: p
max_parallel: many
timeout: [1h]
tasks:
  - {key: a, type: noop}
  - {key: b, type: noop, depends_on: a, disabled: maybe}
  - {key: c, type: generate_data, with: {orders: lots, malformed_rate: high}}
  - {key: d, type: noop, with: [1, 2]}
`, want: []string{
			`pipelines/p.yaml:2:15: max_parallel: expected an integer, got "many"`,
			`pipelines/p.yaml:3:10: timeout: expected a single value, got a list`,
			`pipelines/p.yaml:6:38: tasks[1].depends_on: expected a list, got "a" (write a list: [a])`,
			`pipelines/p.yaml:6:51: tasks[1].disabled: expected true or false, got "maybe"`,
			`pipelines/p.yaml:7:50: tasks[2].with.orders: expected an integer, got "lots"`,
			`pipelines/p.yaml:7:72: tasks[2].with.malformed_rate: expected a number, got "high"`,
			`pipelines/p.yaml:8:32: tasks[3].with: expected a mapping (key: value), got a list`,
		}},
		{name: "TasksNotAList", pipeline: `name: {first: p}
tasks: {a: {type: noop}}
`, want: []string{
			`pipelines/p.yaml:1:1: name: missing pipeline name (add name: <pipeline name>)`,
			`pipelines/p.yaml:1:7: name: expected a string, got a mapping`,
			`pipelines/p.yaml:2:8: tasks: expected a list, got a mapping`,
			`pipelines/p.yaml:2:8: tasks: pipeline has no tasks (add at least one task)`,
		}},
		{name: "BadRunIf", pipeline: `name: p
tasks:
  - {key: a, type: noop}
  - {key: b, type: noop, depends_on: [a], run_if: ALL_SUCCES}
  - {key: c, type: noop, run_if: ALL_DONE}
`, want: []string{
			`pipelines/p.yaml:4:51: tasks[1].run_if: unknown run_if "ALL_SUCCES" (did you mean "ALL_SUCCESS"?)`,
			`pipelines/p.yaml:5:34: tasks[2].run_if: run_if on a task with no upstream tasks (add depends_on or remove run_if)`,
		}},
		{name: "BadRetry", pipeline: `name: p
timeout: 1h
tasks:
  - {key: a, type: noop, timeout: 2h, retry: {attempts: 101, backoff: 0.5}}
`, want: []string{
			`pipelines/p.yaml:4:35: warning: tasks[0].timeout: task timeout 2h is longer than the pipeline timeout 1h (the pipeline timeout ends the run first)`,
			`pipelines/p.yaml:4:57: tasks[0].retry.attempts: attempts is 101 (use 1 (no retry) to 100)`,
			`pipelines/p.yaml:4:71: tasks[0].retry.backoff: backoff 0.5 is below 1 (use 1 (constant) or more)`,
		}},
		{name: "BadNames", pipeline: `name: daily pipeline
params: {my-param: 1}
max_parallel: -1
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:1:7: name: bad pipeline name "daily pipeline" (use letters, digits, _ and -)`,
			`pipelines/p.yaml:2:20: params.my-param: bad parameter name "my-param" (use letters, digits and _)`,
			`pipelines/p.yaml:3:15: max_parallel: max_parallel is -1 (use a positive number)`,
		}},
		// --- schedules
		{name: "BadTimezoneAndOverlap", pipeline: `name: p
schedule: {cron: "0 6 * * *", timezone: Europe/Pariss, overlap: skipp}
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:2:41: schedule.timezone: unknown time zone "Europe/Pariss" (use an IANA name such as UTC or Europe/Paris)`,
			`pipelines/p.yaml:2:65: schedule.overlap: unknown overlap policy "skipp" (did you mean "skip"?)`,
		}},
		{name: "ScheduleWithoutCron", pipeline: `name: p
schedule: {timezone: UTC}
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:2:11: schedule.cron: schedule without cron (add cron: "0 6 * * *")`,
		}},
		// --- references
		{name: "TaskRefsNotUpstream", pipeline: `name: p
tasks:
  - {key: gen, type: noop}
  - {key: side, type: noop}
  - key: check
    type: notify
    depends_on: [gen]
    with:
      channels: [console]
      message: "${tasks.side.output.n} ${tasks.check.output.n} ${tasks.gen.output.n} ${tasks.genn.output.n}"
`, want: []string{
			`pipelines/p.yaml:10:16: tasks[2].with.message: task "side" is not upstream of "check", so its output is not known yet (add side to depends_on, directly or through another task)`,
			`pipelines/p.yaml:10:16: tasks[2].with.message: ${tasks.check.output.n} refers to this task (a task cannot use its own output)`,
			`pipelines/p.yaml:10:16: tasks[2].with.message: unknown task "genn" in ${tasks.genn.output.n} (did you mean "gen"?)`,
		}},
		{name: "MalformedRefs", pipeline: `name: p
tasks:
  - key: a
    type: noop
    with:
      message: "${tasks.gen.rows}"
  - {key: b, type: noop, with: {message: "${foo.bar}"}}
  - {key: c, type: noop, with: {message: "${params.x"}}
  - {key: d, type: noop, with: {message: "${params}"}}
  - {key: e, type: noop, with: {message: "${env:1BAD}"}}
`, want: []string{
			`pipelines/p.yaml:6:16: tasks[0].with.message: bad task reference ${tasks.gen.rows} (write ${tasks.<key>.output.<field>})`,
			`pipelines/p.yaml:7:42: tasks[1].with.message: unknown reference ${foo.bar} (references start with params., run., env., tasks., env: or secret:)`,
			`pipelines/p.yaml:8:42: tasks[2].with.message: unterminated reference in "${params.x" (close it with }, or write $${ for a literal ${)`,
			`pipelines/p.yaml:9:42: tasks[3].with.message: incomplete reference ${params} (name a field, e.g. ${params.name})`,
			`pipelines/p.yaml:10:42: tasks[4].with.message: bad environment variable reference ${env:1BAD} (write ${env:NAME} or ${env:NAME:-default})`,
		}},
		{name: "UnknownParams", pipeline: `name: p
params: {orders: 10}
tasks:
  - {key: a, type: noop, with: {message: "${params.order} ${params.catalog} ${params.orders}"}}
`, want: []string{
			`pipelines/p.yaml:4:42: tasks[0].with.message: unknown parameter "order" (did you mean "orders"?; declare it under params:)`,
		}},
		{name: "UnknownRunFieldsAndDateFormats", pipeline: `name: p
tasks:
  - key: a
    type: noop
    with:
      message: "${run.idd} ${run.id.short} ${run.logical_date.yyyy} ${run.logical_date.yyyymmdd} ${run.trigger}"
`, want: []string{
			`pipelines/p.yaml:6:16: tasks[0].with.message: unknown run field "idd" (did you mean "id"?)`,
			`pipelines/p.yaml:6:16: tasks[0].with.message: run field "id" has no field "short" (write ${run.id})`,
			`pipelines/p.yaml:6:16: tasks[0].with.message: unknown date format "yyyy" (use one of day, hour, iso_date, iso_datetime, minute, month, timestamp_ms, year, yyyymmdd, yyyymmddhh)`,
		}},
		{name: "UnknownEnvFields", pipeline: `name: p
tasks:
  - {key: a, type: noop, with: {message: "${env.catalogue} ${env.warehouse_id} ${env.name}"}}
`, want: []string{
			`pipelines/p.yaml:3:42: tasks[0].with.message: unknown environment field "catalogue" (did you mean "catalog"?)`,
		}},
		{name: "UnknownChannels", project: baseProject + `notify: {on_start: [consol]}
`, pipeline: `name: p
notify: {on_failure: [data-eng, slack]}
tasks:
  - {key: a, type: notify, with: {channels: [console, pager], message: hi}}
`, want: []string{
			`pipelines/p.yaml:2:33: notify.on_failure[1]: unknown channel "slack" (known: console, data-eng)`,
			`pipelines/p.yaml:4:55: tasks[0].with.channels[1]: unknown channel "pager" (known: console, data-eng)`,
			`sluice.yaml:19:21: notify.on_start[0]: unknown channel "consol" (did you mean "console"?)`,
		}},
		{name: "UnknownDLTPipelineAndDbtProject", pipeline: `name: p
tasks:
  - {key: a, type: dlt_pipeline, with: {pipeline: mian}}
  - {key: b, type: dbt, with: {project: warehous}}
`, want: []string{
			`pipelines/p.yaml:3:51: tasks[0].with.pipeline: unknown DLT pipeline "mian" (did you mean "main"?)`,
			`pipelines/p.yaml:4:41: tasks[1].with.project: unknown dbt project "warehous" (did you mean "warehouse"?)`,
		}},
		{name: "DLTPipelineWithoutEngineDefinition", project: strings.Replace(baseProject,
			"dlt_pipelines:\n", "dlt_pipelines:\n  local_only: {local: local_pipelines/main}\n  cloud_only: {databricks: {id: abc}}\n", 1), pipeline: `name: p
tasks:
  - {key: a, type: dlt_pipeline, with: {pipeline: local_only}}
  - {key: b, type: dlt_pipeline, with: {pipeline: cloud_only}}
`, want: []string{
			`pipelines/p.yaml:3:51: tasks[0].with.pipeline: DLT pipeline "local_only" has no databricks definition (environment prod) (add databricks: {name: ...} to dlt_pipelines.local_only)`,
			`pipelines/p.yaml:4:51: tasks[1].with.pipeline: DLT pipeline "cloud_only" has no local definition (environment local) (add local: <folder> to dlt_pipelines.cloud_only)`,
		}},
		// --- pipelines and overlays
		{name: "DuplicatePipelineNames", files: map[string]string{
			"pipelines/a.yaml": "name: daily\ntasks: [{key: a, type: noop}]\n",
			"pipelines/b.yaml": "name: daily\ntasks: [{key: b, type: noop}]\n",
		}, want: []string{
			`pipelines/b.yaml:1:7: name: pipeline "daily" is also defined in pipelines/a.yaml (rename one of them)`,
		}},
		{name: "UnknownOverlayEnvironment", pipeline: `name: p
tasks:
  - {key: a, type: noop}
environments:
  prd: {timeout: 1h}
`, want: []string{
			`pipelines/p.yaml:5:8: environments.prd: unknown environment "prd" (did you mean "prod"?)`,
		}},
		{name: "OverlayOfUnknownTask", pipeline: `name: p
tasks:
  - {key: load, type: noop}
environments:
  prod:
    tasks:
      lod: {disabled: true}
`, want: []string{
			`pipelines/p.yaml:7:7: environments.prod.tasks.lod: no task "lod" to override (did you mean "load"?)`,
		}},
		{name: "OverlayBreaksThePipeline", pipeline: `name: p
tasks:
  - {key: a, type: noop}
  - {key: b, type: noop, depends_on: [a]}
environments:
  prod:
    schedule: {cron: "0 6 * *"}
    tasks:
      b: {run_if: SOMETIMES}
`, want: []string{
			`pipelines/p.yaml:7:22: environments.prod.schedule.cron: cron "0 6 * *" has 4 fields (write 5 fields "minute hour day-of-month month day-of-week" (e.g. "0 6 * * *") or Quartz "0 0 6 * * ?")`,
			`pipelines/p.yaml:9:19: tasks[1].run_if: unknown run_if "SOMETIMES" (known: ALL_SUCCESS, AT_LEAST_ONE_SUCCESS, NONE_FAILED, ALL_DONE, AT_LEAST_ONE_FAILED, ALL_FAILED)`,
		}},
		{name: "AfterTriggers", pipeline: `name: p
after:
  - {pipeline: q, on: [SUCCESS, DONE]}
tasks:
  - {key: a, type: noop}
`, want: []string{
			`pipelines/p.yaml:3:16: after[0].pipeline: unknown pipeline "q" (did you mean "p"?)`,
			`pipelines/p.yaml:3:33: after[0].on[1]: unknown outcome "DONE" (use SUCCESS, SUCCESS_WITH_FAILURES, FAILED, TIMEDOUT or CANCELED)`,
		}},
		// --- files
		{name: "InvalidYAML", pipeline: `name: p
tasks:
  - key: a
   type: noop
`, want: []string{
			`pipelines/p.yaml:3:1: invalid YAML: did not find expected '-' indicator (check indentation and quoting)`,
		}},
		{name: "InvalidYAMLUnclosedFlow", pipeline: `name: p
tasks:
  - {key: a, type: noop
  - {key: b, type: noop}
`, want: []string{
			`pipelines/p.yaml:3:1: invalid YAML: did not find expected ',' or '}' (check indentation and quoting)`,
		}},
		{name: "InvalidYAMLScanner", pipeline: `name: p
description: a: b
tasks: [{key: a, type: noop}]
`, want: []string{
			`pipelines/p.yaml:2:1: invalid YAML: mapping values are not allowed in this context (check indentation and quoting)`,
		}},
		{name: "EmptyFile", pipeline: "# nothing yet\n", want: []string{
			`pipelines/p.yaml:1:1: file is empty`,
		}},
		{name: "MultipleDocuments", pipeline: `name: p
tasks: [{key: a, type: noop}]
---
name: q
`, want: []string{
			`pipelines/p.yaml:3:1: more than one YAML document (remove the --- separator: one document per file)`,
		}},
		{name: "TopLevelList", pipeline: `- name: p
`, want: []string{
			`pipelines/p.yaml:1:1: expected a mapping at the top level, got a list`,
		}},
		{name: "AliasLoop", pipeline: `name: p
tasks: &all
  - {key: a, type: noop, with: {message: *all}}
`, want: []string{
			`pipelines/p.yaml:3:42: alias *all refers to a value that contains it (an anchor cannot be used inside its own value)`,
		}},
		// --- project
		{name: "ProjectProblems", project: `project: my project
default_env: dev
environments:
  local: {engine: lokal, schedules: sometimes}
  prod: {}
dlt_pipelines:
  empty: {}
  gone: {local: local_pipelines/gone, databricks: {}}
channels:
  mail: {type: email, to: [a@example.com]}
  hook: {type: webhook}
  pager: {type: pagerduty}
  none: {}
dbt_projects:
  nowhere: {}
`, pipeline: `name: p
tasks:
  - {key: a, type: noop}
`, want: []string{
			`sluice.yaml:1:10: project: bad project name "my project" (use letters, digits, _ and -)`,
			`sluice.yaml:2:14: default_env: unknown environment "dev" (known: local, prod)`,
			`sluice.yaml:4:19: environments.local.engine: unknown engine "lokal" (use local or databricks)`,
			`sluice.yaml:4:37: environments.local.schedules: unknown value "sometimes" (use active or paused)`,
			`sluice.yaml:5:9: environments.prod.engine: missing engine (add engine: local or engine: databricks)`,
			`sluice.yaml:7:10: dlt_pipelines.empty: no definition for any engine (add local: <folder> and/or databricks: {name: ...})`,
			`sluice.yaml:8:17: dlt_pipelines.gone.local: no pipeline.yaml in local_pipelines/gone (the folder must hold pipeline.yaml)`,
			`sluice.yaml:8:51: dlt_pipelines.gone.databricks: no pipeline id or name (give id: or name:)`,
			"sluice.yaml:10:9: channels.mail: email channel needs `smtp` (an SMTP URL such as \"${secret:SMTP_URL}\" holding smtp://user:pass@host:587)",
			"sluice.yaml:11:9: channels.hook: webhook channel needs `url` (the http(s) URL that receives the JSON POST)",
			`sluice.yaml:12:10: channels.pager: unknown channel type "pagerduty"; use one of email, slack, webhook, log`,
			"sluice.yaml:13:9: channels.none: `type` is required; use one of email, slack, webhook, log",
			`sluice.yaml:15:12: dbt_projects.nowhere: no project source (give repo: <git url> or path: <local folder>)`,
		}},
		// --- warnings
		{name: "UnsetEnvVarWarnings", project: `project: acme
environments:
  local:
    engine: local
    warehouse: "${env:` + unsetVar + `}"
    volume: "${env:` + unsetVar + `:-.data}"
`, pipeline: `name: p
tasks:
  - {key: a, type: noop, with: {message: "${env:` + unsetVar + `} ${env:` + unsetVar + `:-fine}"}}
`, want: []string{
			`pipelines/p.yaml:3:42: warning: tasks[0].with.message: environment variable SLUICE_SPEC_TEST_NEVER_SET is not set (set SLUICE_SPEC_TEST_NEVER_SET or write ${env:SLUICE_SPEC_TEST_NEVER_SET:-default})`,
			`sluice.yaml:5:16: warning: environments.local.warehouse: environment variable SLUICE_SPEC_TEST_NEVER_SET is not set (set SLUICE_SPEC_TEST_NEVER_SET or write ${env:SLUICE_SPEC_TEST_NEVER_SET:-default})`,
		}},
		{name: "ClearTextCredentials", project: `project: acme
environments:
  local: {engine: local}
channels:
  mail: {type: email, to: [a@example.com], smtp: "smtp://me:hunter2@mail.example.com:587"}
  chat: {type: slack, webhook: "https://hooks.slack.com/services/T0/B0/XYZ"}
  hook: {type: webhook, url: "https://example.com/hook", secret: "${secret:HOOK_KEY}"}
dbt_projects:
  warehouse: {repo: "https://github.com/acme/data.git", token: ghp_abc123}
`, pipeline: `name: p
tasks:
  - {key: a, type: noop}
`, want: []string{
			`sluice.yaml:5:50: warning: channels.mail.smtp: looks like a credential written in clear (write ${secret:NAME} so it stays out of the repository and of run history)`,
			`sluice.yaml:6:32: warning: channels.chat.webhook: looks like a credential written in clear (write ${secret:NAME} so it stays out of the repository and of run history)`,
			`sluice.yaml:9:64: warning: dbt_projects.warehouse.token: looks like a token written in clear (write ${secret:NAME})`,
		}},
	})
}
