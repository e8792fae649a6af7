package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmapi "github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// selfSigned makes a certificate and key for name, in PEM.
func selfSigned(t *testing.T, name string) (cert, key []byte) {
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pk.Public(), pk)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(pk)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// httpsGet fetches url over TLS with SNI serverName, trusting only roots,
// and returns the answer and the certificate the listener served.
func httpsGet(url, serverName string, roots *x509.CertPool) (*http.Response, string, *x509.Certificate, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: serverName, RootCAs: roots}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return nil, "", nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body), resp.TLS.PeerCertificates[0], nil
}

// TestHTTPSWithSNI: an HTTPS listener serves the certificate SNI names
// among its ACM certificates (one requested from berth, one imported),
// the default otherwise, over HTTP/2, and tells the target the TLS
// version and cipher when asked to.
func TestHTTPSWithSNI(t *testing.T) {
	ctx, c := setup(t)
	app := newApp(t, "secure")
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tls"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	tg := ipGroup(t, ctx, c, "secure", app)
	requested := try(c.acm.RequestCertificate(ctx, &acmapi.RequestCertificateInput{DomainName: aws.String("a.example.test"),
		KeyAlgorithm: acmtypes.KeyAlgorithmEcPrime256v1})).must(t).CertificateArn
	bCert, bKey := selfSigned(t, "b.example.test")
	imported := try(c.acm.ImportCertificate(ctx, &acmapi.ImportCertificateInput{Certificate: bCert, PrivateKey: bKey})).must(t).CertificateArn
	if d := try(c.acm.DescribeCertificate(ctx, &acmapi.DescribeCertificateInput{CertificateArn: imported})).must(t).Certificate; aws.ToString(d.DomainName) != "b.example.test" || d.Type != acmtypes.CertificateTypeImported {
		t.Errorf("imported certificate described as %s %s", aws.ToString(d.DomainName), d.Type)
	}
	l := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{{CertificateArn: requested}}, DefaultActions: []types.Action{forwardTo(tg)}})).must(t).Listeners[0]
	try(c.elbv2.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: l.ListenerArn,
		Certificates: []types.Certificate{{CertificateArn: imported}}})).must(t)
	try(c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("routing.http.x_amzn_tls_version_and_cipher_suite.enabled"), Value: aws.String("true")}}})).must(t)
	base := "https://" + net.JoinHostPort(hostAddress(t, shared, *lb.DNSName), "443")

	ca := x509.NewCertPool()
	ca.AppendCertsFromPEM([]byte(get(t, shared.url+"/_berth/ca.pem")))
	imports := x509.NewCertPool()
	imports.AppendCertsFromPEM(bCert)

	eventually(t, "the HTTPS listener", func() bool {
		_, body, _, err := httpsGet(base+"/", "a.example.test", ca)
		return err == nil && body == "secure"
	})
	resp, _, served, err := httpsGet(base+"/header?name=X-Amzn-Tls-Version", "a.example.test", ca)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("the listener spoke %s, want HTTP/2", resp.Proto)
	}
	if served.Subject.CommonName != "a.example.test" {
		t.Errorf("SNI a.example.test served %s", served.Subject.CommonName)
	}
	_, version, _, err := httpsGet(base+"/header?name=X-Amzn-Tls-Version", "b.example.test", imports)
	if err != nil {
		t.Fatalf("SNI b.example.test: %v", err)
	}
	if version != "TLSv1.3" {
		t.Errorf("X-Amzn-Tls-Version %q", version)
	}
	if _, cipher, _, _ := httpsGet(base+"/header?name=X-Amzn-Tls-Cipher-Suite", "b.example.test", imports); cipher != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("X-Amzn-Tls-Cipher-Suite %q", cipher)
	}
	// A name no certificate has gets the default one.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{ServerName: "other.example.test", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "a.example.test" {
		t.Errorf("an unknown name was served %s, want the default certificate", cn)
	}
	conn.Close()
}

// TestHTTPSWithoutUsableCertificate: a listener whose certificate berth
// does not hold (an IAM server certificate: berth's IAM keeps none) serves
// one for the load balancer's DNS name, signed by berth's authority. An
// ACM certificate berth does not hold is refused (CertificateNotFound, see
// TestListenerCertificatesMustExist).
func TestHTTPSWithoutUsableCertificate(t *testing.T) {
	ctx, c := setup(t)
	app := newApp(t, "fallback")
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("self-signed"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	tg := ipGroup(t, ctx, c, "fallback", app)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(8443),
		Certificates:   []types.Certificate{{CertificateArn: aws.String("arn:aws:iam::000000000000:server-certificate/not-in-berth")}},
		DefaultActions: []types.Action{forwardTo(tg)}})).must(t)
	ca := x509.NewCertPool()
	ca.AppendCertsFromPEM([]byte(get(t, shared.url+"/_berth/ca.pem")))
	base := "https://" + net.JoinHostPort(hostAddress(t, shared, *lb.DNSName), "8443")
	eventually(t, "the certificate of the DNS name", func() bool {
		_, body, _, err := httpsGet(base+"/", strings.ToLower(*lb.DNSName), ca)
		return err == nil && body == "fallback"
	})
}

// TestNLBTLSEcho: an NLB TLS listener terminates TLS and joins the
// connection to a TCP target.
func TestNLBTLSEcho(t *testing.T) {
	ctx, c := setup(t)
	cert, key := selfSigned(t, "echo.example.test")
	arn := try(c.acm.ImportCertificate(ctx, &acmapi.ImportCertificateInput{Certificate: cert, PrivateKey: key})).must(t).CertificateArn
	_, addr := nlb(t, ctx, c, "tls-echo", types.ProtocolEnumTls, 7443, *arn)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cert)
	var got string
	eventually(t, "a TLS echo", func() bool {
		conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "echo.example.test", RootCAs: roots})
		if err != nil {
			got = err.Error()
			return false
		}
		defer conn.Close()
		fmt.Fprint(conn, "ping")
		conn.CloseWrite()
		b, _ := io.ReadAll(conn)
		got = string(b)
		return got == "ping"
	})
}
