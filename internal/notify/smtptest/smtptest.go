// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) in
// a test process on 127.0.0.1: STARTTLS or implicit TLS with a certificate
// made for the test, AUTH PLAIN, and injectable replies. Tests of the email
// channel and integration tests of run notifications use it.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts unless Options say otherwise.
const (
	DefaultUser     = "sluice"
	DefaultPassword = "p@ss:w/rd" // needs URL escaping in smtp://user:pass@host
)

// Options shape the server.
type Options struct {
	STARTTLS    bool   // offer STARTTLS with the test certificate
	ImplicitTLS bool   // serve TLS from the first byte (smtps)
	RequireAuth bool   // refuse MAIL FROM before AUTH
	User        string // AUTH PLAIN user (default DefaultUser)
	Password    string // AUTH PLAIN password (default DefaultPassword)
	RcptErr     error  // answer RCPT TO with this error
	DataErr     error  // answer DATA with this error
}

// Mail is one message the server accepted.
type Mail struct {
	User string // authenticated user, "" without AUTH
	TLS  bool   // the transaction ran over TLS
	From string
	To   []string
	Data []byte
}

// Server is a running test SMTP server.
type Server struct {
	Addr  string         // host:port
	Roots *x509.CertPool // trusts the server's certificate
	CAPEM []byte         // the same certificate, PEM encoded

	opts  Options
	conns atomic.Int32
	mu    sync.Mutex
	mails []Mail
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	cert, der, err := selfSigned()
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s := &Server{Roots: x509.NewCertPool(), CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), opts: opts}
	s.Roots.AddCert(cert.Leaf)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	if opts.STARTTLS {
		srv.TLSConfig = tlsConfig
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	var ln net.Listener = countingListener{Listener: l, n: &s.conns}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.Addr = l.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Received returns the messages accepted so far.
func (s *Server) Received() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Conns is the number of connections accepted so far.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// User and Password are the AUTH PLAIN credentials the server accepts.
func (s *Server) User() string     { return s.opts.User }
func (s *Server) Password() string { return s.opts.Password }

// URL returns the server's SMTP URL with the given scheme (smtp, smtps),
// the server's credentials when withAuth, and query.
func (s *Server) URL(scheme string, withAuth bool, query string) string {
	u := url.URL{Scheme: scheme, Host: s.Addr, RawQuery: query}
	if withAuth {
		u.User = url.UserPassword(s.opts.User, s.opts.Password)
	}
	return u.String()
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	cur  Mail
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.opts.User || pass != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.cur.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.RequireAuth && s.cur.User == "" {
		return smtp.ErrAuthRequired
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.opts.RcptErr != nil {
		return s.srv.opts.RcptErr
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.srv.opts.DataErr != nil {
		return s.srv.opts.DataErr
	}
	s.cur.Data = data
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = Mail{User: s.cur.User} }
func (s *session) Logout() error { return nil }

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sluice test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(2 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, der, nil
}
