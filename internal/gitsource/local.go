package gitsource

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
)

// checkoutLocal returns a local project folder as it is. When the folder is
// inside a git repository, Commit and Ref record its HEAD (uncommitted
// changes are not reflected).
func checkoutLocal(src Source) (*Checkout, error) {
	where := "`path`"
	if src.Origin != "" {
		where += " in " + src.Origin
	}
	switch {
	case src.Path == "":
		return nil, fmt.Errorf("%w: neither repo nor path is set: set %s (a local folder) or `repo`", ErrInvalidSource, where)
	case src.Ref != "":
		return nil, fmt.Errorf("%w: ref %q needs a repo, but only a local path is set: set `repo` or remove `ref`", ErrInvalidSource, src.Ref)
	case src.Token != "" || len(src.SSHKey) > 0:
		return nil, fmt.Errorf("%w: credentials are set but there is no repo to fetch: set `repo` or remove them", ErrInvalidSource)
	}
	info, err := os.Stat(src.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: local folder %s does not exist: check %s", ErrProjectNotFound, src.Path, where)
	}
	if err != nil {
		return nil, fmt.Errorf("reading local project %s: %w", src.Path, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file, not a folder: check %s", ErrProjectNotFound, src.Path, where)
	}
	if _, err := os.Stat(filepath.Join(src.Path, projectFile)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s in %s: check %s", ErrProjectNotFound, projectFile, src.Path, where)
	} else if err != nil {
		return nil, fmt.Errorf("reading local project %s: %w", src.Path, err)
	}
	co := &Checkout{Dir: src.Path, Cleanup: func() error { return nil }}
	repo, err := git.PlainOpenWithOptions(src.Path, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return co, nil // not in a git repository: nothing to record
	}
	head, err := repo.Head()
	if err != nil {
		return co, nil // e.g. a repository with no commits yet
	}
	co.Commit = head.Hash().String()
	if head.Name().IsBranch() {
		co.Ref = head.Name().String()
	}
	return co, nil
}
