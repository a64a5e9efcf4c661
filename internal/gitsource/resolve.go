package gitsource

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

const minShortSHA = 4 // git's own minimum abbreviation

func isHex(s string) bool {
	_, err := hex.DecodeString(s + strings.Repeat("0", len(s)%2))
	return err == nil && s != ""
}

func isFullSHA(s string) bool { return len(s) == 40 && isHex(s) }

// haveCommit reports whether ref is a full SHA already in the cache: commits
// are immutable, so no fetch is needed.
func haveCommit(repo *git.Repository, ref string) bool {
	if !isFullSHA(ref) {
		return false
	}
	_, err := repo.CommitObject(plumbing.NewHash(ref))
	return err == nil
}

// resolveRef finds the commit for rs's ref: a fully qualified ref, then a
// branch, then a tag, then a full or abbreviated SHA. head is used when the
// ref is empty.
func resolveRef(repo *git.Repository, rs *resolvedSource, head plumbing.ReferenceName) (plumbing.ReferenceName, *object.Commit, error) {
	ref := rs.src.Ref
	var names []plumbing.ReferenceName
	switch {
	case ref == "":
		names = []plumbing.ReferenceName{head}
	case strings.HasPrefix(ref, "refs/"):
		names = []plumbing.ReferenceName{plumbing.ReferenceName(ref)}
	default:
		names = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(ref), plumbing.NewTagReferenceName(ref)}
	}
	for _, n := range names {
		r, err := repo.Reference(n, true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return "", nil, corrupt(fmt.Errorf("reading %s: %w", n, err))
		}
		commit, err := peelToCommit(repo, r.Hash(), rs)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return "", nil, corrupt(fmt.Errorf("reading %s (%s): %w", n, r.Hash(), err))
		}
		if err != nil {
			return "", nil, err
		}
		return n, commit, nil
	}
	if len(ref) >= minShortSHA && len(ref) <= 40 && isHex(ref) {
		commit, err := commitByPrefix(repo, strings.ToLower(ref), rs)
		if err != nil || commit != nil {
			return "", commit, err
		}
	}
	if ref == "" {
		return "", nil, fmt.Errorf("%w: the remote's HEAD points to %s, which does not exist: set %s",
			ErrRefNotFound, head, rs.where("ref"))
	}
	return "", nil, fmt.Errorf("%w: no branch, tag or commit %q in %s: %s",
		ErrRefNotFound, ref, rs.url, rs.check("ref"))
}

// peelToCommit follows annotated tags (possibly nested) to a commit.
func peelToCommit(repo *git.Repository, h plumbing.Hash, rs *resolvedSource) (*object.Commit, error) {
	for range 16 {
		obj, err := repo.Object(plumbing.AnyObject, h)
		if err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("%w: %q names a %s, not a commit: %s",
				ErrRefNotFound, rs.src.Ref, obj.Type(), rs.check("ref"))
		}
	}
	return nil, fmt.Errorf("%w: %q is a chain of more than 16 tags: %s", ErrRefNotFound, rs.src.Ref, rs.check("ref"))
}

// commitByPrefix resolves a full or abbreviated SHA to a commit, peeling
// tags. It returns (nil, nil) when nothing matches.
func commitByPrefix(repo *git.Repository, prefix string, rs *resolvedSource) (*object.Commit, error) {
	if len(prefix) == 40 {
		c, err := peelToCommit(repo, plumbing.NewHash(prefix), rs)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, nil
		}
		return c, err
	}
	type prefixLister interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	lister, ok := repo.Storer.(prefixLister)
	if !ok {
		return nil, fmt.Errorf("the git cache storage cannot look up abbreviated SHAs: use the full SHA in %s", rs.where("ref"))
	}
	even, err := hex.DecodeString(prefix[:len(prefix)&^1])
	if err != nil {
		return nil, fmt.Errorf("decoding %q: %w", prefix, err)
	}
	hashes, err := lister.HashesWithPrefix(even)
	if err != nil {
		return nil, corrupt(fmt.Errorf("listing objects with prefix %s: %w", prefix, err))
	}
	byCommit := map[plumbing.Hash]*object.Commit{}
	for _, h := range hashes {
		if !strings.HasPrefix(h.String(), prefix) {
			continue
		}
		c, err := peelToCommit(repo, h, rs)
		if errors.Is(err, ErrRefNotFound) {
			continue // a tree or blob: not what a ref means
		}
		if err != nil {
			return nil, corrupt(fmt.Errorf("reading %s: %w", h, err))
		}
		byCommit[c.Hash] = c
	}
	switch len(byCommit) {
	case 0:
		return nil, nil
	case 1:
		for _, c := range byCommit {
			return c, nil
		}
	}
	var ids []string
	for h := range byCommit {
		ids = append(ids, h.String()[:12])
	}
	sort.Strings(ids)
	return nil, fmt.Errorf("%w: %q is ambiguous, it abbreviates commits %s: use more characters in %s",
		ErrRefNotFound, rs.src.Ref, strings.Join(ids, ", "), rs.where("ref"))
}
