package databricks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// UpdateRequest asks for one update of a DLT pipeline.
type UpdateRequest struct {
	// PipelineID or PipelineName identifies the pipeline; set one. A name is
	// looked up once per Client and cached.
	PipelineID   string
	PipelineName string
	// FullRefresh resets and recomputes every table.
	FullRefresh bool
	// RefreshSelection and FullRefreshSelection limit the update to tables.
	RefreshSelection     []string
	FullRefreshSelection []string
	// Cause is the update's cause. Default API_CALL.
	Cause string
	// Ref says where the pipeline is named in the user's spec (e.g.
	// "sluice.yaml:14 dlt_pipelines.olist_main.databricks.name"), for errors.
	Ref string
}

// UpdateResume is what RunUpdate heartbeats: enough to re-attach.
type UpdateResume struct {
	PipelineID string
	UpdateID   string
	// StartRequestedAt is when this task first asked for an update; updates
	// created after it (less ClockSkew) with our cause and selection are ours.
	StartRequestedAt time.Time
	// States are the states seen so far.
	States []StateSpan
}

// UpdateProgress is the latest poll of an update.
type UpdateProgress struct {
	PipelineID string
	UpdateID   string
	State      string
	// Changed is true when State differs from the previous poll.
	Changed bool
	Elapsed time.Duration
}

// UpdateResult describes a finished update.
type UpdateResult struct {
	PipelineID string
	UpdateID   string
	// State is the final state: COMPLETED, FAILED or CANCELED.
	State string
	// States are every state seen, in order, with how long each lasted.
	States []StateSpan
	// URL opens the update in the workspace UI.
	URL string
	// Reattached is true when this call picked up an update started earlier.
	Reattached bool
}

// StateSpan is one observed state and how long it lasted (until the next
// state was seen, or until the last poll).
type StateSpan struct {
	State    string
	Since    time.Time
	Duration time.Duration
}

const defaultCause = "API_CALL"

// clone copies r so a heartbeat never shares the slice later polls update.
func (r UpdateResume) clone() UpdateResume {
	r.States = slices.Clone(r.States)
	return r
}

func (r UpdateRequest) cause() string {
	if r.Cause == "" {
		return defaultCause
	}
	return r.Cause
}

func (r UpdateRequest) hint() string {
	if r.Ref != "" {
		return r.Ref
	}
	return "the pipeline's databricks id/name in the spec"
}

func (r UpdateRequest) label() string {
	if r.PipelineName != "" {
		return fmt.Sprintf("pipeline %q", r.PipelineName)
	}
	return fmt.Sprintf("pipeline %s", r.PipelineID)
}

// RunUpdate starts (or re-attaches to) a pipeline update and waits for it to
// finish. hb is called with the update id right after the start returns and
// then on every poll. A FAILED update returns a KindFailed error carrying the
// update's ERROR events; CANCELED returns KindCanceled. When ctx is cancelled
// the update is stopped and ctx.Err() returned.
func (c *Client) RunUpdate(ctx context.Context, req UpdateRequest, resume *UpdateResume, hb func(UpdateResume, UpdateProgress)) (UpdateResult, error) {
	if hb == nil {
		hb = func(UpdateResume, UpdateProgress) {}
	}
	var st UpdateResume
	reattached := false
	switch {
	case resume != nil && resume.UpdateID != "":
		st, reattached = *resume, true
	default:
		if req.PipelineID != "" && req.PipelineName != "" {
			return UpdateResult{}, &Error{Kind: KindInvalid, Message: fmt.Sprintf(
				"running an update: both pipeline id %q and name %q are set: keep one in %s", req.PipelineID, req.PipelineName, req.hint())}
		}
		pid, err := c.pipelineID(ctx, req)
		if err != nil {
			return UpdateResult{}, err
		}
		var prev *UpdateResume
		if resume != nil && resume.PipelineID == pid && !resume.StartRequestedAt.IsZero() {
			prev = resume
		}
		st, reattached, err = c.startUpdate(ctx, pid, req, prev)
		if err != nil {
			return UpdateResult{PipelineID: pid}, err
		}
		hb(st, UpdateProgress{PipelineID: pid, UpdateID: st.UpdateID, Changed: true})
	}
	res, err := c.pollUpdate(ctx, req, st, hb)
	res.Reattached = reattached
	return res, err
}

// pipelineID resolves req to a pipeline id, looking names up once per Client.
func (c *Client) pipelineID(ctx context.Context, req UpdateRequest) (string, error) {
	if req.PipelineID != "" {
		return req.PipelineID, nil
	}
	name := req.PipelineName
	if name == "" {
		return "", &Error{Kind: KindInvalid, Message: fmt.Sprintf(
			"running an update: no pipeline id or name: set one in %s", req.hint())}
	}
	c.mu.Lock()
	id, ok := c.pipelineIDs[name]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	filter := fmt.Sprintf("name LIKE '%s'", strings.ReplaceAll(name, "'", "''"))
	var found []pipelines.PipelineStateInfo
	err := c.retry(ctx, func(ctx context.Context) error {
		all, err := c.svc.Pipelines.ListPipelinesAll(ctx, pipelines.ListPipelinesRequest{Filter: filter, MaxResults: 100})
		found = all
		return err
	})
	if err != nil {
		return "", c.describe(err, fmt.Sprintf("looking up pipeline %q", name), req.hint())
	}
	var ids []string
	for _, p := range found {
		if p.Name == name { // LIKE also matches % and _ wildcards
			ids = append(ids, p.PipelineId)
		}
	}
	switch len(ids) {
	case 0:
		return "", &Error{Kind: KindNotFound, Code: "PIPELINE_NOT_FOUND", Message: fmt.Sprintf(
			"pipeline %q not found in workspace %s: check %s (names are case-sensitive), or use the pipeline id", name, c.host, req.hint())}
	case 1:
	default:
		return "", &Error{Kind: KindAmbiguous, Code: "PIPELINE_NAME_AMBIGUOUS", Message: fmt.Sprintf(
			"pipeline name %q matches %d pipelines in workspace %s (ids %s): use the pipeline id instead of the name in %s",
			name, len(ids), c.host, strings.Join(ids, ", "), req.hint())}
	}
	c.mu.Lock()
	c.pipelineIDs[name] = ids[0]
	c.mu.Unlock()
	return ids[0], nil
}

// startUpdate starts an update, never twice: when a start's outcome is
// unknown (timeout, 5xx) or a previous attempt may have started one, the
// pipeline's recent updates are searched for ours before starting again.
func (c *Client) startUpdate(ctx context.Context, pid string, req UpdateRequest, prev *UpdateResume) (UpdateResume, bool, error) {
	op := fmt.Sprintf("starting an update of %s (id %s)", req.label(), pid)
	st := UpdateResume{PipelineID: pid, StartRequestedAt: c.now()}
	if prev != nil {
		st.StartRequestedAt = prev.StartRequestedAt
		u, err := c.findOurUpdate(ctx, pid, req, st.StartRequestedAt)
		if err != nil {
			return st, false, c.describe(err, op, req.hint())
		}
		if u != "" {
			st.UpdateID = u
			return st, true, nil
		}
	}
	body := pipelines.StartUpdate{
		PipelineId:           pid,
		Cause:                pipelines.StartUpdateCause(req.cause()),
		FullRefresh:          req.FullRefresh,
		RefreshSelection:     req.RefreshSelection,
		FullRefreshSelection: req.FullRefreshSelection,
		ForceSendFields:      []string{"FullRefresh"},
	}
	start := c.now()
	b := c.newBackoff()
	uncertain := false
	for {
		var resp *pipelines.StartUpdateResponse
		err := c.attempt(ctx, c.cfg.HTTPTimeout, func(ctx context.Context) error {
			r, err := c.svc.Pipelines.StartUpdate(ctx, body)
			resp = r
			return err
		})
		if err == nil {
			st.UpdateID = resp.UpdateId
			return st, false, nil
		}
		if ctx.Err() != nil {
			// The start may have been in flight: stop what it started.
			c.stopStartedUpdate(ctx, pid, req, st.StartRequestedAt)
			return st, false, ctx.Err()
		}
		var e *Error
		if !errors.As(err, &e) {
			return st, false, err
		}
		if e.unknownOutcome || uncertain && e.Kind == KindConflict {
			// A lost response, or a conflict with the update our lost
			// response started: look for it.
			uncertain = true
			u, ferr := c.findOurUpdate(ctx, pid, req, st.StartRequestedAt)
			if ferr != nil {
				return st, false, c.describe(ferr, op, req.hint())
			}
			if u != "" {
				st.UpdateID = u
				return st, true, nil
			}
		}
		if e.Kind != KindTransient && !(uncertain && e.Kind == KindConflict) {
			return st, false, c.describe(e, op, req.hint())
		}
		if err := c.backoffOrGiveUp(ctx, start, b, e); err != nil {
			if ctx.Err() != nil {
				return st, false, ctx.Err()
			}
			return st, false, c.describe(err, op, req.hint())
		}
	}
}

// findOurUpdate returns the id of the earliest recent update of pid that
// matches req and was created after since (less ClockSkew), or "".
func (c *Client) findOurUpdate(ctx context.Context, pid string, req UpdateRequest, since time.Time) (string, error) {
	var list *pipelines.ListUpdatesResponse
	err := c.retry(ctx, func(ctx context.Context) error {
		l, err := c.svc.Pipelines.ListUpdates(ctx, pipelines.ListUpdatesRequest{PipelineId: pid, MaxResults: 25})
		list = l
		return err
	})
	if err != nil {
		return "", err
	}
	cutoff := since.Add(-c.cfg.ClockSkew).UnixMilli()
	best, bestAt := "", int64(0)
	for _, u := range list.Updates {
		if u.CreationTime < cutoff || string(u.Cause) != req.cause() || u.FullRefresh != req.FullRefresh ||
			!sameSet(u.RefreshSelection, req.RefreshSelection) || !sameSet(u.FullRefreshSelection, req.FullRefreshSelection) {
			continue
		}
		if best == "" || u.CreationTime < bestAt {
			best, bestAt = u.UpdateId, u.CreationTime
		}
	}
	return best, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// stopStartedUpdate stops the update a cancelled start may have created.
func (c *Client) stopStartedUpdate(ctx context.Context, pid string, req UpdateRequest, since time.Time) {
	cctx, cancel := c.cleanupContext(ctx)
	defer cancel()
	if u, err := c.findOurUpdate(cctx, pid, req, since); err == nil && u != "" {
		_ = c.retry(cctx, func(ctx context.Context) error {
			return c.svc.Pipelines.Stop(ctx, pipelines.StopRequest{PipelineId: pid})
		})
	}
}

// pollUpdate polls the update until it ends.
func (c *Client) pollUpdate(ctx context.Context, req UpdateRequest, st UpdateResume, hb func(UpdateResume, UpdateProgress)) (UpdateResult, error) {
	pid, uid := st.PipelineID, st.UpdateID
	res := UpdateResult{PipelineID: pid, UpdateID: uid,
		URL: fmt.Sprintf("%s/#joblist/pipelines/%s/updates/%s", c.host, pid, uid)}
	op := fmt.Sprintf("polling update %s of %s (id %s)", uid, req.label(), pid)
	began := c.now()
	p := c.newPoller()
	var created int64
	for {
		var got *pipelines.GetUpdateResponse
		err := c.retry(ctx, func(ctx context.Context) error {
			r, err := c.svc.Pipelines.GetUpdate(ctx, pipelines.GetUpdateRequest{PipelineId: pid, UpdateId: uid})
			got = r
			return err
		})
		if err != nil {
			res.States = st.States
			if ctx.Err() != nil {
				return res, c.stopUpdate(ctx, pid)
			}
			return res, c.describe(err, op, req.hint())
		}
		var state string
		if got.Update != nil {
			state = string(got.Update.State)
			created = got.Update.CreationTime
		}
		changed := observe(&st.States, state, c.now())
		res.States, res.State = slices.Clone(st.States), state
		hb(st.clone(), UpdateProgress{PipelineID: pid, UpdateID: uid, State: state, Changed: changed, Elapsed: c.now().Sub(began)})
		switch state {
		case string(pipelines.UpdateInfoStateCompleted):
			return res, nil
		case string(pipelines.UpdateInfoStateFailed):
			return res, c.updateFailed(ctx, req, pid, uid, created, res.URL)
		case string(pipelines.UpdateInfoStateCanceled):
			return res, &Error{Kind: KindCanceled, Code: state, Message: fmt.Sprintf(
				"update %s of %s was canceled in workspace %s (%s): start the task again to run a new update", uid, req.label(), c.host, res.URL)}
		}
		if err := p.wait(ctx, changed); err != nil {
			return res, c.stopUpdate(ctx, pid)
		}
	}
}

// observe appends state to spans when it differs from the last one and
// refreshes the last span's duration; it reports whether state changed.
func observe(spans *[]StateSpan, state string, now time.Time) bool {
	s := *spans
	if n := len(s); n > 0 {
		s[n-1].Duration = now.Sub(s[n-1].Since)
		if s[n-1].State == state {
			return false
		}
	}
	*spans = append(s, StateSpan{State: state, Since: now})
	return true
}

// stopUpdate stops the pipeline's running update after ctx was cancelled and
// returns ctx's error (joined with the stop's failure, if any).
func (c *Client) stopUpdate(ctx context.Context, pid string) error {
	cctx, cancel := c.cleanupContext(ctx)
	defer cancel()
	err := c.retry(cctx, func(ctx context.Context) error {
		return c.svc.Pipelines.Stop(ctx, pipelines.StopRequest{PipelineId: pid})
	})
	if err != nil {
		return joinCtx(ctx, c.describe(err, fmt.Sprintf("stopping pipeline %s after cancellation", pid), ""))
	}
	return ctx.Err()
}

// maxErrorEvents caps the error events carried in a failure.
const maxErrorEvents = 10

// updateFailed builds the KindFailed error of a FAILED update from its ERROR
// events (messages and the first line of each exception).
func (c *Client) updateFailed(ctx context.Context, req UpdateRequest, pid, uid string, created int64, link string) error {
	details, err := c.errorEvents(ctx, pid, uid, created)
	if err != nil {
		details = []string{fmt.Sprintf("(could not read the pipeline event log: %v)", c.describe(err, "reading events", ""))}
	}
	summary := "see the event log"
	if len(details) > 0 {
		summary = details[0]
	}
	return &Error{Kind: KindFailed, Code: string(pipelines.UpdateInfoStateFailed), Details: details, Message: fmt.Sprintf(
		"update %s of %s FAILED in workspace %s: %s (event log: %s)", uid, req.label(), c.host, summary, link)}
}

// errorEvents reads the update's ERROR events, oldest first. The API filters
// by level and time only, so events are matched to the update by
// origin.update_id here.
func (c *Client) errorEvents(ctx context.Context, pid, uid string, created int64) ([]string, error) {
	filter := "level='ERROR'"
	if created > 0 {
		since := time.UnixMilli(created).Add(-c.cfg.ClockSkew).UTC().Format("2006-01-02T15:04:05.000Z")
		filter += fmt.Sprintf(" AND timestamp >= '%s'", since)
	}
	const pageSize, maxPages = 100, 5
	req := pipelines.ListPipelineEventsRequest{PipelineId: pid, Filter: filter, MaxResults: pageSize}
	var events []pipelines.PipelineEvent
	for page := 0; page < maxPages; page++ {
		var resp *pipelines.ListPipelineEventsResponse
		err := c.retry(ctx, func(ctx context.Context) error {
			r, err := c.svc.Pipelines.ListPipelineEventsPage(ctx, req)
			resp = r
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Events {
			if e.Origin != nil && e.Origin.UpdateId == uid {
				events = append(events, e)
			}
		}
		if resp.NextPageToken == "" || len(events) >= maxErrorEvents {
			break
		}
		// Later pages take the token alone: the API rejects it with filters.
		req = pipelines.ListPipelineEventsRequest{PipelineId: pid, PageToken: resp.NextPageToken, MaxResults: pageSize}
	}
	slices.Reverse(events) // the API returns newest first
	if len(events) > maxErrorEvents {
		events = events[:maxErrorEvents]
	}
	var out []string
	for _, e := range events {
		line := e.Message
		if e.Error != nil {
			for _, x := range e.Error.Exceptions {
				ex := firstLine(x.Message)
				if x.ClassName != "" {
					ex = x.ClassName + ": " + ex
				}
				line += " | " + ex
			}
		}
		out = append(out, line)
	}
	return out, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
