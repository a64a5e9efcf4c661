package gitsource

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/require"
)

// Environment of the helper process (see TestMain): a second worker process
// sharing a cache Root.
const (
	helperEnv     = "GITSOURCE_TEST_HELPER"
	helperRoot    = "GITSOURCE_TEST_ROOT"
	helperRepo    = "GITSOURCE_TEST_REPO"
	helperRefs    = "GITSOURCE_TEST_REFS"
	waitingForMsg = "waiting-for-lock"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helperMain())
	}
	os.Exit(m.Run())
}

// helperMain checks out each ref in $GITSOURCE_TEST_REFS and prints
// "<ref> <commit> <orders.sql>" per ref, after "waiting-for-lock" if it had
// to wait for another process's file lock.
func helperMain() int {
	var once sync.Once
	c := &Cache{
		Root:         os.Getenv(helperRoot),
		CheckoutRoot: os.TempDir(),
		lockWaitHook: func() { once.Do(func() { fmt.Println(waitingForMsg) }) },
	}
	for _, ref := range strings.Split(os.Getenv(helperRefs), ",") {
		co, err := c.Checkout(context.Background(), Source{Repo: os.Getenv(helperRepo), Ref: ref, Path: "dbt"})
		if err != nil {
			fmt.Fprintf(os.Stderr, "checkout %s: %v\n", ref, err)
			return 1
		}
		orders, err := os.ReadFile(filepath.Join(co.Dir, "models", "orders.sql"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%s %s %s\n", ref, co.Commit, strings.TrimSpace(string(orders)))
		if err := co.Cleanup(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// startHelper runs the test binary as a second worker process and returns
// its output lines as they come.
func startHelper(t *testing.T, root, repo string, refs ...string) (<-chan string, func() error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperRoot+"="+root, helperRepo+"="+repo,
		helperRefs+"="+strings.Join(refs, ","))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	wait := func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("helper process: %w: %s", err, stderr.String())
		}
		return nil
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return lines, wait
}

func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		require.True(t, ok, "helper process ended early")
		return l
	case <-time.After(2 * time.Minute):
		t.Fatal("no output from helper process")
		return ""
	}
}

func TestConcurrentCheckoutsOfOneRepo(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t) // empty: all eight race to clone it
	want := map[string]string{
		"": fx.c2, "main": fx.c2, "feature": fx.c3, "refs/heads/feature": fx.c3,
		"v1.0": fx.c1, "light": fx.c3, fx.c1: fx.c1, fx.c2[:8]: fx.c2,
	}
	type result struct {
		ref, commit, orders string
		err                 error
	}
	results := make(chan result, len(want))
	var wg sync.WaitGroup
	for ref := range want {
		wg.Go(func() {
			co, err := c.Checkout(context.Background(), Source{Repo: fx.url, Ref: ref, Path: "dbt"})
			if err != nil {
				results <- result{ref: ref, err: err}
				return
			}
			defer co.Cleanup()
			b, err := os.ReadFile(filepath.Join(co.Dir, "models", "orders.sql"))
			results <- result{ref: ref, commit: co.Commit, orders: string(b), err: err}
		})
	}
	wg.Wait()
	close(results)
	wantOrders := map[string]string{fx.c1: "select 1 as v\n", fx.c2: "select 2 as v\n", fx.c3: "select 1 as v\n"}
	n := 0
	for r := range results {
		require.NoError(t, r.err, "ref %q", r.ref)
		require.Equal(t, want[r.ref], r.commit, "ref %q", r.ref)
		require.Equal(t, wantOrders[r.commit], r.orders, "ref %q", r.ref)
		n++
	}
	require.Equal(t, len(want), n)
}

func TestFileLockSerialisesCaches(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	holder := newCache(t)
	require.NoError(t, os.MkdirAll(holder.Root, 0o700))
	src := Source{Repo: fx.url, Ref: "main", Path: "dbt"}
	rs, err := resolveSource(src)
	require.NoError(t, err)

	t.Run("SecondCacheInProcess", func(t *testing.T) {
		held, err := holder.lock(context.Background(), rs.cacheName())
		require.NoError(t, err)
		unlock := sync.OnceFunc(held)
		defer unlock()
		waiting := make(chan struct{})
		var once sync.Once
		// A second Cache has its own in-process mutexes: only flock stops it.
		other := &Cache{Root: holder.Root, CheckoutRoot: t.TempDir(), lockWaitHook: func() { once.Do(func() { close(waiting) }) }}
		type result struct {
			co  *Checkout
			err error
		}
		done := make(chan result, 1)
		go func() {
			co, err := other.Checkout(context.Background(), src)
			done <- result{co, err}
		}()
		select {
		case <-waiting:
		case r := <-done:
			t.Fatalf("Checkout finished while another Cache held the file lock (err %v)", r.err)
		case <-time.After(2 * time.Minute):
			t.Fatal("Checkout never reached the file lock")
		}
		select {
		case r := <-done:
			t.Fatalf("Checkout finished while another Cache held the file lock (err %v)", r.err)
		default:
		}
		unlock()
		r := <-done
		require.NoError(t, r.err)
		require.Equal(t, fx.c2, r.co.Commit)
		require.NoError(t, r.co.Cleanup())
	})

	t.Run("SecondProcess", func(t *testing.T) {
		held, err := flockExclusive(context.Background(), filepath.Join(holder.Root, rs.cacheName()+".lock"), nil)
		require.NoError(t, err)
		unlock := sync.OnceFunc(held)
		defer unlock()
		lines, wait := startHelper(t, holder.Root, fx.url, "feature")
		require.Equal(t, waitingForMsg, nextLine(t, lines), "the other process must block on our flock")
		unlock()
		require.Equal(t, "feature "+fx.c3+" select 1 as v", nextLine(t, lines))
		require.NoError(t, wait())
	})

	t.Run("WaitHonoursContext", func(t *testing.T) {
		unlock, err := holder.lock(context.Background(), rs.cacheName())
		require.NoError(t, err)
		defer unlock()
		for name, c := range map[string]*Cache{"SameCache": holder, "OtherCache": {Root: holder.Root}} {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := c.Checkout(ctx, src)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded, name)
			require.False(t, IsPermanent(err), name)
		}
	})
}

func TestTwoProcessesShareOneCache(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	c := newCache(t) // empty: both processes and the goroutines race to clone
	refs := []string{"main", "feature", "v1.0", "light"}
	want := map[string]string{
		"main " + fx.c2 + " select 2 as v": "", "feature " + fx.c3 + " select 1 as v": "",
		"v1.0 " + fx.c1 + " select 1 as v": "", "light " + fx.c3 + " select 1 as v": "",
	}
	type proc struct {
		lines <-chan string
		wait  func() error
	}
	var procs []proc
	for range 2 {
		lines, wait := startHelper(t, c.Root, fx.url, refs...)
		procs = append(procs, proc{lines, wait})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(refs))
	for _, ref := range refs {
		wg.Go(func() {
			co, err := c.Checkout(context.Background(), Source{Repo: fx.url, Ref: ref, Path: "dbt"})
			if err == nil {
				err = co.Cleanup()
			}
			errs <- err
		})
	}
	for _, p := range procs {
		var got []string
		for l := range p.lines {
			if l != waitingForMsg {
				got = append(got, l)
			}
		}
		require.NoError(t, p.wait())
		require.Len(t, got, len(refs))
		for _, l := range got {
			require.Contains(t, want, l)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	repo, err := git.PlainOpen(cacheDir(t, c, fx.url))
	require.NoError(t, err)
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("feature"), true)
	require.NoError(t, err)
	require.Equal(t, fx.c3, ref.Hash().String())
}

func TestCorruptCacheIsRecovered(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)

	removeObjects := func(t *testing.T, dir string) {
		entries, err := os.ReadDir(filepath.Join(dir, "objects"))
		require.NoError(t, err)
		for _, e := range entries {
			if e.Name() != "info" {
				require.NoError(t, os.RemoveAll(filepath.Join(dir, "objects", e.Name())))
			}
		}
	}
	tests := []struct {
		name   string
		primed bool // damage a working cache rather than plant a broken one
		damage func(t *testing.T, dir string)
	}{
		{"EmptyDir", false, func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(dir, 0o700))
		}},
		{"HalfClone", false, func(t *testing.T, dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "objects", "pack"), 0o700))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o700))
			writeFile(t, filepath.Join(dir, "HEAD"), "ref: refs/heads/main\n", 0o600)
		}},
		{"GarbageConfig", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "config"), "[[[ not a git config\n", 0o600)
		}},
		{"MissingObjects", true, removeObjects},
		{"TruncatedPacks", true, func(t *testing.T, dir string) {
			packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
			require.NoError(t, err)
			require.NotEmpty(t, packs)
			for _, p := range packs {
				info, err := os.Stat(p)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(p, info.Size()/2))
			}
		}},
		{"LeftoverTemporaryClones", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir+".tmp-123456", "objects", "junk"), "half a clone", 0o600)
			writeFile(t, filepath.Join(dir+".tmp-discard-abc", "HEAD"), "old", 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCache(t)
			src := Source{Repo: fx.url, Ref: "main", Path: "dbt"}
			dir := cacheDir(t, c, fx.url)
			if tt.primed {
				checkout(t, c, src)
			}
			tt.damage(t, dir)

			co := checkout(t, c, src)
			require.Equal(t, fx.c2, co.Commit)
			require.Equal(t, "select 2 as v\n", readFile(t, filepath.Join(co.Dir, "models", "orders.sql")))

			repo, err := git.PlainOpen(dir)
			require.NoError(t, err)
			ref, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true)
			require.NoError(t, err)
			require.Equal(t, fx.c2, ref.Hash().String())
			leftovers, err := filepath.Glob(dir + ".tmp-*")
			require.NoError(t, err)
			require.Empty(t, leftovers)
		})
	}
}
