package orchestrator

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// smtpTLSConfig is the TLS configuration of email channels: the system
// roots plus the certificates in SMTPCAFile (a private mail relay's CA), or
// nil (the system roots alone) when no file is set.
func (c Config) smtpTLSConfig() (*tls.Config, error) {
	if c.SMTPCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.SMTPCAFile)
	if err != nil {
		return nil, fmt.Errorf("SMTP CA file: %w (SLUICE_SMTP_CA_FILE names a PEM file of CA certificates)", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SMTP CA file %s: no PEM certificate in it (SLUICE_SMTP_CA_FILE names a PEM file of CA certificates)", c.SMTPCAFile)
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}
