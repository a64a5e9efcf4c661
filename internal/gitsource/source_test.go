package gitsource

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/stretchr/testify/require"
)

func TestParseRemote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want remote
	}{
		{"https://github.com/acme/data.git", remote{
			url: "https://github.com/acme/data.git", key: "https://github.com/acme/data.git", scheme: "https"}},
		{"https://x-access-token:s3cret@GitHub.com:443/acme/data.git/", remote{
			url: "https://github.com:443/acme/data.git", key: "https://github.com/acme/data.git", scheme: "https",
			user: "x-access-token", password: "s3cret"}},
		{"http://git.internal:8080/acme/data.git", remote{
			url: "http://git.internal:8080/acme/data.git", key: "http://git.internal:8080/acme/data.git", scheme: "http"}},
		{"git@github.com:acme/data.git", remote{
			url: "git@github.com:acme/data.git", key: "ssh://github.com/acme/data.git", scheme: "ssh", user: "git"}},
		{"ssh://git@GitHub.com/acme/data.git", remote{
			url: "ssh://git@github.com/acme/data.git", key: "ssh://github.com/acme/data.git", scheme: "ssh", user: "git"}},
		{"ssh://deploy@host:2222/srv/data.git", remote{
			url: "ssh://deploy@host:2222/srv/data.git", key: "ssh://host:2222/srv/data.git", scheme: "ssh", user: "deploy"}},
		{"file:///srv/repos/data.git", remote{
			url: "file:///srv/repos/data.git", key: "file:///srv/repos/data.git", scheme: "file"}},
		{"/srv/repos/../repos/data.git", remote{
			url: "file:///srv/repos/data.git", key: "file:///srv/repos/data.git", scheme: "file"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := parseRemote(tt.raw)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	bad := map[string]string{
		"ftp://example.com/data.git":       `unsupported scheme "ftp" (use https, ssh, git or file)`,
		"https://github.com":               "URL names no repository",
		"https:///acme/data.git":           "URL has no host",
		"https://github.com/acme/da\nta":   "contains control characters",
		"https://github.com:99999x/acme":   `not a valid URL: invalid port ":99999x" after host`,
		"https://user:p%zzss@github.com/x": "not a valid URL: it contains a malformed %-escape",
		"file://server/share/data.git":     "file URLs cannot name a host (server)",
	}
	for raw, msg := range bad {
		t.Run("Invalid/"+raw, func(t *testing.T) {
			t.Parallel()
			_, err := parseRemote(raw)
			require.EqualError(t, err, msg)
		})
	}
}

func TestCacheNameIgnoresCredentials(t *testing.T) {
	t.Parallel()
	name := func(repo, token string) string {
		rs, err := resolveSource(Source{Repo: repo, Token: token})
		require.NoError(t, err)
		return rs.cacheName()
	}
	plain := name("https://github.com/acme/data.git", "")
	require.Regexp(t, `^github\.com_acme_data-[0-9a-f]{12}$`, plain)
	require.Equal(t, plain, name("https://github.com/acme/data.git", "tok1"))
	require.Equal(t, plain, name("https://x-access-token:tok2@GITHUB.com:443/acme/data.git/", ""))
	require.NotEqual(t, plain, name("https://github.com/acme/data2.git", ""))
	require.NotEqual(t, plain, name("https://gitlab.com/acme/data.git", ""))
}

func TestHTTPAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  Source
		want transport.AuthMethod
	}{
		{"TokenDefaultsUser", Source{Repo: "https://h/r.git", Token: "t1"}, &githttp.BasicAuth{Username: "x-access-token", Password: "t1"}},
		{"UserSet", Source{Repo: "https://h/r.git", Token: "t1", User: "oauth2"}, &githttp.BasicAuth{Username: "oauth2", Password: "t1"}},
		{"PasswordInURL", Source{Repo: "https://bob:t2@h/r.git"}, &githttp.BasicAuth{Username: "bob", Password: "t2"}},
		{"TokenBeatsURL", Source{Repo: "https://bob:t2@h/r.git", Token: "t1"}, &githttp.BasicAuth{Username: "bob", Password: "t1"}},
		{"Anonymous", Source{Repo: "https://h/r.git"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := resolveSource(tt.src)
			require.NoError(t, err)
			require.Equal(t, tt.want, rs.auth)
			require.Equal(t, "https://h/r.git", rs.url)
		})
	}
}

func TestScrubRemovesSecretsEverywhere(t *testing.T) {
	t.Parallel()
	const token = "ghp_a+b/c=d"
	basic := base64.StdEncoding.EncodeToString([]byte(token))
	inner := fmt.Errorf("GET https://x:%s@h/r.git (header %s, query tok=ghp_a%%2Bb%%2Fc%%3Dd): %w",
		token, basic, transport.ErrAuthenticationRequired)
	err := scrub(fmt.Errorf("fetching: %w: %w", ErrAuth, inner), []string{token, ""})

	require.Equal(t, "fetching: authentication failed: GET https://x:***@h/r.git (header ***, query tok=***): authentication required",
		err.Error())
	require.ErrorIs(t, err, ErrAuth)
	require.True(t, IsPermanent(err))
	// Nothing reachable by unwrapping carries the original text.
	var walk func(error)
	walk = func(e error) {
		require.NotContains(t, e.Error(), "a+b")
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				walk(c)
			}
		}
	}
	walk(err)
	require.False(t, errors.Is(err, transport.ErrAuthenticationRequired), "go-git's errors are not exposed")
	require.Nil(t, scrub(nil, []string{token}))
}

func TestCleanProjectPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", ".": "", "./": "", "dbt": "dbt", "dbt/": "dbt", "./a//b/": "a/b", "a/../b": "b"} {
		got, err := cleanProjectPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for in, msg := range map[string]string{
		"/abs":    "must be relative to the repository root",
		"..":      "must stay inside the repository",
		"a/../..": "must stay inside the repository",
		`a\b`:     "use forward slashes",
	} {
		_, err := cleanProjectPath(in)
		require.EqualError(t, err, msg, in)
	}
}
