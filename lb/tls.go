package lb

import (
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"strings"
)

// tlsConfig is the TLS set-up of an HTTPS or TLS listener: the
// certificate comes from the listener's current routes, so a changed
// certificate list applies to the next handshake.
func (l *listener) tlsConfig(protocols ...string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: protocols,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return selectCertificate(l.routes.Load().listener.Certificates, hello)
		},
	}
}

var errNoCertificate = errors.New("the listener has no certificate")

// selectCertificate chooses by SNI as ALB and NLB do: among the
// certificates that match the client's server name and that it supports,
// an ECDSA one before an RSA one; the default certificate (the first)
// when none matches or the client sent no name.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/https-listener-certificates.html
func selectCertificate(certs []tls.Certificate, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(certs) == 0 {
		return nil, errNoCertificate
	}
	name := strings.TrimSuffix(hello.ServerName, ".")
	var best *tls.Certificate
	if name != "" {
		for i := range certs {
			c := &certs[i]
			if c.Leaf == nil || c.Leaf.VerifyHostname(name) != nil || hello.SupportsCertificate(c) != nil {
				continue
			}
			if best == nil || isECDSA(c) && !isECDSA(best) {
				best = c
			}
		}
	}
	if best == nil {
		best = &certs[0]
	}
	return best, nil
}

func isECDSA(c *tls.Certificate) bool {
	_, ok := c.PrivateKey.(*ecdsa.PrivateKey)
	return ok
}

// OpenSSL's names of the cipher suites ALB negotiates, as the
// x-amzn-tls-cipher-suite header carries them (TLS 1.3 suites keep their
// IANA names).
var opensslCiphers = map[uint16]string{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
}

// tlsHeaders are the values of x-amzn-tls-version and
// x-amzn-tls-cipher-suite for a connection.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes
func tlsHeaders(cs *tls.ConnectionState) (version, cipher string) {
	switch cs.Version {
	case tls.VersionTLS13:
		version = "TLSv1.3"
	case tls.VersionTLS12:
		version = "TLSv1.2"
	default:
		version = "TLSv1"
	}
	cipher, ok := opensslCiphers[cs.CipherSuite]
	if !ok {
		cipher = tls.CipherSuiteName(cs.CipherSuite)
	}
	return version, cipher
}
