package dbt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// versionTimeout bounds `dbt --version`, which asks PyPI for the latest
// release and can hang on a host without internet.
const versionTimeout = 60 * time.Second

// InstalledVersion runs `<executable> --version` and returns the installed dbt Core
// version, e.g. "1.8.2". env is added to the current environment.
func InstalledVersion(ctx context.Context, executable string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, executable, "--version")
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("running %s --version: %w: %s", executable, err, truncate(strings.TrimSpace(out.String()), 500))
	}
	v, err := ParseVersionOutput(out.String())
	if err != nil {
		return "", fmt.Errorf("running %s --version: %w", executable, err)
	}
	return v, nil
}

var installedVersionRe = regexp.MustCompile(`(?mi)installed(?:\s+version)?\s*:\s*v?(\d+\.\d+(?:\.\d+)?[0-9A-Za-z.+-]*)`)

// ParseVersionOutput reads the installed dbt Core version from the output
// of `dbt --version`, in the 1.5+ format ("Core:\n  - installed: 1.8.2")
// and the older one ("installed version: 1.4.5").
func ParseVersionOutput(out string) (string, error) {
	m := installedVersionRe.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no installed version in `dbt --version` output %q", truncate(strings.TrimSpace(out), 300))
	}
	return m[1], nil
}

// CheckVersion reports whether version satisfies constraint, a
// comma-separated list of clauses like ">=1.7,<2.0", "~=1.8" or "==1.8.*"
// (PEP 440 operators, which is how dbt's own require-dbt-version reads).
// A bare version means ==. Pre-releases compare below their release, and
// "<2.0" excludes 2.0 pre-releases.
func CheckVersion(version, constraint string) error {
	v, err := parseVersion(version)
	if err != nil {
		return fmt.Errorf("dbt version %q: %w", version, err)
	}
	for _, clause := range strings.Split(constraint, ",") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		ok, err := v.satisfies(clause)
		if err != nil {
			return fmt.Errorf("version constraint %q: %w", constraint, err)
		}
		if !ok {
			return fmt.Errorf("dbt %s does not satisfy %q (clause %q)", version, constraint, clause)
		}
	}
	return nil
}

// pyVersion is a PEP 440 version reduced to what dbt releases use:
// release numbers and an optional a/b/rc pre-release.
type pyVersion struct {
	release []int
	preKind int // 0 a, 1 b, 2 rc, 3 final
	preNum  int
}

var versionRe = regexp.MustCompile(`^v?(\d+(?:\.\d+)*)(?:[-.]?(a|alpha|b|beta|rc|c)\.?(\d*))?(?:[-+.].*)?$`)

func parseVersion(s string) (pyVersion, error) {
	m := versionRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return pyVersion{}, fmt.Errorf("not a version like 1.8.2 or 1.9.0b2")
	}
	var v pyVersion
	for _, p := range strings.Split(m[1], ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return pyVersion{}, fmt.Errorf("not a version: %w", err)
		}
		v.release = append(v.release, n)
	}
	v.preKind = 3
	switch m[2] {
	case "a", "alpha":
		v.preKind = 0
	case "b", "beta":
		v.preKind = 1
	case "rc", "c":
		v.preKind = 2
	}
	if m[3] != "" {
		v.preNum, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

func (v pyVersion) compare(o pyVersion) int {
	n := max(len(v.release), len(o.release))
	for i := range n {
		a, b := at(v.release, i), at(o.release, i)
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	if v.preKind != o.preKind {
		if v.preKind < o.preKind {
			return -1
		}
		return 1
	}
	switch {
	case v.preNum < o.preNum:
		return -1
	case v.preNum > o.preNum:
		return 1
	}
	return 0
}

func at(xs []int, i int) int {
	if i < len(xs) {
		return xs[i]
	}
	return 0
}

func (v pyVersion) sameRelease(o pyVersion) bool {
	n := max(len(v.release), len(o.release))
	for i := range n {
		if at(v.release, i) != at(o.release, i) {
			return false
		}
	}
	return true
}

func (v pyVersion) satisfies(clause string) (bool, error) {
	op := ""
	for _, candidate := range []string{"~=", "==", "!=", ">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(clause, candidate) {
			op = candidate
			break
		}
	}
	want := strings.TrimSpace(strings.TrimPrefix(clause, op))
	if op == "" || op == "=" {
		op = "=="
	}
	if strings.HasSuffix(want, ".*") {
		if op != "==" && op != "!=" {
			return false, fmt.Errorf("wildcard %q only works with == and !=", clause)
		}
		prefix, err := parseVersion(strings.TrimSuffix(want, ".*"))
		if err != nil {
			return false, fmt.Errorf("clause %q: %w", clause, err)
		}
		match := len(v.release) >= len(prefix.release)
		for i := range prefix.release {
			if match && v.release[i] != prefix.release[i] {
				match = false
			}
		}
		return match == (op == "=="), nil
	}
	w, err := parseVersion(want)
	if err != nil {
		return false, fmt.Errorf("clause %q: %w", clause, err)
	}
	c := v.compare(w)
	switch op {
	case "==":
		return c == 0, nil
	case "!=":
		return c != 0, nil
	case ">=":
		return c >= 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case "<":
		// PEP 440: <2.0 does not admit 2.0's own pre-releases.
		if c < 0 && w.preKind == 3 && v.preKind != 3 && v.sameRelease(w) {
			return false, nil
		}
		return c < 0, nil
	case "~=":
		if len(w.release) < 2 {
			return false, fmt.Errorf("~= needs at least two release numbers, as in ~=1.8")
		}
		if c < 0 {
			return false, nil
		}
		for i := 0; i < len(w.release)-1; i++ {
			if at(v.release, i) != w.release[i] {
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown operator in %q", clause)
}
