package gitsource

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer is a minimal git SSH server: it accepts one client key and runs
// the real git-upload-pack for exec requests on paths under root.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func newKey(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return signer, priv
}

func startSSHServer(t *testing.T, root string, authorized ssh.PublicKey) *sshServer {
	t.Helper()
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Skip("git-upload-pack not found in PATH: the SSH test server runs it")
	}
	hostSigner, _ := newKey(t)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorised")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSHConn(conn, cfg, root)
		}
	}()
	return &sshServer{addr: ln.Addr().String(), hostKey: hostSigner.PublicKey()}
}

func serveSSHConn(conn net.Conn, cfg *ssh.ServerConfig, root string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go serveSSHSession(ch, chReqs, root)
	}
}

func serveSSHSession(ch ssh.Channel, reqs <-chan *ssh.Request, root string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
			continue
		}
		if len(req.Payload) < 4 {
			_ = req.Reply(false, nil)
			return
		}
		command := string(req.Payload[4 : 4+binary.BigEndian.Uint32(req.Payload)])
		service, arg, _ := strings.Cut(command, " ")
		repo := strings.Trim(arg, "'")
		if service != "git-upload-pack" || !strings.HasPrefix(filepath.Clean(repo), root+string(filepath.Separator)) {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command("git-upload-pack", repo)
		cmd.Env = gitEnv()
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return
		}
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		if err := cmd.Start(); err != nil {
			return
		}
		go func() { _, _ = io.Copy(stdin, ch); _ = stdin.Close() }()
		status := uint32(0)
		if err := cmd.Wait(); err != nil {
			status = 1
		}
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

func pemKey(t *testing.T, priv ed25519.PrivateKey, passphrase string) []byte {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "sluice test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "sluice test", []byte(passphrase))
	}
	require.NoError(t, err)
	return pem.EncodeToMemory(block)
}

func TestSSHKeyAuth(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	clientSigner, clientPriv := newKey(t)
	srv := startSSHServer(t, filepath.Dir(fx.bare), clientSigner.PublicKey())
	repoURL := "ssh://git@" + srv.addr + fx.bare
	knownHosts := knownhosts.Line([]string{srv.addr}, srv.hostKey) + "\n"
	key := pemKey(t, clientPriv, "")
	const passphrase = "correct horse battery staple"
	encKey := pemKey(t, clientPriv, passphrase)
	otherHost, _ := newKey(t)
	_, strangerPriv := newKey(t)
	c := newCache(t)

	t.Run("Checkouts", func(t *testing.T) {
		t.Run("KeyAndKnownHosts", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Ref: "feature", Path: "dbt", SSHKey: key, KnownHosts: knownHosts})
			require.Equal(t, fx.c3, co.Commit)
			require.Equal(t, "select 3 as v\n", readFile(t, filepath.Join(co.Dir, "models", "feature.sql")))
		})
		t.Run("EncryptedKey", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Path: "dbt", SSHKey: encKey, SSHKeyPassphrase: passphrase, KnownHosts: knownHosts})
			require.Equal(t, fx.c2, co.Commit)
			require.Equal(t, "refs/heads/main", co.Ref)
		})
		t.Run("InsecureIgnoreHostKey", func(t *testing.T) {
			t.Parallel()
			co := checkout(t, c, Source{Repo: repoURL, Ref: "v1.0", Path: "dbt", SSHKey: key, InsecureIgnoreHostKey: true})
			require.Equal(t, fx.c1, co.Commit)
		})
		t.Run("HostKeyMismatch", func(t *testing.T) {
			t.Parallel()
			wrong := knownhosts.Line([]string{srv.addr}, otherHost.PublicKey()) + "\n"
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, Ref: "main", SSHKey: key, KnownHosts: wrong, Origin: "dbt_projects.warehouse"})
			require.ErrorIs(t, err, ErrHostKey)
			require.True(t, IsPermanent(err))
			require.Equal(t, "checking out "+repoURL+" at main: fetching: ssh host key verification failed: "+
				"the server's key does not match known_hosts (possible man-in-the-middle): check `known_hosts` in dbt_projects.warehouse",
				err.Error())
		})
		t.Run("UnknownHost", func(t *testing.T) {
			t.Parallel()
			other := knownhosts.Line([]string{"example.com"}, otherHost.PublicKey()) + "\n"
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, Ref: "main", SSHKey: key, KnownHosts: other})
			require.ErrorIs(t, err, ErrHostKey)
			require.Contains(t, err.Error(), "the server's key is not in known_hosts")
		})
		t.Run("KeyNotAuthorised", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, Ref: "main", SSHKey: pemKey(t, strangerPriv, ""), KnownHosts: knownHosts})
			require.ErrorIs(t, err, ErrAuth)
			require.True(t, IsPermanent(err))
			require.Contains(t, err.Error(), "unable to authenticate")
			require.True(t, strings.HasSuffix(err.Error(), ": check the source's `ssh_key` and that the server accepts this key"), err.Error())
		})
		t.Run("WrongPassphrase", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, SSHKey: encKey, SSHKeyPassphrase: "wrong horse", KnownHosts: knownHosts})
			require.ErrorIs(t, err, ErrInvalidSource)
			require.Equal(t, "invalid git source: the SSH key passphrase is wrong: check the source's `ssh_key_passphrase`", err.Error())
		})
		t.Run("MissingPassphrase", func(t *testing.T) {
			t.Parallel()
			_, err := c.Checkout(context.Background(), Source{Repo: repoURL, SSHKey: encKey, KnownHosts: knownHosts})
			require.ErrorIs(t, err, ErrInvalidSource)
			require.Equal(t, "invalid git source: the SSH key is encrypted and no passphrase was given: "+
				"set the source's `ssh_key_passphrase`", err.Error())
		})
	})

	// The key never reaches the cache.
	requireNoSecretUnder(t, c.Root, string(key), string(encKey), passphrase)
}
