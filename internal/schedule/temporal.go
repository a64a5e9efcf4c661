package schedule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/sluicedata/sluice/internal/dag"
	"github.com/sluicedata/sluice/internal/run"
	"github.com/sluicedata/sluice/internal/spec"
	"github.com/sluicedata/sluice/workflows"
)

// memoKey is the action memo field recording what the spec said about the
// paused state at the last apply (see the package comment).
const memoKey = "sluice_schedule"

// applied is the memo value: the spec's paused state at the last apply.
type applied struct {
	Paused bool   `json:"paused"`
	Note   string `json:"note,omitempty"`
}

var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	spec.OverlapSkip:        enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	spec.OverlapBufferOne:   enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	spec.OverlapBufferAll:   enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	spec.OverlapCancelOther: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	spec.OverlapAllow:       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// OverlapPolicy returns Temporal's policy for a spec overlap value.
func OverlapPolicy(overlap string) enumspb.ScheduleOverlapPolicy {
	if p, ok := overlapPolicies[overlap]; ok {
		return p
	}
	return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
}

// overlapName is the spec name of Temporal's policy (Temporal's own name
// for policies the spec has no word for, such as TerminateOther).
func overlapName(p enumspb.ScheduleOverlapPolicy) string {
	for _, name := range spec.Overlaps {
		if overlapPolicies[name] == p {
			return name
		}
	}
	return p.String()
}

// scheduleSpec is the Temporal spec: the cron with itself as comment, so
// that Describe (which returns only the parsed calendar) gives it back.
func (d Desired) scheduleSpec() client.ScheduleSpec {
	return client.ScheduleSpec{
		CronExpressions: []string{d.Cron + " # " + d.Cron},
		TimeZoneName:    d.Timezone,
		Jitter:          d.Jitter,
	}
}

func (d Desired) actionAttributes() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		workflows.AttrPipeline.ValueSet(d.Pipeline),
		workflows.AttrEnv.ValueSet(d.Env),
		workflows.AttrTrigger.ValueSet(string(run.TriggerScheduled)),
		workflows.AttrStatus.ValueSet(string(dag.StatusRunning)),
	)
}

// scheduleAttributes are set on the schedule itself, so that
// `temporal schedule list --query 'SluiceEnv="prod"'` finds it.
func (d Desired) scheduleAttributes() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		workflows.AttrPipeline.ValueSet(d.Pipeline),
		workflows.AttrEnv.ValueSet(d.Env),
	)
}

func (d Desired) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		// Temporal appends the scheduled time: <schedule id>-<time>
		ID:                       d.ID,
		Workflow:                 run.WorkflowName,
		Args:                     []any{d.Input()},
		TaskQueue:                spec.QueueDefault,
		WorkflowExecutionTimeout: d.ExecutionTimeout(),
		Memo:                     map[string]any{memoKey: applied{Paused: d.Paused, Note: d.Note}},
		TypedSearchAttributes:    d.actionAttributes(),
		StaticSummary:            d.Summary(),
	}
}

func (d Desired) policy() *client.SchedulePolicies {
	return &client.SchedulePolicies{Overlap: OverlapPolicy(d.Overlap), CatchupWindow: d.CatchupWindow}
}

// options are the create options of the schedule.
func (d Desired) options() client.ScheduleOptions {
	return client.ScheduleOptions{
		ID:                    d.ID,
		Spec:                  d.scheduleSpec(),
		Action:                d.action(),
		Overlap:               OverlapPolicy(d.Overlap),
		CatchupWindow:         d.CatchupWindow,
		Paused:                d.Paused,
		Note:                  d.Note,
		TypedSearchAttributes: d.scheduleAttributes(),
	}
}

// Live is a schedule as the server has it, in the terms Desired uses.
type Live struct {
	ID string
	// Cron is the expression apply wrote (the calendar's comment); empty
	// when the spec is anything else, which Spec then describes.
	Cron             string
	Spec             string
	Timezone         string
	Jitter           time.Duration
	Overlap          string
	CatchupWindow    time.Duration
	Paused           bool
	Note             string
	Workflow         string
	TaskQueue        string
	Input            string // the workflow input as JSON
	ExecutionTimeout time.Duration
	Summary          string
	ActionAttrs      string // Sluice search attributes of the runs, "K=v K=v"
	ScheduleAttrs    string // Sluice search attributes of the schedule
	// Applied is what the spec said about pausing at the last apply; nil
	// when the schedule was never applied by sluice.
	Applied *applied
	Info    client.ScheduleInfo
}

// liveFromDescription reads a Describe answer.
func liveFromDescription(id string, desc *client.ScheduleDescription) *Live {
	l := &Live{ID: id, Info: desc.Info}
	s := desc.Schedule
	if sp := s.Spec; sp != nil {
		l.Timezone, l.Jitter = sp.TimeZoneName, sp.Jitter
		if l.Timezone == "" {
			l.Timezone = DefaultTimezone
		}
		if len(sp.Calendars) == 1 && len(sp.Intervals) == 0 && len(sp.CronExpressions) == 0 && len(sp.Skip) == 0 &&
			sp.StartAt.IsZero() && sp.EndAt.IsZero() && validComment(sp.Calendars[0].Comment) {
			l.Cron = sp.Calendars[0].Comment
		} else {
			l.Spec = fmt.Sprintf("%d calendar(s), %d interval(s) set outside sluice", len(sp.Calendars)+len(sp.CronExpressions), len(sp.Intervals))
		}
	}
	if p := s.Policy; p != nil {
		l.Overlap, l.CatchupWindow = overlapName(p.Overlap), p.CatchupWindow
	}
	if st := s.State; st != nil {
		l.Paused, l.Note = st.Paused, st.Note
	}
	a, ok := s.Action.(*client.ScheduleWorkflowAction)
	if !ok {
		l.Workflow = fmt.Sprintf("%T", s.Action)
		return l
	}
	l.Workflow, _ = a.Workflow.(string)
	l.TaskQueue = a.TaskQueue
	l.ExecutionTimeout = a.WorkflowExecutionTimeout
	l.Summary = a.StaticSummary
	l.Input = decodeInput(a.Args)
	l.ActionAttrs = attrString(a.TypedSearchAttributes)
	l.ScheduleAttrs = attrString(desc.TypedSearchAttributes)
	if p, ok := a.Memo[memoKey].(*commonpb.Payload); ok {
		var ap applied
		if converter.GetDefaultDataConverter().FromPayload(p, &ap) == nil {
			l.Applied = &ap
		}
	}
	return l
}

// validComment reports whether a calendar comment is a cron apply wrote.
func validComment(c string) bool {
	_, err := spec.ParseCron(c)
	return c != "" && err == nil && len(strings.Fields(c)) == 5
}

// decodeInput returns the workflow input as canonical JSON of run.Input.
func decodeInput(args []any) string {
	if len(args) != 1 {
		return fmt.Sprintf("%d arguments", len(args))
	}
	p, ok := args[0].(*commonpb.Payload)
	if !ok {
		return fmt.Sprintf("%v", args[0])
	}
	var in run.Input
	if err := converter.GetDefaultDataConverter().FromPayload(p, &in); err != nil {
		return string(p.GetData())
	}
	return inputJSON(in)
}

func inputJSON(in run.Input) string {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Sprintf("%+v", in)
	}
	return string(b)
}

// attrString formats the Sluice search attributes as "K=v K=v", sorted.
func attrString(sa temporal.SearchAttributes) string {
	var parts []string
	for k, v := range sa.GetUntypedValues() {
		if name := k.GetName(); strings.HasPrefix(name, "Sluice") {
			parts = append(parts, fmt.Sprintf("%s=%v", name, v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
