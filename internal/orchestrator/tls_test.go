package orchestrator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSMTPTLSConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	t.Run("NoFile", func(t *testing.T) {
		t.Parallel()
		cfg, err := Config{}.smtpTLSConfig()
		require.NoError(t, err)
		require.Nil(t, cfg, "system roots")
	})
	t.Run("TrustsTheCA", func(t *testing.T) {
		t.Parallel()
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "relay CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		require.NoError(t, err)
		path := filepath.Join(dir, "ca.pem")
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
		cfg, err := Config{SMTPCAFile: path}.smtpTLSConfig()
		require.NoError(t, err)
		leaf, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		_, err = leaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs})
		require.NoError(t, err, "the CA is trusted")
	})
	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		_, err := Config{SMTPCAFile: filepath.Join(dir, "nope.pem")}.smtpTLSConfig()
		require.EqualError(t, err, "SMTP CA file: open "+filepath.Join(dir, "nope.pem")+
			": no such file or directory (SLUICE_SMTP_CA_FILE names a PEM file of CA certificates)")
	})
	t.Run("NotPEM", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "junk.pem")
		require.NoError(t, os.WriteFile(path, []byte("not a certificate"), 0o600))
		_, err := Config{SMTPCAFile: path}.smtpTLSConfig()
		require.EqualError(t, err, "SMTP CA file "+path+": no PEM certificate in it (SLUICE_SMTP_CA_FILE names a PEM file of CA certificates)")
	})
}
