package databrickstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UpdateScript is what the next update started on a pipeline does: the n-th
// GET of the update returns States[n] (the last state sticks).
type UpdateScript struct {
	States []string
}

type pipeline struct {
	id, name string
	raw      map[string]any // GET response from the shared fixture, if any
	scripts  []UpdateScript
	updates  []*update        // oldest first
	events   []map[string]any // oldest first
}

type update struct {
	id             string
	pipelineID     string
	cause          string
	fullRefresh    bool
	refreshSel     []string
	fullRefreshSel []string
	created        time.Time
	states         []string
	polls          int
	stopped        bool
	failedLogged   bool
}

// UpdateInfo is the fake's view of one pipeline update, for assertions.
type UpdateInfo struct {
	ID                   string
	PipelineID           string
	State                string
	Cause                string
	FullRefresh          bool
	RefreshSelection     []string
	FullRefreshSelection []string
	Created              time.Time
}

func isTerminalUpdate(state string) bool {
	return state == "COMPLETED" || state == "FAILED" || state == "CANCELED"
}

// reported is the state the last GET returned (the first state before any).
func (u *update) reported() string {
	if u.stopped {
		return "CANCELED"
	}
	i := min(max(u.polls-1, 0), len(u.states)-1)
	return u.states[i]
}

// AddPipeline registers a pipeline by id and name.
func (s *Server) AddPipeline(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addPipelineLocked(id, name)
}

func (s *Server) addPipelineLocked(id, name string) *pipeline {
	if p, ok := s.pipelines[id]; ok {
		p.name = name
		return p
	}
	p := &pipeline{id: id, name: name}
	s.pipelines[id] = p
	s.pipelineOrder = append(s.pipelineOrder, id)
	return p
}

// ScriptUpdate queues the behaviour of the next update started on the
// pipeline; updates without a script go RUNNING -> COMPLETED.
func (s *Server) ScriptUpdate(pipelineID string, states ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelines[pipelineID]
	if p == nil {
		p = s.addPipelineLocked(pipelineID, pipelineID)
	}
	p.scripts = append(p.scripts, UpdateScript{States: states})
}

// AddPipelineEvent appends a raw event to a pipeline's event log.
func (s *Server) AddPipelineEvent(pipelineID string, event map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pipelines[pipelineID]; p != nil {
		p.events = append(p.events, event)
	}
}

// Updates lists the updates started on a pipeline, oldest first.
func (s *Server) Updates(pipelineID string) []UpdateInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pipelines[pipelineID]
	if p == nil {
		return nil
	}
	out := make([]UpdateInfo, 0, len(p.updates))
	for _, u := range p.updates {
		out = append(out, UpdateInfo{
			ID: u.id, PipelineID: u.pipelineID, State: u.reported(), Cause: u.cause,
			FullRefresh: u.fullRefresh, RefreshSelection: u.refreshSel,
			FullRefreshSelection: u.fullRefreshSel, Created: u.created,
		})
	}
	return out
}

func (s *Server) pipelineOr404(w http.ResponseWriter, id string) *pipeline {
	p := s.pipelines[id]
	if p == nil {
		s.writeError(w, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST",
			fmt.Sprintf("The specified pipeline %s was not found.", id))
	}
	return p
}

var likeFilter = regexp.MustCompile(`(?i)^\s*name\s+LIKE\s+'((?:[^']|'')*)'\s*$`)

func likeToRegexp(pattern string) *regexp.Regexp {
	pattern = strings.ReplaceAll(pattern, "''", "'")
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	filter := r.URL.Query().Get("filter")
	var match *regexp.Regexp
	if filter != "" {
		m := likeFilter.FindStringSubmatch(filter)
		if m == nil {
			s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
				fmt.Sprintf("Invalid filter: %s", filter))
			return
		}
		match = likeToRegexp(m[1])
	}
	s.mu.Lock()
	statuses := []any{}
	for _, id := range s.pipelineOrder {
		p := s.pipelines[id]
		if match != nil && !match.MatchString(p.name) {
			continue
		}
		statuses = append(statuses, map[string]any{
			"pipeline_id":    p.id,
			"name":           p.name,
			"state":          pipelineState(p),
			"latest_updates": latestUpdates(p),
		})
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"statuses": statuses})
}

func pipelineState(p *pipeline) string {
	for _, u := range p.updates {
		if !isTerminalUpdate(u.reported()) {
			return "RUNNING"
		}
	}
	return "IDLE"
}

func latestUpdates(p *pipeline) []any {
	out := []any{}
	for i := len(p.updates) - 1; i >= 0 && len(out) < 5; i-- {
		u := p.updates[i]
		out = append(out, map[string]any{
			"update_id":     u.id,
			"state":         u.reported(),
			"creation_time": u.created.UTC().Format(time.RFC3339Nano),
		})
	}
	return out
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	var resp map[string]any
	if p.raw != nil {
		resp = maps.Clone(p.raw)
	} else {
		resp = map[string]any{
			"pipeline_id": p.id,
			"name":        p.name,
			"spec":        map[string]any{"id": p.id, "name": p.name},
		}
	}
	resp["state"] = pipelineState(p)
	resp["latest_updates"] = latestUpdates(p)
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, resp)
}

func (s *Server) startUpdate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Cause                string   `json:"cause"`
		FullRefresh          bool     `json:"full_refresh"`
		RefreshSelection     []string `json:"refresh_selection"`
		FullRefreshSelection []string `json:"full_refresh_selection"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return
	}
	if body.FullRefresh && len(body.FullRefreshSelection) > 0 {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			"full_refresh and full_refresh_selection cannot both be set.")
		return
	}
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	script := s.defaultUpdate
	if len(p.scripts) > 0 {
		script, p.scripts = p.scripts[0], p.scripts[1:]
	}
	n := s.nextID()
	cause := body.Cause
	if cause == "" {
		cause = "API_CALL"
	}
	u := &update{
		id:             fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		pipelineID:     p.id,
		cause:          cause,
		fullRefresh:    body.FullRefresh,
		refreshSel:     body.RefreshSelection,
		fullRefreshSel: body.FullRefreshSelection,
		created:        time.Now(),
		states:         slices.Clone(script.States),
	}
	if len(u.states) == 0 {
		u.states = []string{"COMPLETED"}
	}
	p.updates = append(p.updates, u)
	s.updates[u.id] = u
	p.events = append(p.events, map[string]any{
		"id":             fmt.Sprintf("evt-%d", s.nextID()),
		"event_type":     "create_update",
		"level":          "INFO",
		"maturity_level": "STABLE",
		"message":        fmt.Sprintf("Update %s started by %s.", u.id[:6], cause),
		"timestamp":      eventTime(time.Now()),
		"origin":         map[string]any{"pipeline_id": p.id, "pipeline_name": p.name, "update_id": u.id},
	})
	s.mu.Unlock()
	// The real endpoint also returns a request_id the SDK does not model.
	s.writeJSON(w, http.StatusOK, map[string]any{"update_id": u.id, "request_id": fmt.Sprintf("req-%d", n)})
}

func updateJSON(u *update) map[string]any {
	m := map[string]any{
		"pipeline_id":   u.pipelineID,
		"update_id":     u.id,
		"state":         u.reported(),
		"cause":         u.cause,
		"creation_time": millis(u.created),
		"full_refresh":  u.fullRefresh,
	}
	if len(u.refreshSel) > 0 {
		m["refresh_selection"] = u.refreshSel
	}
	if len(u.fullRefreshSel) > 0 {
		m["full_refresh_selection"] = u.fullRefreshSel
	}
	return m
}

func (s *Server) listUpdates(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	limit := 25
	if v, err := strconv.Atoi(r.URL.Query().Get("max_results")); err == nil && v > 0 {
		limit = v
	}
	updates := []any{}
	for i := len(p.updates) - 1; i >= 0 && len(updates) < limit; i-- {
		updates = append(updates, updateJSON(p.updates[i]))
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{"updates": updates})
}

func (s *Server) getUpdate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	u := s.updates[r.PathValue("uid")]
	if u == nil || u.pipelineID != p.id {
		s.mu.Unlock()
		s.writeError(w, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST",
			fmt.Sprintf("Update %s of pipeline %s was not found.", r.PathValue("uid"), p.id))
		return
	}
	u.polls++
	if u.reported() == "FAILED" && !u.failedLogged {
		u.failedLogged = true
		p.events = append(p.events, s.failureEvents(p, u)...)
	}
	resp := map[string]any{"update": updateJSON(u)}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, resp)
}

// failureEvents instantiates the team-written event fixture for a failed update.
func (s *Server) failureEvents(p *pipeline, u *update) []map[string]any {
	raw, err := readObject(filepath.Join(s.ownDir, "pipeline_update_failed_events.json"))
	if err != nil {
		return []map[string]any{{
			"id": fmt.Sprintf("evt-%d", s.nextID()), "level": "ERROR", "event_type": "update_progress",
			"message":   fmt.Sprintf("Update %s is FAILED (fixture missing: %v).", u.id[:6], err),
			"timestamp": eventTime(time.Now()),
			"origin":    map[string]any{"pipeline_id": p.id, "update_id": u.id},
		}}
	}
	b, _ := json.Marshal(raw["events"])
	text := strings.NewReplacer(
		"{{pipeline_id}}", p.id, "{{pipeline_name}}", p.name,
		"{{update_id}}", u.id, "{{update_short}}", u.id[:6],
	).Replace(string(b))
	var events []map[string]any
	_ = json.Unmarshal([]byte(text), &events)
	now := time.Now()
	for i, e := range events {
		e["id"] = fmt.Sprintf("evt-%d", s.nextID())
		e["timestamp"] = eventTime(now.Add(time.Duration(i) * time.Millisecond))
	}
	return events
}

func eventTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

var (
	levelEq   = regexp.MustCompile(`(?i)level\s*=\s*'(\w+)'`)
	levelIn   = regexp.MustCompile(`(?i)level\s+in\s*\(([^)]*)\)`)
	tsFilter  = regexp.MustCompile(`(?i)timestamp\s*(>=|<=|>|<|=)\s*'([^']+)'`)
	andSplit  = regexp.MustCompile(`(?i)\s+AND\s+`)
	quotedArg = regexp.MustCompile(`'(\w+)'`)
)

type eventFilter struct {
	levels map[string]bool
	ts     []struct {
		op string
		at time.Time
	}
}

func parseEventFilter(f string) (eventFilter, error) {
	var ef eventFilter
	if strings.TrimSpace(f) == "" {
		return ef, nil
	}
	for _, part := range andSplit.Split(strings.TrimSpace(f), -1) {
		switch {
		case levelIn.MatchString(part):
			ef.levels = map[string]bool{}
			for _, m := range quotedArg.FindAllStringSubmatch(levelIn.FindStringSubmatch(part)[1], -1) {
				ef.levels[strings.ToUpper(m[1])] = true
			}
		case levelEq.MatchString(part):
			ef.levels = map[string]bool{strings.ToUpper(levelEq.FindStringSubmatch(part)[1]): true}
		case tsFilter.MatchString(part):
			m := tsFilter.FindStringSubmatch(part)
			at, err := time.Parse(time.RFC3339Nano, m[2])
			if err != nil {
				return ef, fmt.Errorf("invalid timestamp %q", m[2])
			}
			ef.ts = append(ef.ts, struct {
				op string
				at time.Time
			}{m[1], at})
		default:
			return ef, fmt.Errorf("unsupported filter expression %q", part)
		}
	}
	return ef, nil
}

func (ef eventFilter) keep(e map[string]any) bool {
	if ef.levels != nil {
		lvl, _ := e["level"].(string)
		if !ef.levels[lvl] {
			return false
		}
	}
	ts, _ := e["timestamp"].(string)
	at, _ := time.Parse(time.RFC3339Nano, ts)
	for _, c := range ef.ts {
		ok := map[string]bool{
			">=": !at.Before(c.at), ">": at.After(c.at), "<=": !at.After(c.at),
			"<": at.Before(c.at), "=": at.Equal(c.at),
		}[c.op]
		if !ok {
			return false
		}
	}
	return true
}

// listEvents serves the event log newest first (or oldest first with
// order_by=timestamp asc), paged with an offset token. Like the real API it
// rejects a page_token combined with filter or order_by.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("page_token")
	if token != "" && (q.Get("filter") != "" || len(q["order_by"]) > 0) {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			"page_token is mutually exclusive with all fields in this request except max_results.")
		return
	}
	filter, order, offset := q.Get("filter"), strings.Join(q["order_by"], ","), 0
	if token != "" {
		var err error
		filter, order, offset, err = decodeEventToken(token)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Invalid page_token.")
			return
		}
	}
	ef, err := parseEventFilter(filter)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error())
		return
	}
	limit := 25
	if v, err := strconv.Atoi(q.Get("max_results")); err == nil && v > 0 {
		limit = min(v, 1000)
	}
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	var matched []map[string]any
	for _, e := range p.events {
		if ef.keep(e) {
			matched = append(matched, e)
		}
	}
	s.mu.Unlock()
	if !strings.Contains(strings.ToLower(order), "asc") {
		slices.Reverse(matched)
	}
	end := min(offset+limit, len(matched))
	page := []any{}
	for _, e := range matched[min(offset, len(matched)):end] {
		page = append(page, e)
	}
	resp := map[string]any{"events": page}
	if end < len(matched) {
		resp["next_page_token"] = encodeEventToken(filter, order, end)
	}
	s.writeJSON(w, http.StatusOK, resp)
}

func encodeEventToken(filter, order string, offset int) string {
	b, _ := json.Marshal([]any{filter, order, offset})
	return string(b)
}

func decodeEventToken(tok string) (string, string, int, error) {
	var v []any
	if err := json.Unmarshal([]byte(tok), &v); err != nil || len(v) != 3 {
		return "", "", 0, fmt.Errorf("bad token")
	}
	f, _ := v[0].(string)
	o, _ := v[1].(string)
	n, _ := v[2].(float64)
	return f, o, int(n), nil
}

func (s *Server) stopPipeline(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.pipelineOr404(w, r.PathValue("id"))
	if p == nil {
		s.mu.Unlock()
		return
	}
	for _, u := range p.updates {
		if !isTerminalUpdate(u.reported()) {
			u.stopped = true
		}
	}
	s.mu.Unlock()
	s.writeJSON(w, http.StatusOK, map[string]any{})
}
