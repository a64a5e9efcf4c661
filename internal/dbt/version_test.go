package dbt

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseVersionOutput(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, out, want string }{
		{"Core15Plus", "Core:\n  - installed: 1.8.2\n  - latest:    1.9.1 - Update available!\n\n  Your version of dbt-core is out of date!\n\nPlugins:\n  - postgres: 1.8.2 - Update available!\n", "1.8.2"},
		{"PreRelease", "Core:\n  - installed: 1.9.0b2\n  - latest:    1.8.2 - Ahead of latest version!\n", "1.9.0b2"},
		{"Legacy", "installed version: 1.4.5\n   latest version: 1.4.5\n\nUp to date!\n\nPlugins:\n  - postgres: 1.4.5 - Up to date!\n", "1.4.5"},
	}
	for _, tt := range tests {
		got, err := ParseVersionOutput(tt.out)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}
	_, err := ParseVersionOutput("Traceback (most recent call last):\n  ModuleNotFoundError: No module named 'dbt'")
	require.ErrorContains(t, err, "no installed version in `dbt --version` output")
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version, constraint string
		ok                  bool
	}{
		{"1.8.2", ">=1.7,<2.0", true},
		{"1.7.0", ">=1.7,<2.0", true},
		{"1.6.18", ">=1.7,<2.0", false},
		{"2.0.0", ">=1.7,<2.0", false},
		{"2.0.0rc1", ">=1.7,<2.0", false}, // PEP 440: <2.0 excludes 2.0 pre-releases
		{"1.9.0b2", ">=1.9.0", false},
		{"1.9.0", ">=1.9.0b2", true},
		{"1.9.0rc1", ">1.9.0b4", true},
		{"1.8.2", "1.8.2", true},
		{"1.8.2", "==1.8", false},
		{"1.8.0", "==1.8", true},
		{"1.8.7", "==1.8.*", true},
		{"1.9.0", "==1.8.*", false},
		{"1.9.0", "!=1.8.*", true},
		{"1.8.3", "~=1.8", true},
		{"1.9.3", "~=1.8", true},
		{"2.0.0", "~=1.8", false},
		{"1.8.3", "~=1.8.2", true},
		{"1.9.0", "~=1.8.2", false},
		{"1.10.0", ">1.9", true}, // numeric, not lexical
		{"1.5.0", "<=1.5", true},
		{"1.5.1", "!=1.5.1", false},
		{"1.8.2", " >= 1.7 , ", true},
	}
	for _, tt := range tests {
		err := CheckVersion(tt.version, tt.constraint)
		if tt.ok {
			require.NoError(t, err, "%s %s", tt.version, tt.constraint)
		} else {
			require.Error(t, err, "%s %s", tt.version, tt.constraint)
			require.Contains(t, err.Error(), "does not satisfy")
		}
	}
	require.ErrorContains(t, CheckVersion("1.8.2", ">=banana"), `version constraint ">=banana"`)
	require.ErrorContains(t, CheckVersion("1.8.2", "~=1"), "~= needs at least two release numbers")
	require.ErrorContains(t, CheckVersion("1.8.2", ">=1.*"), "only works with == and !=")
	require.ErrorContains(t, CheckVersion("unknown", ">=1"), `dbt version "unknown"`)
}
