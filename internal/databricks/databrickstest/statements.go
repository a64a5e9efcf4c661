package databrickstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// Column is one result column of a scripted statement.
type Column struct {
	Name string
	Type string // type_name, e.g. STRING, LONG
}

// StatementError is status.error (and status.sql_state) of a FAILED statement.
type StatementError struct {
	ErrorCode string
	Message   string
	SQLState  string
}

// StatementScript is what a statement does: the POST answers with States[0]
// and each GET with the next state (the last one sticks). A SUCCEEDED
// statement returns Columns and the rows of Chunks, one result chunk each.
type StatementScript struct {
	States  []string
	Columns []Column
	Chunks  [][][]*string
	Error   *StatementError
}

// StatementCall is the body of one statement execution request.
type StatementCall struct {
	Statement     string           `json:"statement"`
	WarehouseID   string           `json:"warehouse_id"`
	Catalog       string           `json:"catalog"`
	Schema        string           `json:"schema"`
	WaitTimeout   string           `json:"wait_timeout"`
	OnWaitTimeout string           `json:"on_wait_timeout"`
	Disposition   string           `json:"disposition"`
	Format        string           `json:"format"`
	Parameters    []map[string]any `json:"parameters"`
}

// StatementInfo is the fake's view of one statement, for assertions.
type StatementInfo struct {
	ID       string
	Call     StatementCall
	State    string
	Canceled bool
}

type statement struct {
	id       string
	call     StatementCall
	script   StatementScript
	polls    int
	canceled bool
}

// Str returns a pointer to v, for building rows.
func Str(v string) *string { return &v }

// AddStatement scripts the statement with exactly this SQL text. Statements
// without a script succeed with no rows.
func (s *Server) AddStatement(sqlText string, script StatementScript) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statementScripts[sqlText] = script
}

// HandleStatements scripts statements with a function, consulted before
// AddStatement scripts; return false to fall through.
func (s *Server) HandleStatements(fn func(StatementCall) (StatementScript, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statementHandler = fn
}

// Statements lists the statements executed so far, in order.
func (s *Server) Statements() []StatementInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.statements))
	for id := range s.statements {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]StatementInfo, 0, len(ids))
	for _, id := range ids {
		st := s.statements[id]
		out = append(out, StatementInfo{ID: id, Call: st.call, State: st.current(), Canceled: st.canceled})
	}
	return out
}

// LoadStatementScript builds a script from a team-written fixture in
// internal/databricks/testdata: a SUCCEEDED result with its chunks, or a
// FAILED statement response.
func LoadStatementScript(tb testing.TB, name string) StatementScript {
	tb.Helper()
	var fx struct {
		Status *struct {
			State    string `json:"state"`
			SQLState string `json:"sql_state"`
			Error    *struct {
				ErrorCode string `json:"error_code"`
				Message   string `json:"message"`
			} `json:"error"`
		} `json:"status"`
		Manifest struct {
			Schema struct {
				Columns []struct {
					Name     string `json:"name"`
					TypeName string `json:"type_name"`
				} `json:"columns"`
			} `json:"schema"`
		} `json:"manifest"`
		Chunks []struct {
			DataArray [][]*string `json:"data_array"`
		} `json:"chunks"`
	}
	if err := json.Unmarshal(OwnFixture(tb, name), &fx); err != nil {
		tb.Fatalf("parsing own fixture %s: %v", name, err)
	}
	script := StatementScript{States: []string{"SUCCEEDED"}}
	if fx.Status != nil && fx.Status.State != "" {
		script.States = []string{fx.Status.State}
		if fx.Status.Error != nil {
			script.Error = &StatementError{ErrorCode: fx.Status.Error.ErrorCode,
				Message: fx.Status.Error.Message, SQLState: fx.Status.SQLState}
		}
	}
	for _, c := range fx.Manifest.Schema.Columns {
		script.Columns = append(script.Columns, Column{Name: c.Name, Type: c.TypeName})
	}
	for _, ch := range fx.Chunks {
		script.Chunks = append(script.Chunks, ch.DataArray)
	}
	return script
}

func isTerminalStatement(state string) bool {
	return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELED" || state == "CLOSED"
}

func (st *statement) current() string {
	if st.canceled {
		return "CANCELED"
	}
	return st.script.States[min(max(st.polls-1, 0), len(st.script.States)-1)]
}

var waitTimeoutRe = regexp.MustCompile(`^(\d+)s$`)

func (s *Server) executeStatement(w http.ResponseWriter, r *http.Request) {
	var call StatementCall
	if err := decodeBody(r, &call); err != nil {
		s.writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return
	}
	switch {
	case call.WarehouseID == "":
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "warehouse_id is required.")
		return
	case call.Statement == "":
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "statement is required.")
		return
	case call.Disposition != "" && call.Disposition != "INLINE":
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "databrickstest supports disposition INLINE only.")
		return
	case call.Format != "" && call.Format != "JSON_ARRAY":
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "databrickstest supports format JSON_ARRAY only.")
		return
	}
	if call.WaitTimeout != "" {
		m := waitTimeoutRe.FindStringSubmatch(call.WaitTimeout)
		n := -1
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n != 0 && (n < 5 || n > 50) {
			s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
				"wait_timeout must be 0s or between 5s and 50s.")
			return
		}
	}
	s.mu.Lock()
	handler := s.statementHandler
	s.mu.Unlock()
	script, ok := StatementScript{}, false
	if handler != nil {
		script, ok = handler(call)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		script, ok = s.statementScripts[call.Statement]
	}
	if !ok || len(script.States) == 0 {
		script.States = []string{"SUCCEEDED"}
	}
	st := &statement{
		id:     fmt.Sprintf("01f00000-0000-1000-8000-%012d", s.nextID()),
		call:   call,
		script: script,
		polls:  1,
	}
	s.statements[st.id] = st
	s.writeJSONUnlocked(w, s.statementJSON(st))
}

func (s *Server) statementOr404(w http.ResponseWriter, id string) *statement {
	st := s.statements[id]
	if st == nil {
		s.writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The statement %s was not found.", id))
	}
	return st
}

func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statementOr404(w, r.PathValue("id"))
	if st == nil {
		return
	}
	st.polls++
	s.writeJSONUnlocked(w, s.statementJSON(st))
}

func (s *Server) statementJSON(st *statement) map[string]any {
	state := st.current()
	status := map[string]any{"state": state}
	if state == "FAILED" && st.script.Error != nil {
		status["error"] = map[string]any{"error_code": st.script.Error.ErrorCode, "message": st.script.Error.Message}
		if st.script.Error.SQLState != "" {
			status["sql_state"] = st.script.Error.SQLState
		}
	}
	resp := map[string]any{"statement_id": st.id, "status": status}
	if state != "SUCCEEDED" {
		return resp
	}
	cols := []any{}
	for i, c := range st.script.Columns {
		cols = append(cols, map[string]any{"name": c.Name, "type_name": c.Type, "type_text": c.Type, "position": i})
	}
	chunks, total, offset := []any{}, 0, 0
	for i, rows := range st.script.Chunks {
		chunks = append(chunks, map[string]any{"chunk_index": i, "row_offset": offset, "row_count": len(rows)})
		offset += len(rows)
		total += len(rows)
	}
	resp["manifest"] = map[string]any{
		"format":            "JSON_ARRAY",
		"schema":            map[string]any{"column_count": len(cols), "columns": cols},
		"total_chunk_count": len(st.script.Chunks),
		"total_row_count":   total,
		"chunks":            chunks,
		"truncated":         false,
	}
	if len(st.script.Chunks) > 0 {
		resp["result"] = s.chunkJSON(st, 0)
	}
	return resp
}

func (s *Server) chunkJSON(st *statement, n int) map[string]any {
	offset := 0
	for _, rows := range st.script.Chunks[:n] {
		offset += len(rows)
	}
	rows := st.script.Chunks[n]
	m := map[string]any{
		"chunk_index": n,
		"row_offset":  offset,
		"row_count":   len(rows),
		"data_array":  rows,
	}
	if n+1 < len(st.script.Chunks) {
		m["next_chunk_index"] = n + 1
		m["next_chunk_internal_link"] = fmt.Sprintf("/api/2.0/sql/statements/%s/result/chunks/%d?row_offset=%d",
			st.id, n+1, offset+len(rows))
	}
	return m
}

func (s *Server) getChunk(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statementOr404(w, r.PathValue("id"))
	if st == nil {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if st.current() != "SUCCEEDED" || err != nil || n < 0 || n >= len(st.script.Chunks) {
		s.writeError(w, http.StatusBadRequest, "INVALID_PARAMETER_VALUE",
			fmt.Sprintf("Chunk %s of statement %s is not available.", r.PathValue("n"), st.id))
		return
	}
	s.writeJSONUnlocked(w, s.chunkJSON(st, n))
}

func (s *Server) cancelStatement(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statementOr404(w, r.PathValue("id"))
	if st == nil {
		return
	}
	if !isTerminalStatement(st.current()) {
		st.canceled = true
	}
	s.writeJSONUnlocked(w, map[string]any{})
}
