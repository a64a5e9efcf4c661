package databrickstest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// listDirectory answers GET /api/2.0/fs/directories{path}: the immediate
// entries of a directory, derived from the stored files' paths (a directory
// exists while a file lies below it), sorted by name, in one page.
func (s *Server) listDirectory(w http.ResponseWriter, r *http.Request) {
	dir := "/" + strings.Trim(r.PathValue("path"), "/")
	prefix := dir + "/"
	type entry struct {
		isDir bool
		size  int64
		mod   int64
	}
	s.mu.Lock()
	found := map[string]entry{}
	for p, f := range s.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || rest == "" {
			continue
		}
		if name, _, deeper := strings.Cut(rest, "/"); deeper {
			found[name] = entry{isDir: true}
		} else {
			found[name] = entry{size: int64(len(f.data)), mod: millis(f.modified)}
		}
	}
	s.mu.Unlock()
	if len(found) == 0 {
		s.writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("The directory %s does not exist.", dir))
		return
	}
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	slices.Sort(names)
	contents := make([]any, 0, len(names))
	for _, n := range names {
		e := found[n]
		m := map[string]any{"path": prefix + n, "name": n, "is_directory": e.isDir}
		if !e.isDir {
			m["file_size"] = e.size
			m["last_modified"] = e.mod
		}
		contents = append(contents, m)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"contents": contents})
}
