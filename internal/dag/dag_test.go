package dag

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// terminalStates are the states an upstream task can be in when Decide runs.
var terminalStates = []State{Success, Failed, TimedOut, Canceled, Skipped, UpstreamFailed, Disabled, Excluded}

func TestStateClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		state             State
		terminal, failure bool
	}{
		{Pending, false, false},
		{Running, false, false},
		{"", false, false},
		{Success, true, false},
		{Failed, true, true},
		{TimedOut, true, true},
		{Canceled, true, true},
		{UpstreamFailed, true, true},
		{Skipped, true, false},
		{Disabled, true, false},
		{Excluded, true, false},
	} {
		require.Equal(t, tc.terminal, tc.state.Terminal(), "Terminal(%q)", tc.state)
		require.Equal(t, tc.failure, tc.state.Failure(), "Failure(%q)", tc.state)
	}
}

func TestParseRunIf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]RunIf{
		"":                     AllSuccess,
		"ALL_SUCCESS":          AllSuccess,
		"all_done":             AllDone,
		"At_Least_One_Failed":  AtLeastOneFailed,
		"AT_LEAST_ONE_SUCCESS": AtLeastOneSuccess,
		"none_failed":          NoneFailed,
		"ALL_FAILED":           AllFailed,
	} {
		got, err := ParseRunIf(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"ALL", "ALL SUCCESS", "ALLSUCCESS", " ALL_DONE"} {
		_, err := ParseRunIf(bad)
		require.EqualError(t, err, fmt.Sprintf("unknown run_if %q", bad))
	}
}

// How run_if sees an upstream state, from the Databricks Jobs documentation
// ("Run if dependencies"), which dag.go follows:
//
//	ok   SUCCESS; DISABLED and EXCLUDED (not selected) are treated as succeeded
//	fail FAILED, TIMEDOUT, UPSTREAM_FAILED, and CANCELED (Databricks runs
//	     failure handlers after a cancel)
//	skip SKIPPED: its own run_if was not met
func class(s State) string {
	switch s {
	case Success, Disabled, Excluded:
		return "ok"
	case Failed, TimedOut, Canceled, UpstreamFailed:
		return "fail"
	case Skipped:
		return "skip"
	}
	panic("not a terminal state: " + string(s))
}

type decision struct {
	run   bool
	final State
}

var (
	run   = decision{run: true}
	upf   = decision{final: UpstreamFailed}
	skipd = decision{final: Skipped}
)

// decideTable is the expected decision for each set of upstream classes.
// Only which classes are present matters, never how many of each.
//
// Databricks: ALL_SUCCESS, AT_LEAST_ONE_SUCCESS and NONE_FAILED mark an unmet
// task "Upstream failed"; AT_LEAST_ONE_FAILED and ALL_FAILED mark it
// excluded (SKIPPED here); NONE_FAILED needs at least one upstream that ran;
// a task whose upstream tasks were all skipped is skipped, whatever its run_if.
//
// Two deliberate departures, where Databricks treats a skipped upstream as a
// success: ok+skip under ALL_SUCCESS is SKIPPED (a skip propagates, so a
// wait_for that timed out with on_timeout: skip also stops what needs it),
// and fail+skip under AT_LEAST_ONE_SUCCESS is UPSTREAM_FAILED (nothing
// actually succeeded).
var decideTable = map[string]map[RunIf]decision{
	"ok": {
		AllSuccess: run, AtLeastOneSuccess: run, NoneFailed: run, AllDone: run, AtLeastOneFailed: skipd, AllFailed: skipd,
	},
	"fail": {
		AllSuccess: upf, AtLeastOneSuccess: upf, NoneFailed: upf, AllDone: run, AtLeastOneFailed: run, AllFailed: run,
	},
	"skip": {
		AllSuccess: skipd, AtLeastOneSuccess: skipd, NoneFailed: skipd, AllDone: skipd, AtLeastOneFailed: skipd, AllFailed: skipd,
	},
	"fail+ok": {
		AllSuccess: upf, AtLeastOneSuccess: run, NoneFailed: upf, AllDone: run, AtLeastOneFailed: run, AllFailed: skipd,
	},
	"ok+skip": {
		AllSuccess: skipd, AtLeastOneSuccess: run, NoneFailed: run, AllDone: run, AtLeastOneFailed: skipd, AllFailed: skipd,
	},
	"fail+skip": {
		AllSuccess: upf, AtLeastOneSuccess: upf, NoneFailed: upf, AllDone: run, AtLeastOneFailed: run, AllFailed: skipd,
	},
	"fail+ok+skip": {
		AllSuccess: upf, AtLeastOneSuccess: run, NoneFailed: upf, AllDone: run, AtLeastOneFailed: run, AllFailed: skipd,
	},
}

func classSet(states []State) string {
	var cs []string
	for _, s := range states {
		cs = append(cs, class(s))
	}
	slices.Sort(cs)
	return strings.Join(slices.Compact(cs), "+")
}

// tuples returns every ordered tuple of length n over states.
func tuples(states []State, n int) [][]State {
	if n == 0 {
		return [][]State{nil}
	}
	var out [][]State
	for _, head := range states {
		for _, tail := range tuples(states, n-1) {
			out = append(out, append([]State{head}, tail...))
		}
	}
	return out
}

func TestDecideExhaustive(t *testing.T) {
	t.Parallel()
	require.Len(t, decideTable, 7, "every non-empty set of the three classes")
	checked := 0
	for n := 1; n <= 3; n++ {
		for _, up := range tuples(terminalStates, n) {
			want := decideTable[classSet(up)]
			require.NotNil(t, want, "no expectation for %v", up)
			for _, r := range RunIfs {
				gotRun, gotFinal := Decide(r, up)
				require.Equal(t, want[r], decision{gotRun, gotFinal}, "Decide(%s, %v)", r, up)
				checked++
			}
		}
	}
	require.Equal(t, 6*(8+64+512), checked)
}

func TestDecide(t *testing.T) {
	t.Parallel()
	t.Run("NoUpstreamAlwaysRuns", func(t *testing.T) {
		t.Parallel()
		for _, r := range RunIfs {
			gotRun, final := Decide(r, nil)
			require.True(t, gotRun, r)
			require.Empty(t, final, r)
		}
	})
	t.Run("EmptyRunIfIsAllSuccess", func(t *testing.T) {
		t.Parallel()
		for _, up := range tuples(terminalStates, 2) {
			r1, f1 := Decide("", up)
			r2, f2 := Decide(AllSuccess, up)
			require.Equal(t, decision{r2, f2}, decision{r1, f1}, "%v", up)
		}
	})
	for _, tc := range []struct {
		name  string
		runIf RunIf
		up    []State
		want  decision
	}{
		{"JoinWaitsForBoth", AllSuccess, []State{Success, Success}, run},
		{"DisabledUpstreamDoesNotBlock", AllSuccess, []State{Success, Disabled}, run},
		{"ExcludedUpstreamDoesNotBlockOnly", AllSuccess, []State{Excluded, Excluded}, run},
		{"OneFailureFailsTheJoin", AllSuccess, []State{Success, TimedOut}, upf},
		{"UpstreamFailedPropagates", AllSuccess, []State{UpstreamFailed}, upf},
		{"SkipPropagates", AllSuccess, []State{Skipped}, skipd},
		{"CleanupRunsAfterFailure", AllDone, []State{Success, Failed}, run},
		{"CleanupRunsAfterCancel", AllDone, []State{Canceled}, run},
		{"CleanupSkippedWhenNothingRan", AllDone, []State{Skipped, Skipped}, skipd},
		{"FailureHandlerRunsAfterCancel", AtLeastOneFailed, []State{Success, Canceled}, run},
		{"FailureHandlerSkippedOnSuccess", AtLeastOneFailed, []State{Success, Success}, skipd},
		{"AllFailedNeedsEveryUpstreamFailed", AllFailed, []State{Failed, Success}, skipd},
		{"AllFailedCountsUpstreamFailed", AllFailed, []State{Failed, UpstreamFailed}, run},
		{"AnySuccessToleratesFailure", AtLeastOneSuccess, []State{Failed, Success}, run},
		{"AnySuccessWithNoneIsUpstreamFailed", AtLeastOneSuccess, []State{Failed, TimedOut}, upf},
		{"NoneFailedToleratesSkip", NoneFailed, []State{Success, Skipped}, run},
		{"NoneFailedNeedsOneThatRan", NoneFailed, []State{Skipped}, skipd},
		{"NoneFailedOnExcludedRuns", NoneFailed, []State{Excluded}, run},
		{"NoneFailedFailsOnCancel", NoneFailed, []State{Success, Canceled}, upf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gotRun, final := Decide(tc.runIf, tc.up)
			require.Equal(t, tc.want, decision{gotRun, final})
		})
	}
}

func TestStatusDone(t *testing.T) {
	t.Parallel()
	for _, s := range []Status{StatusSuccess, StatusSuccessWithFailures, StatusFailed, StatusTimedOut, StatusCanceled} {
		require.True(t, s.Done(), s)
	}
	for _, s := range []Status{StatusQueued, StatusRunning, "", "SKIPPED"} {
		require.False(t, s.Done(), s)
	}
}

// diamond: a -> b, a -> c, (b, c) -> d, and a side leaf e after a.
var diamond = []Node{
	{Key: "a"},
	{Key: "b", DependsOn: []string{"a"}},
	{Key: "c", DependsOn: []string{"a"}},
	{Key: "d", DependsOn: []string{"b", "c"}},
	{Key: "e", DependsOn: []string{"a"}},
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	all := func(s State) map[string]State {
		return map[string]State{"a": s, "b": s, "c": s, "d": s, "e": s}
	}
	with := func(base map[string]State, kv ...any) map[string]State {
		out := map[string]State{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1].(State)
		}
		return out
	}
	ok := all(Success)
	for _, tc := range []struct {
		name               string
		states             map[string]State
		canceled, timedOut bool
		want               Status
	}{
		{"AllSucceeded", ok, false, false, StatusSuccess},
		{"LeafFailed", with(ok, "d", Failed), false, false, StatusFailed},
		{"LeafTimedOut", with(ok, "e", TimedOut), false, false, StatusFailed},
		{"LeafCanceledWithoutRunCancel", with(ok, "e", Canceled), false, false, StatusFailed},
		{"LeafUpstreamFailed", with(ok, "c", Failed, "d", UpstreamFailed), false, false, StatusFailed},
		{"NonLeafFailedLeavesSucceeded", with(ok, "b", Failed), false, false, StatusSuccessWithFailures},
		{"NonLeafTimedOutLeafRanAnyway", with(ok, "c", TimedOut), false, false, StatusSuccessWithFailures},
		{"LeafSkippedByRunIf", with(ok, "e", Skipped), false, false, StatusSuccess},
		{"LeafSkippedAfterFailure", with(ok, "b", Failed, "d", Skipped), false, false, StatusSuccessWithFailures},
		{"DisabledAndExcludedCountAsSuccess", with(ok, "b", Disabled, "e", Excluded), false, false, StatusSuccess},
		{"EverythingExcludedButOne", with(all(Excluded), "c", Success), false, false, StatusSuccess},
		{"CancelBeatsSuccess", ok, true, false, StatusCanceled},
		{"CancelBeatsFailure", with(ok, "d", Failed), true, false, StatusCanceled},
		{"TimeoutBeatsSuccess", ok, false, true, StatusTimedOut},
		{"TimeoutBeatsFailure", with(ok, "d", Failed), false, true, StatusTimedOut},
		{"TimeoutBeatsCancel", all(Canceled), true, true, StatusTimedOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Outcome(diamond, tc.states, tc.canceled, tc.timedOut))
		})
	}
}

// simulate runs a DAG (nodes in topological order) the way the workflow
// does: disabled tasks settle first, then each task is decided from its
// upstream states and, when it runs, ends in its given result.
func simulate(nodes []Node, runIfs map[string]RunIf, results map[string]State) map[string]State {
	states := map[string]State{}
	for _, n := range nodes {
		if results[n.Key] == Disabled {
			states[n.Key] = Disabled
			continue
		}
		var up []State
		for _, d := range n.DependsOn {
			up = append(up, states[d])
		}
		if runIt, final := Decide(runIfs[n.Key], up); runIt {
			states[n.Key] = results[n.Key]
		} else {
			states[n.Key] = final
		}
	}
	return states
}

// TestOutcomeOverSimulatedRuns checks the outcome rules over every run of a
// diamond DAG: every run_if on the non-root tasks, and every result (success,
// failure, disabled) of every task.
func TestOutcomeOverSimulatedRuns(t *testing.T) {
	t.Parallel()
	leaves := map[string]bool{"d": true, "e": true}
	results := []State{Success, Failed, Disabled} // TIMEDOUT and CANCELED act as FAILED (TestDecideExhaustive)
	runs, sawUpstreamFailedLeaf, sawSWF := 0, false, false
	for _, rb := range RunIfs {
		for _, rc := range RunIfs {
			for _, rd := range RunIfs {
				for _, re := range RunIfs {
					runIfs := map[string]RunIf{"b": rb, "c": rc, "d": rd, "e": re}
					for _, res := range tuples(results, 5) {
						given := map[string]State{"a": res[0], "b": res[1], "c": res[2], "d": res[3], "e": res[4]}
						states := simulate(diamond, runIfs, given)
						got := Outcome(diamond, states, false, false)
						runs++

						anyFailure, leafFailure := false, false
						for k, s := range states {
							if !s.Terminal() {
								t.Fatalf("%s ends %q", k, s)
							}
							if s.Failure() {
								anyFailure = true
								leafFailure = leafFailure || leaves[k]
							}
							if s == UpstreamFailed {
								if got == StatusSuccess {
									t.Fatalf("a run never reports SUCCESS while %s was not run because of an upstream failure: %v %v", k, runIfs, states)
								}
								sawUpstreamFailedLeaf = sawUpstreamFailedLeaf || leaves[k]
							}
						}
						want := StatusSuccess
						switch {
						case leafFailure:
							want = StatusFailed
						case anyFailure:
							want = StatusSuccessWithFailures
							sawSWF = true
						}
						if got != want {
							t.Fatalf("outcome %s, want %s: %v %v", got, want, runIfs, states)
						}
					}
				}
			}
		}
	}
	require.Equal(t, 6*6*6*6*3*3*3*3*3, runs)
	require.True(t, sawUpstreamFailedLeaf)
	require.True(t, sawSWF)
}

func TestFindCycle(t *testing.T) {
	t.Parallel()
	n := func(key string, deps ...string) Node { return Node{Key: key, DependsOn: deps} }
	for _, tc := range []struct {
		name  string
		nodes []Node
		want  []string
	}{
		{"None", diamond, nil},
		{"Empty", nil, nil},
		{"UnknownDependencyIgnored", []Node{n("a", "ghost"), n("b", "a")}, nil},
		{"Self", []Node{n("a"), n("b", "b")}, []string{"b", "b"}},
		{"Two", []Node{n("a", "b"), n("b", "a")}, []string{"a", "b", "a"}},
		// a needs c, b needs a, c needs b: a runs before b, b before c, c before a
		{"ThreeUpstreamFirst", []Node{n("a", "c"), n("b", "a"), n("c", "b")}, []string{"a", "b", "c", "a"}},
		{"BehindAnEntryTask", []Node{n("x", "a"), n("a", "c"), n("b", "a"), n("c", "b")}, []string{"a", "b", "c", "a"}},
		{"AfterAnAcyclicPart", []Node{n("root"), n("p", "root"), n("q", "p", "r"), n("r", "q")}, []string{"q", "r", "q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := FindCycle(tc.nodes)
			require.Equal(t, tc.want, got)
			if got == nil {
				return
			}
			require.Equal(t, got[0], got[len(got)-1], "a cycle starts and ends with the same key")
			deps := map[string][]string{}
			for _, nd := range tc.nodes {
				deps[nd.Key] = nd.DependsOn
			}
			for i := 0; i+1 < len(got); i++ {
				require.Contains(t, deps[got[i+1]], got[i], "upstream first: %s depends on %s", got[i+1], got[i])
			}
		})
	}
}

func TestUpstreamDownstream(t *testing.T) {
	t.Parallel()
	keys := func(m map[string]bool) []string {
		var out []string
		for k, v := range m {
			require.True(t, v)
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, []string{"a", "b", "c"}, keys(Upstream(diamond, "d")))
	require.Equal(t, []string{"a"}, keys(Upstream(diamond, "e")))
	require.Empty(t, Upstream(diamond, "a"))
	require.Empty(t, Upstream(diamond, "ghost"))

	require.Equal(t, []string{"b", "c", "d", "e"}, keys(Downstream(diamond, "a")))
	require.Equal(t, []string{"d"}, keys(Downstream(diamond, "b")))
	require.Equal(t, []string{"d"}, keys(Downstream(diamond, "b", "c", "e")))
	require.Empty(t, Downstream(diamond, "d", "e"))
	require.Empty(t, Downstream(diamond))
	require.Empty(t, Downstream(diamond, "ghost"))

	// in a cycle every task is upstream and downstream of itself, and the
	// walks still end
	cyc := []Node{{Key: "a", DependsOn: []string{"b"}}, {Key: "b", DependsOn: []string{"a"}}, {Key: "c", DependsOn: []string{"a"}}}
	require.Equal(t, []string{"a", "b"}, keys(Upstream(cyc, "c")))
	require.Equal(t, []string{"a", "b"}, keys(Upstream(cyc, "a")))
	require.Equal(t, []string{"a", "b", "c"}, keys(Downstream(cyc, "a")))
}
