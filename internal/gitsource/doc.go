// Package gitsource materialises dbt projects that live in a local folder or
// in a git repository (branch, tag or commit; optional subdirectory), so a dbt
// task always runs on a private, known commit.
//
// A [Cache] keeps one bare clone per repository under its Root, keyed by the
// repository URL with credentials removed. Every [Cache.Checkout] fetches all
// branches and tags into that clone, resolves the requested ref to a commit,
// and writes the commit's tree into a fresh 0700 temporary directory that
// belongs to that Checkout alone, so concurrent tasks never share a worktree.
//
// Concurrency: fetches of one repository are serialised by an in-process
// mutex and by flock(2) on "<name>.lock" next to the bare clone, so goroutines
// and several worker processes on one host can share a Root. Writing a
// checkout only reads immutable objects and happens outside the lock. A clone
// is made in a temporary directory and renamed into place, and a cache
// directory that cannot be opened or whose objects cannot be read is thrown
// away and cloned again once.
//
// Credentials (HTTPS token, SSH key and passphrase) are passed to go-git as
// auth methods only: the bare clone's config holds the credential-free URL,
// and every error returned is rebuilt from text with the secrets scrubbed, so
// nothing wrapped inside can leak them. Errors wrap the sentinels of this
// package; [IsPermanent] tells the errors that a retry cannot fix.
//
// Limits: go-git v5 serves file:// URLs (and plain paths) by running the git
// binary's git-upload-pack, so those need git installed; https and ssh do
// not. Submodules are left as empty directories and LFS pointers as they are
// committed. SSH host keys are checked against Source.KnownHosts, or the
// user's known_hosts files when it is empty; checking is skipped only when
// Source.InsecureIgnoreHostKey is set.
package gitsource
