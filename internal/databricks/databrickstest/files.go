package databrickstest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// File returns the contents stored at an absolute workspace path such as
// /Volumes/main/raw/landing/orders.csv.
func (s *Server) File(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[path]
	return f.data, ok
}

// PutFile stores a file as if it had been uploaded earlier.
func (s *Server) PutFile(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = storedFile{data: data, modified: time.Now()}
}

// FilePaths lists the stored paths, sorted.
func (s *Server) FilePaths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.files))
	for p := range s.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (s *Server) putFile(w http.ResponseWriter, r *http.Request) {
	path := "/" + r.PathValue("path")
	data, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "MALFORMED_REQUEST", err.Error())
		return
	}
	overwrite := r.URL.Query().Get("overwrite") != "false" // absent means true
	s.mu.Lock()
	_, exists := s.files[path]
	if exists && !overwrite {
		s.mu.Unlock()
		s.writeError(w, http.StatusConflict, "ALREADY_EXISTS", fmt.Sprintf("The file %s already exists.", path))
		return
	}
	s.files[path] = storedFile{data: data, modified: time.Now()}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) headFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.files["/"+r.PathValue("path")]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound) // HEAD answers carry no body
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Last-Modified", f.modified.UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	path := "/" + r.PathValue("path")
	s.mu.Lock()
	f, ok := s.files[path]
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The file %s does not exist.", path))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.data)
}
