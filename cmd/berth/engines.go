package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"berth/backend/ecs"
	"berth/backend/pki"
	"berth/backend/runtime"
	"berth/sqlite"
)

// engine is one --engine: the Docker Engine of another host, which joins
// the fleet as a container instance of every cluster that runs EC2 tasks.
type engine struct {
	name         string            // its name among the fleet's hosts
	url          string            // tcp://address:port, where its engine serves mutual TLS
	address      string            // where its tasks' host ports are reached: the URL's host
	zone         string            // the letter of its availability zone
	gateway      string            // the machine's address as the host reaches it, if berth serves it there
	instanceType string            // its ecs.instance-type attribute
	attributes   map[string]string // its custom attributes
}

// engines is the repeated --engine flag (several engines in one value,
// as BERTH_ENGINE holds them, are separated by ";").
type engines []engine

func (e *engines) String() string {
	var names []string
	for _, en := range *e {
		names = append(names, en.name)
	}
	return strings.Join(names, ";")
}

// engineName is a host's name: it names a folder, and derives its ids.
var engineName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Set parses "name=N,url=tcp://A:P[,zone=L][,gateway=G][,type=T][,attribute:K=V...]".
func (e *engines) Set(value string) error {
	for _, spec := range strings.Split(value, ";") {
		if spec = strings.TrimSpace(spec); spec == "" {
			continue
		}
		en := engine{attributes: map[string]string{}}
		for _, field := range strings.Split(spec, ",") {
			key, v, ok := strings.Cut(field, "=")
			if !ok {
				return fmt.Errorf("%q: want key=value", field)
			}
			switch name, isAttribute := strings.CutPrefix(key, "attribute:"); {
			case isAttribute:
				en.attributes[name] = v
			case key == "name":
				en.name = v
			case key == "url":
				en.url = v
			case key == "zone":
				en.zone = v
			case key == "gateway":
				en.gateway = v
			case key == "type":
				en.instanceType = v
			default:
				return fmt.Errorf("unknown key %q (name, url, zone, gateway, type, attribute:<name>)", key)
			}
		}
		if err := en.check(); err != nil {
			return fmt.Errorf("%s: %w", spec, err)
		}
		for _, other := range *e {
			switch {
			case other.name == en.name:
				return fmt.Errorf("two engines are named %s", en.name)
			case other.url == en.url:
				return fmt.Errorf("engines %s and %s are one engine, %s", other.name, en.name, en.url)
			}
			// One address, one host: its instance targets are reached
			// there, and one engine would otherwise run two hosts' tasks.
			if sameAddress(other.address, en.address) {
				return fmt.Errorf("engines %s and %s are both at %s", other.name, en.name, en.address)
			}
			// A gateway is this machine's address, whose engine is the
			// local host.
			if other.gateway != "" && sameAddress(other.gateway, en.address) || en.gateway != "" && sameAddress(en.gateway, other.address) {
				return fmt.Errorf("engines %s and %s: an engine at a gateway, this machine's address, is the local engine", other.name, en.name)
			}
		}
		*e = append(*e, en)
	}
	return nil
}

// check validates an engine and fills its address.
func (en *engine) check() error {
	if !engineName.MatchString(en.name) {
		return errors.New("name: 1 to 32 lower-case letters, digits and dashes")
	}
	u, err := url.Parse(en.url)
	if err != nil || u.Scheme != "tcp" || u.Port() == "" || u.Hostname() == "" || u.Path != "" ||
		u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return errors.New("url: tcp://<address>:<port> of an engine serving mutual TLS (dockerd --tlsverify)")
	}
	en.address = u.Hostname()
	if ip, err := netip.ParseAddr(en.address); err == nil && !ip.IsGlobalUnicast() || strings.EqualFold(en.address, "localhost") {
		// Loopback is this machine, whose engine is the local host.
		return errors.New("url: the address of another host, private or global (not loopback, link-local, multicast or unspecified)")
	}
	if !pki.Permits(en.address) {
		// The engines' authority signs for no other names, and berth
		// would refuse the certificate it gave the engine.
		return fmt.Errorf("url: %s is not a private address or a name under %s", en.address, strings.Join(pki.PermittedDNSDomains, ", "))
	}
	if en.instanceType != "" {
		if err := ecs.ValidHostAttribute("ecs.instance-type", en.instanceType); err != nil {
			return fmt.Errorf("type: %w", err)
		}
	}
	for name, value := range en.attributes {
		if err := ecs.ValidHostAttribute(name, value); err != nil {
			return fmt.Errorf("attribute:%s: %w", name, err)
		}
	}
	if len(en.zone) > 1 || en.zone != "" && (en.zone[0] < 'a' || en.zone[0] > 'z') {
		return errors.New("zone: one lower-case letter, the availability zone's in every region")
	}
	if en.gateway != "" && sameAddress(en.gateway, en.address) {
		return errors.New("gateway: this machine's address, not the host's own")
	}
	if en.gateway != "" {
		// Never every interface (0.0.0.0): the task endpoint served there
		// hands out the tasks' role credentials.
		if ip, err := netip.ParseAddr(en.gateway); err != nil || !ip.IsGlobalUnicast() || ip.Zone() != "" {
			return errors.New("gateway: an IP address of this machine that the host reaches (not loopback, link-local, multicast or unspecified)")
		}
	}
	return nil
}

// sameAddress reports whether two engines' addresses are one.
func sameAddress(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	if errA == nil && errB == nil {
		return x.Unmap() == y.Unmap()
	}
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// joined is an engine of the fleet, ready to run tasks.
type joined struct {
	engine
	host   ecs.Host
	docker *runtime.Docker
	tlsDir string // its dockerd's certificate, key and authority
}

// joinEngines makes each engine of the fleet ready: the files its dockerd
// serves mutual TLS with, written once under dataDir/engines/<name>
// (ca.pem, server-cert.pem, server-key.pem) by the fleet's own authority,
// and berth's client of it, which presents a certificate of that
// authority. An engine that does not answer yet joins when it does.
func joinEngines(ctx context.Context, store *sqlite.Store, dataDir, instance string, list engines, now time.Time) ([]joined, error) {
	if len(list) == 0 {
		return nil, nil
	}
	ca, err := pki.LoadEngines(ctx, store, now)
	if err != nil {
		return nil, err
	}
	cert, key, err := ca.IssueClient("berth "+instance, now)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM())
	var out []joined
	for _, en := range list {
		dir := filepath.Join(dataDir, "engines", en.name)
		if err := writeEngineTLS(dir, ca, en.address, now); err != nil {
			return nil, fmt.Errorf("engine %s: %w", en.name, err)
		}
		config := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{pair}, ServerName: en.address}
		docker, err := runtime.NewRemoteDocker(en.url, config, instance)
		if err != nil {
			return nil, fmt.Errorf("engine %s: %w", en.name, err)
		}
		out = append(out, joined{engine: en, docker: docker, tlsDir: dir, host: ecs.Host{
			Instance: instance, Name: en.name, Address: en.address, Zone: en.zone,
			InstanceType: en.instanceType, Attributes: en.attributes,
		}})
	}
	return out, nil
}

// writeEngineTLS writes the authority, and a server certificate for
// address with its key, into dir, unless those there are already ca's
// and the certificate names address. The folder and its files are made
// private to berth's user whatever they were, and each file is replaced
// by renaming a new one over it, so that a symbolic link planted in its
// place is replaced, never written through; a folder that is a symbolic
// link is refused.
func writeEngineTLS(dir string, ca *pki.Authority, address string, now time.Time) error {
	if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is not a folder (a symbolic link?): remove it", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if engineTLSValid(dir, ca, address) {
		return nil
	}
	cert, key, err := ca.IssueServer([]string{address}, now)
	if err != nil {
		return err
	}
	// ca.pem last: until it is written, the next start writes them all.
	for _, f := range []struct {
		name string
		data []byte
	}{{"server-key.pem", key}, {"server-cert.pem", cert}, {"ca.pem", ca.PEM()}} {
		if err := replaceFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// engineTLSValid reports whether dir holds ca's authority and a server
// certificate of it for address that serves TLS only, in regular files
// private to berth's user.
func engineTLSValid(dir string, ca *pki.Authority, address string) bool {
	files := map[string][]byte{}
	for _, name := range []string{"ca.pem", "server-cert.pem", "server-key.pem"} {
		path := filepath.Join(dir, name)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
			return false
		}
		if files[name], err = os.ReadFile(path); err != nil {
			return false
		}
	}
	if !bytes.Equal(files["ca.pem"], ca.PEM()) {
		return false
	}
	pair, err := tls.X509KeyPair(files["server-cert.pem"], files["server-key.pem"])
	if err != nil {
		return false
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM())
	_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: address})
	return err == nil && slices.Equal(pair.Leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
}

// replaceFile writes data to a new file private to berth's user beside
// path and renames it to path.
func replaceFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// dockerdFlags are the flags a host's dockerd serves berth with.
func (j joined) dockerdFlags() string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(j.url, "tcp://"))
	return fmt.Sprintf("--tlsverify --tlscacert %[1]s/ca.pem --tlscert %[1]s/server-cert.pem --tlskey %[1]s/server-key.pem -H tcp://%[2]s",
		j.tlsDir, net.JoinHostPort(j.address, port))
}

// gatewayServices are what berth serves a host of the fleet at its
// gateway: the image registry and the API, for the tasks' endpoint.
type gatewayServices struct {
	api          http.Handler
	registry     http.Handler // nil: no registry
	registryHost string       // where the registry listens locally (host:port)
	credentials  ecs.RoleSessions
	secret       []byte
	log          zerolog.Logger
	// registries are where the registry is served at each gateway: once
	// per gateway, which the hosts on one network share.
	registries map[string]string
}

// fleetAgent returns the agent of a host of the fleet. When the host has
// a gateway, berth also serves it there: the registry on the port it has
// locally (the engine pulls ECR images from it) and the task endpoint on
// a port the system picks (metadata; the SDKs take task role credentials
// from a full URI only on loopback, so code on the host gets none). The
// returned function closes those listeners.
func fleetAgent(b *ecs.Backend, j joined, g *gatewayServices) (*ecs.Agent, func()) {
	log := g.log.With().Str("component", "agent").Str("engine", j.name).Logger()
	agent := ecs.NewAgent(b, j.docker, j.host, g.secret, log)
	agent.Credentials = g.credentials
	if j.gateway == "" {
		return agent, func() {}
	}
	var servers []*http.Server
	serve := func(address string, h http.Handler) (string, bool) {
		ln, err := net.Listen("tcp", address)
		if err != nil {
			log.Warn().Err(err).Msg("cannot serve the host at its gateway")
			return "", false
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: apiIdleTimeout}
		go srv.Serve(ln)
		servers = append(servers, srv)
		return ln.Addr().String(), true
	}
	if _, port, err := net.SplitHostPort(g.registryHost); err == nil && g.registry != nil {
		if g.registries == nil {
			g.registries = map[string]string{}
		}
		if addr, ok := g.registries[j.gateway]; ok {
			agent.Registry = addr
		} else if addr, ok := serve(net.JoinHostPort(j.gateway, port), g.registry); ok {
			agent.Registry, g.registries[j.gateway] = addr, addr
		}
	}
	if addr, ok := serve(net.JoinHostPort(j.gateway, "0"), agent.Endpoint(g.api)); ok {
		agent.TaskEndpoint = "http://" + addr
	}
	return agent, func() {
		for _, srv := range servers {
			srv.Close()
		}
	}
}
