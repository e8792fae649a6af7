package pki

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"berth/sqlite"
)

func load(t *testing.T) *Authority {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a, err := Load(t.Context(), store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func parsePEM(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("not PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The authority's certificate carries a critical name constraints
// extension (RFC 5280, section 4.2.1.10) permitting only the names berth
// issues for, so a client that trusts it system-wide trusts no
// certificate it signs for any other name.
func TestAuthorityNameConstrained(t *testing.T) {
	a := load(t)
	ca := parsePEM(t, a.PEM())
	if !a.Constrained() || !ca.PermittedDNSDomainsCritical || !slices.Equal(ca.PermittedDNSDomains, PermittedDNSDomains) || len(ca.PermittedIPRanges) != len(PermittedIPRanges) {
		t.Fatalf("CA constraints: critical %v, DNS %v, IP %v", ca.PermittedDNSDomainsCritical, ca.PermittedDNSDomains, ca.PermittedIPRanges)
	}
	var constraintsCritical bool
	for _, e := range ca.Extensions {
		if e.Id.Equal([]int{2, 5, 29, 30}) { // id-ce-nameConstraints
			constraintsCritical = e.Critical
		}
	}
	if !constraintsCritical {
		t.Fatal("the name constraints extension is not critical")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for name, ok := range map[string]bool{
		"demo-1234567890.us-east-1.elb.amazonaws.com": true,
		"app.localhost":     true,
		"a.example.test":    true,
		"api.internal":      true,
		"www.example.com":   true,
		"127.10.0.1":        true,
		"www.google.com":    false,
		"amazonaws.com":     false,
		"s3.amazonaws.com":  false,
		"evil-test.com":     false,
		"8.8.8.8":           false,
		"examplecom.attack": false,
	} {
		certPEM, _, _, err := a.Issue([]string{name}, "EC_prime256v1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		opts := x509.VerifyOptions{Roots: roots, DNSName: name}
		if ip := net.ParseIP(name); ip != nil {
			opts.DNSName = ip.String()
		}
		_, err = parsePEM(t, certPEM).Verify(opts)
		var invalid x509.CertificateInvalidError
		switch {
		case ok && err != nil:
			t.Errorf("a certificate for %s does not verify: %v", name, err)
		case !ok && (!errors.As(err, &invalid) || invalid.Reason != x509.CANotAuthorizedForThisName):
			t.Errorf("a certificate for %s: %v, want CANotAuthorizedForThisName", name, err)
		}
	}
}

// TestIssueServer: a server-only certificate is no client certificate of
// the authority (RFC 5280 4.2.1.12: a certificate's extended key usage
// limits what it is used for, and Go's verifier enforces it).
func TestIssueServer(t *testing.T) {
	a := load(t)
	cert, _, err := a.IssueServer([]string{"10.213.1.2"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := parsePEM(t, cert)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(a.PEM())
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: "10.213.1.2"}); err != nil {
		t.Errorf("as a server: %v", err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Errorf("verifies as a client certificate")
	}
}

// TestPermits: the names the authority's constraints allow, as a client
// enforcing them (RFC 5280 4.2.1.10) decides.
func TestPermits(t *testing.T) {
	for name, want := range map[string]bool{
		"10.213.1.2": true, "192.168.0.7": true, "fd00::2": true, "host.internal": true, "a.b.example.com": true,
		"203.0.113.5": false, "docker.corp": false, "notexample.com": false, "2001:db8::1": false,
	} {
		if got := Permits(name); got != want {
			t.Errorf("Permits(%q) = %v, want %v", name, got, want)
		}
	}
	// The verdict agrees with a verifier's.
	a := load(t)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(a.PEM())
	for _, name := range []string{"10.213.1.2", "203.0.113.5", "docker.corp", "h.internal"} {
		cert, _, _, err := a.Issue([]string{name}, "EC_prime256v1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, err = parsePEM(t, cert).Verify(x509.VerifyOptions{Roots: roots, DNSName: name})
		if (err == nil) != Permits(name) {
			t.Errorf("%s: Permits says %v, the verifier: %v", name, Permits(name), err)
		}
	}
}
