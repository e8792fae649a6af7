package integration

// Test hosts: extra Docker Engines on this machine, each in a network
// namespace of its own behind a veth pair, as ../shared/MULTIHOST.md
// describes, reached over the Engine API with mutual TLS as berth reaches
// the container instances of a fleet.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// hostsRoot holds, for every test process on the machine, the lock file of
// each host number and the state folder of each host.
const hostsRoot = "/tmp/berth-hosts"

// maxHostN is the highest host number: host N's bridge is 172.31.(200+N).0/24.
const maxHostN = 55

// engineStartBound is how long an engine may take to answer (it takes ~20 s).
const engineStartBound = 60 * time.Second

// testHost is one test host: a network namespace joined to the machine by a
// veth pair, and the Docker Engine that startEngine runs in it.
type testHost struct {
	Name    string // its network namespace, berth-h<N>
	N       int    // its number: its link is 10.213.N.0/24, its bridge 172.31.(200+N).0/24
	Addr    string // its address, 10.213.N.2; the engine serves mutual TLS on Addr:2376
	Gateway string // the machine's side of the link, 10.213.N.1
	Socket  string // its engine's unix socket, for a test to inspect the engine directly
	Dir     string // its state folder: daemon.json, data and exec roots, dockerd.log

	veth   string        // the machine's end of the link
	bridge string        // the subnet of its engine's default bridge
	lock   *os.File      // flock held while this process owns number N
	engine *exec.Cmd     // the running dockerd, or nil
	exited chan struct{} // closed when engine has exited
}

// newTestHost claims a free host number, sets up its namespace, link and
// routes, and tears all of it down when the test ends. Its engine is not
// started: the caller starts it with startEngine once the TLS files exist.
//
// A number N belongs to the process holding an flock on hostsRoot/hN.lock,
// so concurrent test processes never share one, and the kernel releases it
// when a process dies: whatever a dead owner left (dockerd, namespace, veth,
// routes, mounts, folder) is removed before N is used again.
func newTestHost(t *testing.T) *testHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("test hosts need root: they add network namespaces, links and routes")
	}
	if err := os.MkdirAll(hostsRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= maxHostN; n++ {
		h := claimHost(n)
		if h == nil {
			continue
		}
		t.Cleanup(func() {
			if err := h.stop(); err != nil {
				t.Error(err)
			}
			h.remove()
			h.lock.Close()
		})
		if err := h.link(); err != nil {
			t.Fatal(err)
		}
		return h
	}
	t.Fatal("no free test host number")
	return nil
}

// claimHost returns host n with its namespace created and leftovers of a
// dead owner removed, or nil if another process owns n or something that
// is not a test host uses its addresses.
func claimHost(n int) *testHost {
	lock, err := os.OpenFile(filepath.Join(hostsRoot, fmt.Sprintf("h%d.lock", n)), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil
	}
	if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		lock.Close()
		return nil
	}
	name := fmt.Sprintf("berth-h%d", n)
	dir := filepath.Join(hostsRoot, name)
	h := &testHost{Name: name, N: n, Addr: fmt.Sprintf("10.213.%d.2", n), Gateway: fmt.Sprintf("10.213.%d.1", n),
		Socket: filepath.Join(dir, "docker.sock"), Dir: dir,
		veth: "veth-" + name, bridge: fmt.Sprintf("172.31.%d.0/24", 200+n), lock: lock}
	h.remove()
	inUse := ipOut("-4", "-o", "addr", "show", "to", fmt.Sprintf("10.213.%d.0/24", n)) != "" ||
		ipOut("-4", "route", "show", "exact", h.bridge) != ""
	if inUse || exec.Command("ip", "netns", "add", name).Run() != nil {
		lock.Close()
		return nil
	}
	return h
}

// link joins the namespace to the machine: the veth pair and addresses, the
// namespace's default route through the machine, and the machine's route
// to the engine's bridge. Unreachable routes of a high metric for both
// subnets take over while the link is down, so that traffic to the host
// never leaves by the machine's default route.
func (h *testHost) link() error {
	prefix := fmt.Sprintf("10.213.%d.0/24", h.N)
	for _, args := range [][]string{
		{"link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.Name},
		{"addr", "add", h.Gateway + "/24", "dev", h.veth},
		{"link", "set", h.veth, "up"},
		{"-n", h.Name, "addr", "add", h.Addr + "/24", "dev", "eth0"},
		{"-n", h.Name, "link", "set", "eth0", "up"},
		{"-n", h.Name, "link", "set", "lo", "up"},
		{"-n", h.Name, "route", "add", "default", "via", h.Gateway},
		{"route", "add", "unreachable", prefix, "metric", "4242"},
		{"route", "add", "unreachable", h.bridge, "metric", "4242"},
		{"route", "add", h.bridge, "via", h.Addr},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes everything of host h: the processes of its engine and
// containers, its mounts, namespace, veth, routes, cgroups and folder. Only
// the owner of h.N calls it, so all of it is h's own (or a dead owner's).
func (h *testHost) remove() {
	if h.engine == nil {
		if pid, err := os.ReadFile(filepath.Join(h.Dir, "docker.pid")); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil && strings.Contains(cmdline(p), h.Dir+"/") {
				stopPid(p) // an engine that its dead owner left
			}
		}
	}
	// containerd and its shims, if dockerd could not stop them; then any
	// container process left in the engine's cgroup parent
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if pid, _ := strconv.Atoi(filepath.Base(p)); pid != os.Getpid() && strings.Contains(cmdline(pid), h.Dir+"/") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/" + h.Name)
	for _, cg := range cgroups {
		filepath.WalkDir(cg, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "cgroup.procs" {
				b, _ := os.ReadFile(path)
				for _, f := range strings.Fields(string(b)) {
					pid, _ := strconv.Atoi(f)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		lines := strings.Split(string(b), "\n")
		for _, line := range slices.Backward(lines) {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], h.Dir+"/") {
				syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
	}
	ip("netns", "del", h.Name)
	ip("link", "del", h.veth)
	ip("route", "del", "unreachable", fmt.Sprintf("10.213.%d.0/24", h.N), "metric", "4242")
	ip("route", "del", "unreachable", h.bridge, "metric", "4242")
	for _, cg := range cgroups { // the deepest first
		var dirs []string
		filepath.WalkDir(cg, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for _, d := range slices.Backward(dirs) {
			os.Remove(d)
		}
	}
	os.RemoveAll(h.Dir)
}

// startEngine starts the host's dockerd with the TLS files of tlsDir
// (ca.pem, server-cert.pem, server-key.pem), waits until it answers and
// loads testImage into it. It fails the test with the tail of the engine's
// log if the engine does not come up within a minute.
func (h *testHost) startEngine(t *testing.T, tlsDir string) {
	t.Helper()
	if err := h.start(t, tlsDir); err != nil {
		t.Fatal(err)
	}
}

// startEngines starts the engine of each host of tlsDirs at once, each with
// the TLS files of its folder, as startEngine does.
func startEngines(t *testing.T, tlsDirs map[*testHost]string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(tlsDirs))
	for h, dir := range tlsDirs {
		wg.Go(func() { errs <- h.start(t, dir) })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		t.Fatal(err)
	}
}

// start is startEngine, safe to call from any goroutine.
func (h *testHost) start(t *testing.T, tlsDir string) error {
	if h.engine != nil {
		return fmt.Errorf("%s: engine already running", h.Name)
	}
	began := time.Now()
	// A config file of its own: the machine's /etc/docker/daemon.json pins
	// the machine engine's data-root. The engine pulls from berth's
	// registry at the gateway over plain HTTP (a CIDR is accepted:
	// https://docs.docker.com/reference/cli/dockerd/#insecure-registries).
	conf := filepath.Join(h.Dir, "daemon.json")
	if err := os.MkdirAll(h.Dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(conf, []byte(`{"insecure-registries": ["10.213.0.0/16"]}`+"\n"), 0o644); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(h.Dir, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	// nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd
	// then fails with "Devices cgroup isn't mounted".
	cmd := exec.Command("nsenter", "--net=/var/run/netns/"+h.Name, "dockerd", "--config-file", conf,
		"--data-root", filepath.Join(h.Dir, "root"), "--exec-root", filepath.Join(h.Dir, "exec"),
		"--pidfile", filepath.Join(h.Dir, "docker.pid"),
		"-H", "unix://"+h.Socket, "-H", "tcp://"+h.Addr+":2376", "--tlsverify",
		"--tlscacert", filepath.Join(tlsDir, "ca.pem"),
		"--tlscert", filepath.Join(tlsDir, "server-cert.pem"),
		"--tlskey", filepath.Join(tlsDir, "server-key.pem"),
		"--iptables=false", "--ip-masq=false", "--cgroup-parent=/"+h.Name,
		"--storage-driver", "fuse-overlayfs", "--bip", fmt.Sprintf("172.31.%d.1/24", 200+h.N))
	cmd.Stdout, cmd.Stderr = log, log
	// If the test process dies, its engines stop too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	h.engine, h.exited = cmd, exited

	c, err := client.New(client.WithHost("unix://" + h.Socket))
	if err != nil {
		return err
	}
	defer c.Close()
	for deadline := time.Now().Add(engineStartBound); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Info(ctx, client.InfoOptions{})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-exited:
			return fmt.Errorf("%s: dockerd exited:\n%s", h.Name, h.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: dockerd did not answer within %v (%v):\n%s", h.Name, engineStartBound, err, h.logTail())
		}
	}
	up := time.Now()
	save := exec.Command("docker", "save", testImage)
	load := exec.Command("docker", "-H", "unix://"+h.Socket, "load", "-q")
	pipe, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		return err
	}
	out, loadErr := load.CombinedOutput()
	if err := errors.Join(save.Wait(), loadErr); err != nil {
		return fmt.Errorf("%s: loading %s: %v: %s", h.Name, testImage, err, out)
	}
	t.Logf("%s: engine answered in %v, test image loaded in %v", h.Name, up.Sub(began).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
	return nil
}

// logTail is the end of the engine's log.
func (h *testHost) logTail() string {
	b, _ := os.ReadFile(filepath.Join(h.Dir, "dockerd.log"))
	return string(b[max(0, len(b)-3000):])
}

// stopEngine stops the host's dockerd (SIGTERM, which stops its
// containers) and waits for it to exit. The host keeps its link and data:
// startEngine starts the same engine again.
func (h *testHost) stopEngine(t *testing.T) {
	t.Helper()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

func (h *testHost) stop() error {
	if h.engine == nil {
		return nil
	}
	defer func() { h.engine = nil }()
	h.engine.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
		return nil
	case <-time.After(time.Minute):
		h.engine.Process.Kill()
		<-h.exited
		return fmt.Errorf("%s: dockerd did not stop within a minute of SIGTERM; killed", h.Name)
	}
}

// cutLink takes the machine's end of the host's link down: the host is lost
// to the machine. Connections to it fail at once with "no route to host";
// the host's own sends are dropped.
func (h *testHost) cutLink(t *testing.T) {
	t.Helper()
	if err := ip("link", "set", h.veth, "down"); err != nil {
		t.Fatal(err)
	}
}

// restoreLink brings the link back up with the route to the host's bridge
// (which went with the link), and, if its engine runs, waits until the
// engine's port answers again.
func (h *testHost) restoreLink(t *testing.T) {
	t.Helper()
	if err := errors.Join(ip("link", "set", h.veth, "up"), ip("route", "replace", h.bridge, "via", h.Addr)); err != nil {
		t.Fatal(err)
	}
	if h.engine != nil {
		eventually(t, h.Name+" answers again", func() bool {
			c, err := net.DialTimeout("tcp", h.Addr+":2376", time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
}

// ip runs the ip command with args.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ipOut is the output of the ip command with args, empty if it fails.
func ipOut(args ...string) string {
	out, _ := exec.Command("ip", args...).Output()
	return strings.TrimSpace(string(out))
}

// cmdline is the command line of process pid, NULs as spaces.
func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// stopPid sends SIGTERM to process pid and waits up to a minute for it to
// exit, then kills it.
func stopPid(pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(time.Minute); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			return
		}
	}
}

// testCA is a throwaway certificate authority for the TLS files of test
// engines and of their clients.
type testCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	pem    []byte
	serial int64 // of the last certificate issued
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}
}

// issue writes ca.pem, and a certificate and its key signed by ca as
// certFile and keyFile, into dir: a server certificate for the address ip,
// or a client certificate if ip is empty.
func (ca *testCA) issue(t *testing.T, dir, certFile, keyFile, ip string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: "berth test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if ip != "" {
		tmpl.Subject.CommonName = ip
		tmpl.IPAddresses = []net.IP{net.ParseIP(ip)}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"ca.pem": ca.pem,
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTestHosts is the evidence that the test-host harness works: two
// engines started at once, each reached from the machine over mutual TLS
// only, a container on each answering at its host's address and reaching
// the machine at the gateway, each engine speaking plain HTTP to a registry
// at the gateway, and a host lost and found again by cutting its link.
func TestTestHosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hosts := []*testHost{newTestHost(t), newTestHost(t)}
	ca := newTestCA(t)
	clientDir := t.TempDir()
	ca.issue(t, clientDir, "cert.pem", "key.pem", "")
	tlsDirs := map[*testHost]string{}
	for _, h := range hosts {
		tlsDirs[h] = t.TempDir()
		ca.issue(t, tlsDirs[h], "server-cert.pem", "server-key.pem", h.Addr)
	}
	began := time.Now()
	startEngines(t, tlsDirs)
	t.Logf("two engines started at once, test image loaded, in %v", time.Since(began).Round(time.Millisecond))

	ports := map[*testHost]string{} // the testapp's host port on each
	bridgeIPs := map[*testHost]string{}
	for _, h := range hosts {
		c, err := client.New(client.WithHost("tcp://"+h.Addr+":2376"),
			client.WithTLSClientConfig(filepath.Join(clientDir, "ca.pem"), filepath.Join(clientDir, "cert.pem"), filepath.Join(clientDir, "key.pem")))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		info, err := c.Info(ctx, client.InfoOptions{})
		if err != nil {
			t.Fatalf("%s over mutual TLS: %v", h.Name, err)
		}
		if cidrs := info.Info.RegistryConfig.InsecureRegistryCIDRs; !slices.Contains(cidrs, netip.MustParsePrefix("10.213.0.0/16")) {
			t.Errorf("%s: insecure registry CIDRs = %v", h.Name, cidrs)
		}

		// Without a client certificate, and in plain HTTP, the engine refuses.
		anon, err := client.New(client.WithHost("tcp://"+h.Addr+":2376"), client.WithTLSClientConfig(filepath.Join(clientDir, "ca.pem"), "", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := anon.Info(ctx, client.InfoOptions{}); err == nil {
			t.Errorf("%s answered a client without a certificate", h.Name)
		}
		anon.Close()
		if resp, err := http.Get("http://" + h.Addr + ":2376/info"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("%s answered plain HTTP", h.Name)
			}
		}

		// The gateway: a web server that a container fetches, and a
		// registry's /v2/ that the engine pulls from in plain HTTP.
		ln, err := net.Listen("tcp", h.Gateway+":0")
		if err != nil {
			t.Fatal(err)
		}
		var v2 atomic.Bool
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/v2/":
				v2.Store(true)
				w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
				io.WriteString(w, "{}")
			case "/hello":
				io.WriteString(w, "hello")
			default:
				http.NotFound(w, r)
			}
		})}
		go srv.Serve(ln)
		defer srv.Close()
		if pull, err := c.ImagePull(ctx, ln.Addr().String()+"/probe:latest", client.ImagePullOptions{}); err == nil {
			pull.Wait(ctx) // fails: the registry has no such image
		}
		if !v2.Load() {
			t.Errorf("%s never asked the registry at %s for /v2/ in plain HTTP", h.Name, ln.Addr())
		}
		check := runOn(t, ctx, c, h, []string{"check", "http://" + ln.Addr().String() + "/hello"}, nil)
		wait := c.ContainerWait(ctx, check, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case res := <-wait.Result:
			if res.StatusCode != 0 {
				t.Errorf("a container on %s could not fetch %s/hello: exit %d", h.Name, ln.Addr(), res.StatusCode)
			}
		case err := <-wait.Error:
			t.Fatal(err)
		}

		app := runOn(t, ctx, c, h, nil, network.PortMap{network.MustParsePort("8080/tcp"): {{HostPort: "0"}}})
		inspect, err := c.ContainerInspect(ctx, app, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ports[h] = inspect.Container.NetworkSettings.Ports[network.MustParsePort("8080/tcp")][0].HostPort
		bridgeIPs[h] = inspect.Container.NetworkSettings.Networks["bridge"].IPAddress.String()
		for _, url := range []string{"http://" + h.Addr + ":" + ports[h] + "/health", "http://" + bridgeIPs[h] + ":8080/health"} {
			if body := get(t, url); body != "ok\n" {
				t.Errorf("%s = %q", url, body)
			}
		}
	}

	// A cut link loses the host (and only it); restored, it answers again.
	answers := func(url string) bool {
		// a new connection, not one opened before the cut: its packets
		// would be dropped until the timeout rather than refused
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}
	lost, kept := hosts[0], hosts[1]
	lost.cutLink(t)
	for _, url := range []string{"http://" + lost.Addr + ":" + ports[lost] + "/health", "http://" + bridgeIPs[lost] + ":8080/health"} {
		if answers(url) {
			t.Errorf("%s answered with its link cut", url)
		}
	}
	if !answers("http://" + kept.Addr + ":" + ports[kept] + "/health") {
		t.Errorf("%s lost with %s's link cut", kept.Name, lost.Name)
	}
	lost.restoreLink(t)
	for _, url := range []string{"http://" + lost.Addr + ":" + ports[lost] + "/health", "http://" + bridgeIPs[lost] + ":8080/health"} {
		if body := get(t, url); body != "ok\n" {
			t.Errorf("%s = %q after the link was restored", url, body)
		}
	}
}

// runOn creates and starts a container of testImage with args on the engine
// of h that c reaches; the engine's removal at the end of the test removes it.
func runOn(t *testing.T, ctx context.Context, c *client.Client, h *testHost, args []string, ports network.PortMap) string {
	t.Helper()
	cfg := &container.Config{Image: testImage, Cmd: args, ExposedPorts: network.PortSet{}}
	for p := range ports {
		cfg.ExposedPorts[p] = struct{}{}
	}
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: &container.HostConfig{PortBindings: ports}})
	if err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("%s: %v", h.Name, err)
	}
	return created.ID
}
