package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

const projectFile = "dbt_project.yml"

// materialise checks that the project exists at the commit, then writes the
// commit's whole tree (a project may use ../ local packages) into a new
// private directory.
func (c *Cache) materialise(ctx context.Context, rs *resolvedSource, p *prepared) (*Checkout, error) {
	short := p.commit.Hash.String()[:7]
	tree, err := p.commit.Tree()
	if err != nil {
		return nil, corrupt(fmt.Errorf("reading tree of commit %s: %w", short, err))
	}
	if err := checkProject(tree, rs, short); err != nil {
		return nil, err
	}
	if c.CheckoutRoot != "" {
		if err := os.MkdirAll(c.CheckoutRoot, 0o700); err != nil {
			return nil, fmt.Errorf("creating checkout root %s: %w", c.CheckoutRoot, err)
		}
	}
	tmp, err := os.MkdirTemp(c.CheckoutRoot, "sluice-git-") // 0700: private to this checkout
	if err != nil {
		return nil, fmt.Errorf("creating checkout directory: %w", err)
	}
	if err := writeTree(ctx, p.repo, tree, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("writing commit %s into %s: %w", short, tmp, err)
	}
	ref := ""
	if p.ref != "" {
		ref = p.ref.String()
	}
	return &Checkout{
		Dir:    filepath.Join(tmp, filepath.FromSlash(rs.path)),
		Commit: p.commit.Hash.String(),
		Ref:    ref,
		Cleanup: func() error {
			if err := os.RemoveAll(tmp); err != nil {
				return fmt.Errorf("removing checkout %s: %w", tmp, err)
			}
			return nil
		},
	}, nil
}

// checkProject verifies that rs.path is a directory holding dbt_project.yml
// at the commit, with a message saying what to fix.
func checkProject(tree *object.Tree, rs *resolvedSource, short string) error {
	if rs.path != "" {
		entry, err := tree.FindEntry(rs.path)
		if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
			return fmt.Errorf("%w: path %s not found at commit %s of %s: %s",
				ErrProjectNotFound, rs.displayPath(), short, rs.url, rs.check("path"))
		}
		if err != nil {
			return corrupt(fmt.Errorf("looking up %s at commit %s: %w", rs.path, short, err))
		}
		if entry.Mode != filemode.Dir {
			return fmt.Errorf("%w: path %s is a file, not a folder, at commit %s of %s: %s",
				ErrProjectNotFound, rs.path, short, rs.url, rs.check("path"))
		}
	}
	_, err := tree.FindEntry(path.Join(rs.path, projectFile))
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return fmt.Errorf("%w: no %s in %s at commit %s of %s: %s",
			ErrProjectNotFound, projectFile, rs.displayPath(), short, rs.url, rs.check("path"))
	}
	if err != nil {
		return corrupt(fmt.Errorf("looking up %s at commit %s: %w", projectFile, short, err))
	}
	return nil
}

// writeTree writes tree into dir through an os.Root, so no entry (or
// symlink planted by an earlier entry) can write outside dir.
func writeTree(ctx context.Context, repo *git.Repository, tree *object.Tree, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return writeEntries(ctx, root, repo, tree, "")
}

func writeEntries(ctx context.Context, root *os.Root, repo *git.Repository, tree *object.Tree, dir string) error {
	for _, e := range tree.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := checkEntryName(e.Name); err != nil {
			return fmt.Errorf("%w: the commit contains an unsafe path %q under %q: %v",
				ErrInvalidSource, e.Name, dir, err)
		}
		name := path.Join(dir, e.Name)
		switch e.Mode {
		case filemode.Dir:
			if err := root.Mkdir(name, 0o755); err != nil {
				return err
			}
			sub, err := repo.TreeObject(e.Hash)
			if err != nil {
				return corrupt(fmt.Errorf("reading tree %s (%s): %w", name, e.Hash, err))
			}
			if err := writeEntries(ctx, root, repo, sub, name); err != nil {
				return err
			}
		case filemode.Regular, filemode.Deprecated:
			if err := writeBlob(root, repo, e, name, 0o644); err != nil {
				return err
			}
		case filemode.Executable:
			if err := writeBlob(root, repo, e, name, 0o755); err != nil {
				return err
			}
		case filemode.Symlink:
			target, err := readBlob(repo, e, name, 4096)
			if err != nil {
				return err
			}
			if err := root.Symlink(string(target), name); err != nil {
				return err
			}
		case filemode.Submodule:
			// Like `git clone` without --recurse-submodules: an empty folder.
			if err := root.Mkdir(name, 0o755); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s has unsupported git file mode %s", name, e.Mode)
		}
	}
	return nil
}

// checkEntryName refuses names git itself would refuse to check out.
func checkEntryName(n string) error {
	switch {
	case n == "", n == ".", n == "..":
		return errors.New("reserved name")
	case strings.ContainsAny(n, "/\x00"):
		return errors.New("contains a separator or NUL")
	case strings.EqualFold(n, ".git"):
		return errors.New("a .git entry could hijack git commands run in the checkout")
	}
	return nil
}

// readErrTracker remembers read errors so they can be told apart from write
// errors after io.Copy: a failed read means a damaged cache.
type readErrTracker struct {
	r   io.Reader
	err error
}

func (t *readErrTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

func writeBlob(root *os.Root, repo *git.Repository, e object.TreeEntry, name string, perm os.FileMode) error {
	blob, err := repo.BlobObject(e.Hash)
	if err != nil {
		return corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, err))
	}
	r, err := blob.Reader()
	if err != nil {
		return corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, err))
	}
	defer r.Close()
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	tr := &readErrTracker{r: r}
	n, err := io.Copy(f, tr)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case tr.err != nil:
		return corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, tr.err))
	case err != nil:
		return fmt.Errorf("writing %s: %w", name, err)
	case n != blob.Size:
		return corrupt(fmt.Errorf("reading %s (%s): got %d of %d bytes", name, e.Hash, n, blob.Size))
	}
	return nil
}

func readBlob(repo *git.Repository, e object.TreeEntry, name string, limit int64) ([]byte, error) {
	blob, err := repo.BlobObject(e.Hash)
	if err != nil {
		return nil, corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, err))
	}
	if blob.Size > limit {
		return nil, fmt.Errorf("symlink %s has a %d-byte target", name, blob.Size)
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, err))
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, corrupt(fmt.Errorf("reading %s (%s): %w", name, e.Hash, err))
	}
	return b, nil
}
