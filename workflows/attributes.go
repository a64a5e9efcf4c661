package workflows

import (
	"go.temporal.io/sdk/temporal"
)

// Search attributes Sluice upserts on every run; register them on the
// namespace before starting workers (the dev server does it with
// --search-attribute, the worker checks at start).
var (
	AttrPipeline    = temporal.NewSearchAttributeKeyKeyword("SluicePipeline")
	AttrEnv         = temporal.NewSearchAttributeKeyKeyword("SluiceEnv")
	AttrTrigger     = temporal.NewSearchAttributeKeyKeyword("SluiceTrigger")
	AttrStatus      = temporal.NewSearchAttributeKeyKeyword("SluiceStatus")
	AttrLogicalDate = temporal.NewSearchAttributeKeyTime("SluiceLogicalDate")
	AttrFailedTasks = temporal.NewSearchAttributeKeyKeywordList("SluiceFailedTasks")

	// Set by Temporal on runs started by a schedule.
	attrScheduledStart = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
)

// SearchAttributes maps every custom attribute name to its type name, as
// `temporal operator search-attribute create` and the dev server take them.
var SearchAttributes = map[string]string{
	"SluicePipeline":    "Keyword",
	"SluiceEnv":         "Keyword",
	"SluiceTrigger":     "Keyword",
	"SluiceStatus":      "Keyword",
	"SluiceLogicalDate": "Datetime",
	"SluiceFailedTasks": "KeywordList",
}
