package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/ecs"
	"berth/backend/pki"
	"berth/sqlite"
)

// TestEngineSpecs: --engine values that would join a host berth cannot
// reach safely, or two names for one host, are refused when berth starts.
func TestEngineSpecs(t *testing.T) {
	ok := "name=a,url=tcp://10.213.1.2:2376,zone=b,gateway=10.213.1.1,type=m5.large,attribute:stack=blue"
	var list engines
	if err := list.Set(ok); err != nil {
		t.Fatalf("a valid engine: %v", err)
	}
	for _, spec := range []string{
		// The gateway is where berth serves the host its registry and the
		// tasks' credentials endpoint: never every interface.
		"name=a,url=tcp://10.213.1.2:2376,gateway=0.0.0.0",
		"name=a,url=tcp://10.213.1.2:2376,gateway=::",
		"name=a,url=tcp://10.213.1.2:2376,gateway=224.0.0.1",
		// A URL is an address and a port, nothing else.
		"name=a,url=tcp://user:secret@10.213.1.2:2376",
		"name=a,url=tcp://10.213.1.2:2376?x=1",
		"name=a,url=tcp://10.213.1.2:2376#f",
		// Loopback is this machine: the local engine's own address.
		"name=a,url=tcp://127.0.0.1:2376",
		"name=a,url=tcp://[::1]:2376",
		"name=a,url=tcp://localhost:2376",
		// The engines' authority is constrained to private addresses and
		// reserved names (RFC 5280 4.2.1.10): a certificate for any other
		// address would be refused by berth itself.
		"name=a,url=tcp://203.0.113.5:2376",
		"name=a,url=tcp://docker.corp:2376",
		// Two engines at one address: instance targets there would be
		// ambiguous, and one engine would run two hosts' tasks.
		"name=a,url=tcp://10.213.1.2:2376;name=b,url=tcp://10.213.1.2:2377",
		"name=a,url=tcp://10.213.1.2:2376;name=b,url=tcp://10.213.001.2:2376",
		// A gateway is this machine's address: an engine there is the
		// local one.
		"name=a,url=tcp://10.213.1.2:2376,gateway=10.213.1.1;name=b,url=tcp://10.213.1.1:2376",
		"name=a,url=tcp://10.213.1.1:2376;name=b,url=tcp://10.213.2.2:2376,gateway=10.213.1.1",
		"name=a,url=tcp://10.213.1.2:2376,gateway=10.213.1.2",
		// Attributes as PutAttributes takes them (API_Attribute): a
		// name, and values of its characters.
		"name=a,url=tcp://10.213.1.2:2376,attribute:=x",
		"name=a,url=tcp://10.213.1.2:2376,attribute:a b=x",
		"name=a,url=tcp://10.213.1.2:2376,attribute:stack=",
		"name=a,url=tcp://10.213.1.2:2376,attribute:stack=blue!",
		"name=a,url=tcp://10.213.1.2:2376,type=m5 large ,zone=b",
		"name=a,url=tcp://10.213.1.2:2376,type=m5$large",
	} {
		var list engines
		if err := list.Set(spec); err == nil {
			t.Errorf("%s: accepted", spec)
		}
	}
	// Repeated flags are checked against each other too.
	if err := list.Set("name=b,url=tcp://10.213.1.2:2376"); err == nil {
		t.Errorf("a second engine at 10.213.1.2 was accepted")
	}
}

func engineAuthority(t *testing.T) *pki.Authority {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ca, err := pki.LoadEngines(context.Background(), store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: not PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEngineServerCertificate: the certificate (and key) handed to one
// host's dockerd does not open another host's engine: dockerd
// --tlsverify accepts any client certificate of the authority whose
// extended key usage allows client authentication (RFC 5280 4.2.1.12).
func TestEngineServerCertificate(t *testing.T) {
	ca := engineAuthority(t)
	dir := filepath.Join(t.TempDir(), "engines", "a")
	if err := writeEngineTLS(dir, ca, "10.213.1.2", time.Now()); err != nil {
		t.Fatal(err)
	}
	cert := readCert(t, filepath.Join(dir, "server-cert.pem"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM())
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "10.213.1.2"}); err != nil {
		t.Fatalf("not a server certificate for its address: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Errorf("an engine's server certificate is also a client certificate of the fleet")
	}
}

// TestEngineTLSFiles: the files of an engine's TLS are written private
// whatever was there, never through a symbolic link planted in their
// place, and anew when the engine's address changes.
func TestEngineTLSFiles(t *testing.T) {
	ca := engineAuthority(t)
	root := t.TempDir()
	dir := filepath.Join(root, "engines", "a")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "elsewhere")
	if err := os.WriteFile(outside, []byte("not yours"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "server-key.pem")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server-cert.pem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeEngineTLS(dir, ca, "10.213.1.2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(outside); string(data) != "not yours" {
		t.Errorf("the key was written through a symbolic link: %q", data)
	}
	for _, name := range []string{".", "server-key.pem", "server-cert.pem", "ca.pem"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want private to berth's user", name, fi.Mode())
		}
	}

	// The engine moved: its certificate must name its new address.
	if err := writeEngineTLS(dir, ca, "10.213.2.2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := readCert(t, filepath.Join(dir, "server-cert.pem")).VerifyHostname("10.213.2.2"); err != nil {
		t.Errorf("after a change of address: %v", err)
	}

	// The folder itself replaced by a link elsewhere: refused.
	other := filepath.Join(root, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "engines", "b")
	if err := os.Symlink(other, link); err != nil {
		t.Fatal(err)
	}
	if err := writeEngineTLS(link, ca, "10.213.3.2", time.Now()); err == nil {
		t.Errorf("an engine folder that is a symbolic link was written through")
	}
	if entries, _ := os.ReadDir(other); len(entries) > 0 {
		t.Errorf("files written through the link: %v", entries)
	}
}

// TestGatewaySharedByHosts: hosts on one network reach this machine at
// one gateway; each of them pulls ECR images from the registry served
// there, which is served once.
func TestGatewaySharedByHosts(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	env := backend.Env{Clock: time.Now, IDs: &backend.SequentialIDs{}}
	hb := ecs.Host{Instance: "0123456789abcdef", Name: "b", Address: "10.213.1.2"}
	hc := ecs.Host{Instance: "0123456789abcdef", Name: "c", Address: "10.213.1.3"}
	b := ecs.New(store, env, ecs.Host{Instance: "0123456789abcdef", CPUs: 1}, hb, hc)
	// A port free now, where the registry "listens locally".
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	registryHost := ln.Addr().String()
	ln.Close()
	g := gatewayServices{api: http.NotFoundHandler(), registry: http.NotFoundHandler(), registryHost: registryHost, log: zerolog.Nop()}
	var registries []string
	for _, h := range []ecs.Host{hb, hc} {
		j := joined{engine: engine{name: h.Name, address: h.Address, gateway: "127.0.0.1"}, host: h}
		agent, closeGateway := fleetAgent(b, j, &g)
		t.Cleanup(closeGateway)
		registries = append(registries, agent.Registry)
	}
	if registries[0] == "" || registries[0] != registries[1] {
		t.Errorf("the hosts pull ECR images from %q", registries)
	}
}
