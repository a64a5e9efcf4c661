package gitsource

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Source says where a dbt project lives. Secrets arrive already resolved
// (from ${secret:...}); they are only ever handed to go-git as auth methods.
type Source struct {
	// Repo is the repository URL: https://, http://, ssh://, git://,
	// file:///path, scp-like git@host:org/repo.git, or a local path to a
	// repository. Empty means Path is a local folder used as it is.
	Repo string
	// Ref is a branch, tag (annotated or lightweight), fully qualified ref
	// (refs/heads/x), or full or abbreviated (4+ hex digits) commit SHA. A
	// name is tried as a branch first, then as a tag, then as a SHA. Empty
	// means the remote's HEAD (its default branch).
	Ref string
	// Path is the folder holding dbt_project.yml: inside the repository
	// ("" = its root) or, when Repo is empty, on the local disk.
	Path string
	// Token authenticates HTTPS (basic auth, user "x-access-token" unless
	// User is set). A password in Repo's userinfo is used the same way and
	// removed from the URL.
	Token string
	// User is the HTTPS basic-auth user, or the SSH login when the URL names
	// none (default "git").
	User string
	// SSHKey is a PEM private key for ssh:// and scp-like URLs. Without it the
	// ssh-agent at SSH_AUTH_SOCK is used.
	SSHKey []byte
	// SSHKeyPassphrase decrypts SSHKey when it is encrypted.
	SSHKeyPassphrase string
	// KnownHosts is known_hosts content (not a path) for SSH host key
	// checking. Empty means the user's ~/.ssh/known_hosts and
	// /etc/ssh/ssh_known_hosts (or $SSH_KNOWN_HOSTS).
	KnownHosts string
	// InsecureIgnoreHostKey skips SSH host key checking entirely. Only for
	// throwaway test servers: anyone on the network path can impersonate the
	// server and read what is fetched.
	InsecureIgnoreHostKey bool
	// Origin names where this source is declared, for error messages, e.g.
	// "dbt_projects.warehouse". Optional.
	Origin string
}

// secrets lists the values that must never appear in an error.
func (s Source) secrets() []string {
	out := []string{s.Token, s.SSHKeyPassphrase}
	if i := strings.Index(s.Repo, "://"); i >= 0 {
		if u, err := url.Parse(s.Repo); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				out = append(out, p)
			}
		} else if err != nil {
			// Unparseable: scrub whatever sits between "://" and "@".
			rest := s.Repo[i+3:]
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				if c := strings.Index(rest[:at], ":"); c >= 0 {
					out = append(out, rest[c+1:at])
				}
			}
		}
	}
	return out
}

// resolvedSource is a validated Source: a credential-free URL, the cache
// identity, the go-git auth method, and the cleaned project path.
type resolvedSource struct {
	src    Source
	url    string // credential-free URL given to go-git and shown in errors
	key    string // cache identity: scheme://host[:port]/path, no user
	scheme string // https, http, ssh, git or file
	auth   transport.AuthMethod
	path   string // slash-separated, relative, "" for the root
}

// where names a setting for messages: "`ref` in dbt_projects.warehouse".
func (rs *resolvedSource) where(field string) string {
	if rs.src.Origin == "" {
		return "the source's `" + field + "`"
	}
	return "`" + field + "` in " + rs.src.Origin
}

func (rs *resolvedSource) check(field string) string { return "check " + rs.where(field) }

func (rs *resolvedSource) authHint() string {
	switch rs.scheme {
	case "ssh":
		return rs.check("ssh_key") + " and that the server accepts this key"
	default:
		if rs.auth == nil {
			return "the repository needs credentials: set " + rs.where("token")
		}
		return rs.check("token") + " (it needs read access to the repository)"
	}
}

// displayPath is Path as messages show it: "dbt/", or "/" for the root.
func (rs *resolvedSource) displayPath() string { return rs.path + "/" }

// cacheName is the file-name stem of this repository's cache entries under
// Root: a readable slug of the key plus a hash so distinct keys never collide.
func (rs *resolvedSource) cacheName() string {
	sum := sha256.Sum256([]byte(rs.key))
	slug := rs.key
	if i := strings.Index(slug, "://"); i >= 0 {
		slug = slug[i+3:]
	}
	slug = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.TrimSuffix(slug, ".git"))
	slug = strings.Trim(slug, "._")
	if len(slug) > 48 {
		slug = slug[len(slug)-48:]
	}
	return slug + "-" + hex.EncodeToString(sum[:6])
}

func resolveSource(src Source) (*resolvedSource, error) {
	if src.Ref == "HEAD" {
		src.Ref = "" // the remote's HEAD, same as no ref
	}
	rs := &resolvedSource{src: src}
	if src.Ref != "" {
		name := plumbing.ReferenceName(src.Ref)
		if !strings.HasPrefix(src.Ref, "refs/") {
			name = plumbing.NewBranchReferenceName(src.Ref)
		}
		if name.Validate() != nil {
			return nil, fmt.Errorf("%w: ref %q is not a valid branch, tag or commit name: %s",
				ErrInvalidSource, src.Ref, rs.check("ref"))
		}
	}
	rm, err := parseRemote(src.Repo)
	if err != nil {
		return nil, fmt.Errorf("%w: repo: %v: %s", ErrInvalidSource, err, rs.check("repo"))
	}
	rs.url, rs.key, rs.scheme = rm.url, rm.key, rm.scheme
	if rs.path, err = cleanProjectPath(src.Path); err != nil {
		return nil, fmt.Errorf("%w: path %q: %v: %s", ErrInvalidSource, src.Path, err, rs.check("path"))
	}
	if rs.auth, err = rs.buildAuth(rm); err != nil {
		return nil, err
	}
	return rs, nil
}

func cleanProjectPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.Contains(p, "\\") {
		return "", errors.New("use forward slashes")
	}
	if path.IsAbs(p) {
		return "", errors.New("must be relative to the repository root")
	}
	c := path.Clean(p)
	if c == "." {
		return "", nil
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.New("must stay inside the repository")
	}
	return c, nil
}

type remote struct {
	url      string
	key      string
	scheme   string
	user     string // login named in the URL
	password string // password in an http(s) URL's userinfo
}

// scpLike matches [user@]host:path, git's short SSH syntax.
var scpLike = regexp.MustCompile(`^(?:([^@/:]+)@)?([^@/:]+):(.+)$`)

var defaultPorts = map[string]string{"https": "443", "http": "80", "ssh": "22", "git": "9418"}

func parseRemote(raw string) (remote, error) {
	if strings.ContainsAny(raw, "\x00\r\n\t") {
		return remote{}, errors.New("contains control characters")
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			// Neither the url.Error (which repeats the URL) nor an escape
			// error (which quotes part of it) may reach a message: the
			// part could be in the password.
			var ue *url.Error
			var esc url.EscapeError
			switch {
			case errors.As(err, &esc):
				return remote{}, errors.New("not a valid URL: it contains a malformed %-escape")
			case errors.As(err, &ue):
				err = ue.Err
			}
			return remote{}, fmt.Errorf("not a valid URL: %v", err)
		}
		rm := remote{scheme: strings.ToLower(u.Scheme)}
		if u.User != nil {
			rm.user = u.User.Username()
			rm.password, _ = u.User.Password()
		}
		switch rm.scheme {
		case "file":
			if u.Host != "" && u.Host != "localhost" {
				return remote{}, fmt.Errorf("file URLs cannot name a host (%s)", u.Host)
			}
			if u.Path == "" {
				return remote{}, errors.New("file URL has no path")
			}
			p := filepath.Clean(u.Path)
			rm.url, rm.key = "file://"+p, "file://"+p
			return rm, nil
		case "https", "http", "ssh", "git":
		default:
			return remote{}, fmt.Errorf("unsupported scheme %q (use https, ssh, git or file)", u.Scheme)
		}
		if u.Hostname() == "" {
			return remote{}, errors.New("URL has no host")
		}
		p := strings.TrimRight(u.Path, "/")
		if p == "" {
			return remote{}, errors.New("URL names no repository")
		}
		host := strings.ToLower(u.Hostname())
		if port := u.Port(); port != "" && port != defaultPorts[rm.scheme] {
			host += ":" + port
		}
		clean := url.URL{Scheme: rm.scheme, Host: strings.ToLower(u.Host), Path: p}
		if rm.scheme == "ssh" && rm.user != "" {
			clean.User = url.User(rm.user)
		}
		rm.url = clean.String()
		rm.key = rm.scheme + "://" + host + p
		return rm, nil
	}
	if raw == "" {
		return remote{}, errors.New("is empty")
	}
	if m := scpLike.FindStringSubmatch(raw); m != nil && !filepath.IsAbs(raw) {
		p := strings.TrimRight(m[3], "/")
		return remote{
			url:    raw,
			key:    "ssh://" + strings.ToLower(m[2]) + "/" + strings.TrimLeft(p, "/"),
			scheme: "ssh",
			user:   m[1],
		}, nil
	}
	abs, err := filepath.Abs(raw)
	if err != nil {
		return remote{}, fmt.Errorf("resolving local repository path: %w", err)
	}
	return remote{url: "file://" + abs, key: "file://" + abs, scheme: "file"}, nil
}

func (rs *resolvedSource) buildAuth(rm remote) (transport.AuthMethod, error) {
	src := rs.src
	switch rs.scheme {
	case "https", "http":
		if len(src.SSHKey) > 0 {
			return nil, fmt.Errorf("%w: an SSH key is set but %s is an %s URL: use an ssh:// or git@host:org/repo URL, or a token: %s",
				ErrInvalidSource, rs.url, rs.scheme, rs.check("repo"))
		}
		token, user := src.Token, src.User
		if token == "" {
			token = rm.password
		}
		if user == "" {
			user = rm.user
		}
		if token == "" {
			return nil, nil
		}
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: token}, nil
	case "ssh":
		if src.Token != "" {
			return nil, fmt.Errorf("%w: a token is set but %s is an SSH URL: use an https:// URL with the token, or an SSH key: %s",
				ErrInvalidSource, rs.url, rs.check("repo"))
		}
		return rs.sshAuth(rm)
	default:
		if src.Token != "" || len(src.SSHKey) > 0 {
			return nil, fmt.Errorf("%w: credentials are set but %s URLs take none: %s",
				ErrInvalidSource, rs.scheme, rs.check("repo"))
		}
		return nil, nil
	}
}

func (rs *resolvedSource) sshAuth(rm remote) (transport.AuthMethod, error) {
	src := rs.src
	user := rm.user
	if user == "" {
		user = src.User
	}
	if user == "" {
		user = "git"
	}
	var helper *gitssh.HostKeyCallbackHelper
	var auth transport.AuthMethod
	if len(src.SSHKey) > 0 {
		_, err := ssh.ParsePrivateKey(src.SSHKey)
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) && src.SSHKeyPassphrase == "" {
			return nil, fmt.Errorf("%w: the SSH key is encrypted and no passphrase was given: set %s",
				ErrInvalidSource, rs.where("ssh_key_passphrase"))
		}
		pk, err := gitssh.NewPublicKeys(user, src.SSHKey, src.SSHKeyPassphrase)
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, fmt.Errorf("%w: the SSH key passphrase is wrong: %s", ErrInvalidSource, rs.check("ssh_key_passphrase"))
			}
			// Parse errors carry no key material, but keep the text generic.
			return nil, fmt.Errorf("%w: the SSH key cannot be used (%s): it must be an unencrypted or passphrase-protected PEM/OpenSSH private key: %s",
				ErrInvalidSource, sshKeyProblem(err), rs.check("ssh_key"))
		}
		helper, auth = &pk.HostKeyCallbackHelper, pk
	} else {
		ag, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, fmt.Errorf("%w: no SSH key given and no ssh-agent reachable (%v): set %s",
				ErrInvalidSource, err, rs.where("ssh_key"))
		}
		helper, auth = &ag.HostKeyCallbackHelper, ag
	}
	if src.InsecureIgnoreHostKey {
		helper.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // explicit opt-in, documented on Source
		return auth, nil
	}
	files := []string(nil)
	if src.KnownHosts != "" {
		f, err := os.CreateTemp("", "sluice-known-hosts-")
		if err != nil {
			return nil, fmt.Errorf("writing known_hosts for %s: %w", rs.url, err)
		}
		defer os.Remove(f.Name())
		_, werr := f.WriteString(src.KnownHosts)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("writing known_hosts for %s: %w", rs.url, werr)
		}
		files = []string{f.Name()}
	}
	db, err := gitssh.NewKnownHostsDb(files...)
	if err != nil {
		if src.KnownHosts != "" {
			return nil, fmt.Errorf("%w: known_hosts cannot be parsed (%v): %s", ErrInvalidSource, err, rs.check("known_hosts"))
		}
		return nil, fmt.Errorf("%w: no known_hosts file to verify the SSH server (%v): set %s",
			ErrInvalidSource, err, rs.where("known_hosts"))
	}
	helper.HostKeyCallback = db.HostKeyCallback()
	helper.HostKeyAlgorithms = db.HostKeyAlgorithms(sshHostPort(rm.url))
	return auth, nil
}

// sshHostPort returns host:port of an SSH URL, as known_hosts lookups need.
func sshHostPort(raw string) string {
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return ""
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	return fmt.Sprintf("%s:%d", ep.Host, port)
}

func sshKeyProblem(err error) string {
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return msg
}
