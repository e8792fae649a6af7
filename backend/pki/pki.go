// Package pki is berth's local certificate authority. It signs the
// certificates that berth issues itself: those ACM RequestCertificate
// returns, and the one an HTTPS or TLS listener serves when it has no
// usable certificate. Trusting the authority once (its PEM is served at
// /_berth/ca.pem and printed by `berth ca`) makes every such certificate
// trusted. The authority is drawn once per data directory and kept in the
// store, so that it survives a restart.
package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"

	"berth/sqlite"
)

// Authority signs certificates.
type Authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// Kind holds the authority in the store: berth's own, kept by a reset, so
// that a trusted authority stays trusted.
const Kind = "berth/ca"

// stored is the authority as the store keeps it.
type stored struct {
	Cert, Key []byte // PEM
}

// Load returns the authority of store, creating it on first use.
func Load(ctx context.Context, store *sqlite.Store, now time.Time) (*Authority, error) {
	return loadAs(ctx, store, "self", now)
}

// LoadEngines returns the authority of the fleet's Docker Engines,
// creating it on first use: a second one, apart from Load's, so that no
// certificate berth issues to its API's users (ACM's) opens an engine.
func LoadEngines(ctx context.Context, store *sqlite.Store, now time.Time) (*Authority, error) {
	return loadAs(ctx, store, "engines", now)
}

func loadAs(ctx context.Context, store *sqlite.Store, id string, now time.Time) (*Authority, error) {
	key := sqlite.Key{Kind: Kind, ID: id}
	var s stored
	err := store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(key, &s)
		if !errors.Is(err, sqlite.ErrNotFound) {
			return err
		}
		if s, err = create(now); err != nil {
			return err
		}
		return tx.Put(sqlite.Row{Key: key}, s)
	})
	if err != nil {
		return nil, err
	}
	return parse(s)
}

// PermittedDNSDomains are the only DNS names the authority may sign for
// (each with its subdomains), written into its certificate as an RFC 5280
// name constraint (section 4.2.1.10) that clients enforce: trusting the
// authority system-wide trusts it for these names and no others. They are
// the names berth issues for: load balancers' DNS names (under
// elb.amazonaws.com), and for ACM certificates the names reserved for
// testing, documentation and local use (RFC 2606, RFC 6761, RFC 6762
// .local, RFC 8375 home.arpa, ICANN's .internal). A certificate berth's ACM
// issues for any other name is signed all the same, but clients refuse it:
// import a certificate for such names instead.
var PermittedDNSDomains = []string{
	"elb.amazonaws.com",
	"localhost", "test", "example", "invalid", "local", "internal", "home.arpa",
	"example.com", "example.net", "example.org",
}

// PermittedIPRanges are the only addresses the authority may sign for:
// loopback and private networks, where berth's load balancers listen.
var PermittedIPRanges = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"}

// Permits reports whether the authority may sign for name, a DNS name or
// an IP address: clients refuse its certificates for any other.
func Permits(name string) bool {
	if ip := net.ParseIP(name); ip != nil {
		for _, r := range PermittedIPRanges {
			if _, n, err := net.ParseCIDR(r); err == nil && n.Contains(ip) {
				return true
			}
		}
		return false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, d := range PermittedDNSDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// create makes a new authority valid for ten years, constrained to the
// permitted names.
func create(now time.Time) (stored, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return stored{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"berth"}, CommonName: "berth local CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// Critical, as RFC 5280 requires of name constraints: a client
		// that cannot enforce them must refuse the authority.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         PermittedDNSDomains,
		// Servers and their clients only: no e-mail or code signing.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, r := range PermittedIPRanges {
		_, n, err := net.ParseCIDR(r)
		if err != nil {
			return stored{}, err
		}
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, n)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return stored{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return stored{}, err
	}
	return stored{Cert: encode("CERTIFICATE", der), Key: encode("PRIVATE KEY", keyDER)}, nil
}

func parse(s stored) (*Authority, error) {
	cb, _ := pem.Decode(s.Cert)
	kb, _ := pem.Decode(s.Key)
	if cb == nil || kb == nil {
		return nil, errors.New("pki: the stored authority is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("pki: the stored key cannot sign")
	}
	return &Authority{cert: cert, key: signer, pem: s.Cert}, nil
}

// Constrained reports whether the authority's certificate limits the names
// it may sign for; one that an older berth drew does not, and is better
// replaced (remove the data directory, or trust it nowhere but in tests).
func (a *Authority) Constrained() bool {
	return a.cert.PermittedDNSDomainsCritical && len(a.cert.PermittedDNSDomains) > 0
}

// PEM returns the authority's certificate, the one clients trust.
func (a *Authority) PEM() []byte { return a.pem }

// Issue signs a new server certificate for names (DNS names or IP
// addresses; the first is the subject's common name), valid for 395 days
// as ACM's are, with a key of algorithm (ACM's names: RSA_2048,
// EC_prime256v1, ...). It returns the certificate, its chain (the
// authority) and the private key, in PEM.
func (a *Authority) Issue(names []string, algorithm string, now time.Time) (cert, chain, key []byte, err error) {
	return a.issue(names, algorithm, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, now)
}

// IssueServer signs a new certificate for names that serves TLS and
// nothing else (a P-256 key, valid for 395 days): a fleet engine's, so
// that the key handed to one host's dockerd is no client certificate that
// another host's engine accepts (dockerd --tlsverify takes any of the
// authority's whose extended key usage allows client authentication, RFC
// 5280 section 4.2.1.12). It returns the certificate and the private key.
func (a *Authority) IssueServer(names []string, now time.Time) (cert, key []byte, err error) {
	cert, _, key, err = a.issue(names, "EC_prime256v1", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, now)
	return cert, key, err
}

func (a *Authority) issue(names []string, algorithm string, usages []x509.ExtKeyUsage, now time.Time) (cert, chain, key []byte, err error) {
	if len(names) == 0 {
		return nil, nil, nil, errors.New("pki: a certificate needs a name")
	}
	pk, err := generate(algorithm)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 395),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usages,
	}
	if _, ok := pk.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, pk.Public(), a.key)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return nil, nil, nil, err
	}
	return encode("CERTIFICATE", der), a.pem, encode("PRIVATE KEY", keyDER), nil
}

// IssueClient signs a new client certificate for name (its common name,
// with no subject alternative name), valid for 395 days, with a P-256
// key. It returns the certificate and the private key, in PEM.
func (a *Authority) IssueClient(name string, now time.Time) (cert, key []byte, err error) {
	pk, err := generate("EC_prime256v1")
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 395),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, pk.Public(), a.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return nil, nil, err
	}
	return encode("CERTIFICATE", der), encode("PRIVATE KEY", keyDER), nil
}

// generate makes a private key of an ACM key algorithm.
func generate(algorithm string) (crypto.Signer, error) {
	switch algorithm {
	case "RSA_2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "RSA_3072":
		return rsa.GenerateKey(rand.Reader, 3072)
	case "RSA_4096":
		return rsa.GenerateKey(rand.Reader, 4096)
	case "EC_prime256v1":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EC_secp384r1":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EC_secp521r1":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	}
	return nil, fmt.Errorf("pki: unknown key algorithm %q", algorithm)
}

// Algorithm returns the ACM name of a certificate's key algorithm.
func Algorithm(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA_%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1"
		case elliptic.P384():
			return "EC_secp384r1"
		case elliptic.P521():
			return "EC_secp521r1"
		}
	}
	return "UNKNOWN"
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func encode(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
