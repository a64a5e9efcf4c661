package gitsource

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Cache holds bare clones of the repositories dbt projects come from. The
// zero value is not usable: set Root. A Cache must not be copied after first
// use; several Cache values (in one process or many) may share a Root.
type Cache struct {
	// Root holds one bare clone per repository ("<name>.git") and its lock
	// file ("<name>.lock"), e.g. ~/.cache/sluice/git. Created 0700 if missing.
	Root string
	// CheckoutRoot is where each Checkout's private directory is created
	// (created 0700 if missing). Default: os.TempDir().
	CheckoutRoot string

	mu    sync.Mutex
	locks map[string]chan struct{} // per-repository in-process mutex, keyed by cache name

	// lockWaitHook, if set, is called when Checkout finds the repository's
	// file lock held by someone else (tests use it to prove the lock works).
	lockWaitHook func()
}

// Checkout is one private copy of a commit's tree.
type Checkout struct {
	// Dir is the dbt project folder (Source.Path applied).
	Dir string
	// Commit is the full SHA written to Dir; for a local folder, the HEAD
	// commit of the git repository containing it, or empty if none.
	Commit string
	// Ref is the fully qualified ref Source.Ref resolved through
	// (refs/heads/main, refs/tags/v1.2), or empty when Ref was a SHA.
	Ref string
	// Cleanup removes the checkout. It is safe to call more than once; for a
	// local folder it does nothing.
	Cleanup func() error
}

// fetchSpecs mirror the remote's branches and tags, nothing else (no pull
// request refs), forcing updates so rewritten branches follow the remote.
var fetchSpecs = []config.RefSpec{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"}

// Checkout fetches src's repository into the cache, resolves src.Ref, and
// writes that commit's tree into a new private directory. The caller must
// call Cleanup when done. With src.Repo empty, src.Path is returned as it is.
//
// Errors never contain src's credentials; IsPermanent tells a bad source
// (auth, missing ref or path) from a transient failure.
func (c *Cache) Checkout(ctx context.Context, src Source) (*Checkout, error) {
	if src.Repo == "" {
		co, err := checkoutLocal(src)
		return co, scrub(err, src.secrets())
	}
	rs, err := resolveSource(src)
	if err != nil {
		return nil, scrub(err, src.secrets())
	}
	co, err := c.checkout(ctx, rs)
	if err != nil {
		what := "checking out " + rs.url
		if src.Ref != "" {
			what += " at " + src.Ref
		}
		return nil, scrub(fmt.Errorf("%s: %w", what, err), src.secrets())
	}
	return co, nil
}

func (c *Cache) checkout(ctx context.Context, rs *resolvedSource) (*Checkout, error) {
	if c.Root == "" {
		return nil, errors.New("gitsource: Cache.Root is not set")
	}
	if err := os.MkdirAll(c.Root, 0o700); err != nil {
		return nil, fmt.Errorf("creating git cache %s: %w", c.Root, err)
	}
	force := false
	for attempt := 0; ; attempt++ {
		p, err := c.prepare(ctx, rs, force)
		if err != nil {
			return nil, err
		}
		co, err := c.materialise(ctx, rs, p)
		if err == nil || attempt > 0 || !isCorrupt(err) {
			return co, err
		}
		// The objects could not be read. Clone again, unless someone else
		// already replaced the directory we read from.
		now, statErr := os.Stat(p.dir)
		force = statErr == nil && os.SameFile(now, p.dirInfo)
	}
}

// prepared is a resolved commit in the bare clone, ready to be written out.
type prepared struct {
	dir     string
	dirInfo os.FileInfo // identity of dir when resolved
	repo    *git.Repository
	commit  *object.Commit
	ref     plumbing.ReferenceName
}

// prepare brings the bare clone up to date and resolves the ref, holding
// the repository's lock. Its result only names immutable objects.
func (c *Cache) prepare(ctx context.Context, rs *resolvedSource, forceReclone bool) (*prepared, error) {
	name := rs.cacheName()
	unlock, err := c.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()

	dir := filepath.Join(c.Root, name+".git")
	if err := removeLeftovers(c.Root, name); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		if forceReclone {
			if err := discard(dir); err != nil {
				return nil, err
			}
		}
		p, err := c.update(ctx, rs, dir)
		if err == nil {
			return p, nil
		}
		if attempt > 0 || !isCorrupt(err) {
			return nil, err
		}
		forceReclone = true
	}
}

// update opens (or clones) the bare repository in dir, fetches, and
// resolves rs's ref.
func (c *Cache) update(ctx context.Context, rs *resolvedSource, dir string) (*prepared, error) {
	var head plumbing.ReferenceName
	if rs.src.Ref == "" {
		var err error
		if head, err = remoteHead(ctx, rs); err != nil {
			return nil, err
		}
	}
	repo, err := openBare(dir)
	switch {
	case err != nil:
		return nil, err
	case repo == nil:
		if repo, err = c.clone(ctx, rs, dir); err != nil {
			return nil, err
		}
	case !haveCommit(repo, rs.src.Ref):
		if err := fetch(ctx, repo, rs); err != nil {
			return nil, err
		}
	}
	if head != "" {
		// Keep the bare clone's HEAD pointing where the remote's does.
		if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, head)); err != nil {
			return nil, corrupt(fmt.Errorf("setting HEAD: %w", err))
		}
	}
	ref, commit, err := resolveRef(repo, rs, head)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading git cache %s: %w", dir, err)
	}
	return &prepared{dir: dir, dirInfo: info, repo: repo, commit: commit, ref: ref}, nil
}

// openBare opens the bare clone in dir: (nil, nil) when there is none yet,
// a corrupt error when dir exists but is not a usable clone.
func openBare(dir string) (*git.Repository, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading git cache %s: %w", dir, err)
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return nil, corrupt(fmt.Errorf("opening %s: %w", dir, err))
	}
	if _, err := repo.Remote(git.DefaultRemoteName); err != nil {
		return nil, corrupt(fmt.Errorf("reading remote of %s: %w", dir, err))
	}
	return repo, nil
}

// clone makes a new bare clone in a temporary directory next to dir and
// renames it into place, so dir never holds a half-made clone.
func (c *Cache) clone(ctx context.Context, rs *resolvedSource, dir string) (*git.Repository, error) {
	tmp, err := os.MkdirTemp(c.Root, filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating clone directory in %s: %w", c.Root, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	repo, err := git.PlainInit(tmp, true)
	if err != nil {
		return nil, fmt.Errorf("initialising bare repository %s: %w", tmp, err)
	}
	// The config keeps the credential-free URL; auth is passed per fetch.
	if _, err := repo.CreateRemote(&config.RemoteConfig{
		Name: git.DefaultRemoteName, URLs: []string{rs.url}, Fetch: fetchSpecs,
	}); err != nil {
		return nil, fmt.Errorf("configuring remote in %s: %w", tmp, err)
	}
	if err := fetch(ctx, repo, rs); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("moving clone into %s: %w", dir, err)
	}
	ok = true
	return git.PlainOpen(dir)
}

func fetch(ctx context.Context, repo *git.Repository, rs *resolvedSource) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: git.DefaultRemoteName,
		RemoteURL:  rs.url,
		RefSpecs:   fetchSpecs,
		Auth:       rs.auth,
		Tags:       git.NoTags, // the tag refspec already fetches every tag
		Force:      true,
		Prune:      true,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, plumbing.ErrObjectNotFound):
		// Our own refs name objects we do not have.
		return corrupt(fmt.Errorf("fetching: %w", err))
	case ctx.Err() != nil:
		return fmt.Errorf("fetching: %w", ctx.Err())
	}
	return fmt.Errorf("fetching: %w", classifyRemote(err, rs))
}

// remoteHead asks the remote which branch its HEAD points to.
func remoteHead(ctx context.Context, rs *resolvedSource) (plumbing.ReferenceName, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{rs.url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: rs.auth})
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("listing refs: %w", ctx.Err())
		}
		return "", fmt.Errorf("listing refs: %w", classifyRemote(err, rs))
	}
	var headHash plumbing.Hash
	for _, r := range refs {
		if r.Name() != plumbing.HEAD {
			continue
		}
		if r.Type() == plumbing.SymbolicReference {
			return r.Target(), nil
		}
		headHash = r.Hash()
	}
	if headHash.IsZero() {
		return "", fmt.Errorf("%w: the remote has no HEAD: set %s to a branch, tag or commit",
			ErrRefNotFound, rs.where("ref"))
	}
	// No symref advertised: pick the branch HEAD points at, preferring the
	// usual default names.
	var match plumbing.ReferenceName
	for _, r := range refs {
		if r.Name().IsBranch() && r.Hash() == headHash {
			if n := r.Name().Short(); n == "main" || n == "master" {
				return r.Name(), nil
			}
			if match == "" || r.Name() < match {
				match = r.Name()
			}
		}
	}
	if match == "" {
		return "", fmt.Errorf("%w: the remote's HEAD is detached: set %s to a branch, tag or commit",
			ErrRefNotFound, rs.where("ref"))
	}
	return match, nil
}

// lock takes the repository's in-process mutex, then its file lock.
func (c *Cache) lock(ctx context.Context, name string) (func(), error) {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = make(map[string]chan struct{})
	}
	ch, ok := c.locks[name]
	if !ok {
		ch = make(chan struct{}, 1)
		c.locks[name] = ch
	}
	c.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the git cache lock: %w", ctx.Err())
	}
	unlockFile, err := flockExclusive(ctx, filepath.Join(c.Root, name+".lock"), c.lockWaitHook)
	if err != nil {
		<-ch
		return nil, err
	}
	return func() {
		unlockFile()
		<-ch
	}, nil
}

// removeLeftovers deletes temporary clones and discarded caches of name left
// by a crash. Only lock holders create them, and the caller holds the lock.
func removeLeftovers(root, name string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("listing leftovers in %s: %w", root, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), name+".git.tmp-") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return fmt.Errorf("removing leftover %s: %w", e.Name(), err)
		}
	}
	return nil
}

// discard moves a damaged clone aside and deletes it. Readers in other
// processes that still have its files open keep working on the old inode.
func discard(dir string) error {
	trash := dir + ".tmp-discard-" + rand.Text()
	if err := os.Rename(dir, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("moving damaged git cache %s aside: %w", dir, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing damaged git cache %s: %w", trash, err)
	}
	return nil
}
