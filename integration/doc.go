// Package integration runs Sluice end to end on the real Temporal dev server
// (the pinned temporal CLI) and the real Postgres: workers, CLI, history,
// crash recovery, and the README's recipes exactly as written.
package integration
