// Package bench holds Sluice's benchmarks. Each compares Sluice with a
// baseline run side by side on the same machine in the same process, and
// reports the ratio; `make bench` runs them. Speed goals live here, never in
// timed tests.
package bench
