package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/sluicedata/sluice/activities/builtin"
	adatabricks "github.com/sluicedata/sluice/activities/databricks"
	"github.com/sluicedata/sluice/activities/datagen"
	adbt "github.com/sluicedata/sluice/activities/dbt"
	"github.com/sluicedata/sluice/activities/dlt"
	"github.com/sluicedata/sluice/activities/notify"
	"github.com/sluicedata/sluice/activities/quality"
	"github.com/sluicedata/sluice/activities/warehouse"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/internal/task"
)

var (
	builtinActs   *builtin.Activities
	warehouseActs *warehouse.Activities
	notifyActs    *notify.Activities
	datagenActs   *datagen.Activities
	dltActs       *dlt.Activities
	qualityActs   *quality.Activities
	jobActs       *adatabricks.Activities
)

// execute starts one attempt of a task: it decodes the task's config (its
// `with`, references resolved) into the type's config struct and calls the
// type's activity.
func (r *pipelineRun) execute(ctx workflow.Context, t *taskRun, meta task.Meta, with map[string]any) (workflow.Future, error) {
	switch t.plan.Type {
	case "noop":
		c, err := decode[spec.NoopConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, builtinActs.Noop, builtin.NoopInput{Meta: meta, Config: c}), nil
	case "sql":
		c, err := decode[spec.SQLConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, warehouseActs.RunSQL, warehouse.SQLInput{Meta: meta, Config: c}), nil
	case "generate_data":
		c, err := decode[spec.GenerateDataConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, datagenActs.Generate, datagen.GenerateInput{Meta: meta, Config: c}), nil
	case "dlt_pipeline":
		c, err := decode[spec.DLTPipelineConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, dltActs.RunUpdate, dlt.UpdateInput{Meta: meta, Config: c}), nil
	case "quality_checks":
		c, err := decode[spec.QualityChecksConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, qualityActs.RunChecks, quality.ChecksInput{Meta: meta, Config: c}), nil
	case "dbt":
		c, err := decode[spec.DbtConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, dbtActs.RunDbt, adbt.RunInput{Meta: meta, Config: c}), nil
	case "databricks_job":
		c, err := decode[spec.DatabricksJobConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, jobActs.RunJob, adatabricks.JobInput{Meta: meta, Config: c}), nil
	case "notify":
		c, err := decode[spec.NotifyConfig](with)
		if err != nil {
			return nil, err
		}
		return workflow.ExecuteActivity(ctx, notifyActs.SendTask, notify.TaskInput{Meta: meta, Config: c, Channels: r.plan.Channels}), nil
	}
	return nil, fmt.Errorf("task type %s cannot run on this worker version", t.plan.Type)
}

// decode turns a task's resolved `with` into its config struct.
func decode[C any](with map[string]any) (C, error) {
	var c C
	if err := spec.DecodeValue(with, &c); err != nil {
		return c, fmt.Errorf("invalid config: %w", err)
	}
	if v, ok := any(c).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return c, fmt.Errorf("invalid config: %w", err)
		}
	}
	return c, nil
}
