package lb

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/lb/balance"
	"berth/lb/rules"
)

// selfSigned is a certificate for TLS and HTTPS listeners, its Leaf set.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lb.test"}, DNSNames: []string{"lb.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tcpEcho is a raw TCP target that echoes what it reads until the client
// half-closes, then half-closes too.
func tcpEcho(t *testing.T) Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.(*net.TCPConn).CloseWrite() }()
		}
	}()
	p := ln.Addr().(*net.TCPAddr).Port
	return Target{ID: "127.0.0.1", Port: p, Host: "127.0.0.1"}
}

// udpEcho is a UDP target that answers "echo " and the datagram.
func udpEcho(t *testing.T) Target {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			pc.WriteToUDP(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	return Target{ID: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port, Host: "127.0.0.1"}
}

// oneListener is a config of one load balancer with one listener whose
// default rule forwards to a group of one target, without health checks
// (the target is healthy at once) and with a drain longer than any test.
func oneListener(address, protocol string, port int, target Target, certs ...tls.Certificate) Config {
	lbType := "network"
	if protocol == "HTTP" || protocol == "HTTPS" {
		lbType = "application"
	}
	return Config{
		TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: protocol, DeregistrationDelay: time.Minute, Targets: []Target{target}}},
		LoadBalancers: []LoadBalancer{{ARN: "lb-" + address, Name: "lb", Type: lbType, Address: address,
			Listeners: []Listener{{ARN: fmt.Sprintf("listener-%s-%d", protocol, port), Protocol: protocol, Port: port,
				Certificates: certs, Rules: []Rule{{ARN: "default", Action: forward("tg")}}}}}},
	}
}

// refused reports whether err says nothing listens at the address.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// A listener must be fully ready before it accepts: clients that connect
// while Apply adds it are either refused (not bound yet) or served
// correctly, never dropped, and nothing panics (a panic on the old code
// took the whole process down). Each round adds the listener on a new
// port while clients already hammer it. Logging goes to a slow writer,
// as a busy stderr is: whatever happens between binding and serving must
// not open a window.
func TestListenerReadyBeforeItAccepts(t *testing.T) {
	cert := selfSigned(t)
	for _, protocol := range []string{"HTTP", "TCP", "TLS", "UDP"} {
		t.Run(protocol, func(t *testing.T) {
			h := &harness{t: t, m: New(zerolog.New(slowWriter{}), time.Now, nil)}
			t.Cleanup(h.m.Close)
			var target Target
			switch protocol {
			case "HTTP":
				target = newBackend(t, "ready").target()
			case "UDP":
				target = udpEcho(t)
			default:
				target = tcpEcho(t)
			}
			addr := loopback()
			for round := range 20 {
				port := freePort(t, addr)
				if protocol == "UDP" {
					port = freeUDPPort(t, addr)
				}
				hostPort := net.JoinHostPort(addr, strconv.Itoa(port))
				const clients = 8
				errs := make(chan error, clients)
				var wg sync.WaitGroup
				for i := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						msg := fmt.Sprintf("round %d client %d", round, i)
						for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
							served, err := try(protocol, hostPort, msg)
							if served {
								return
							}
							if err != nil {
								errs <- err
								return
							}
						}
						errs <- errors.New("never served")
					}()
				}
				cfg := oneListener(addr, protocol, port, target)
				if protocol == "TLS" {
					cfg.LoadBalancers[0].Listeners[0].Certificates = []tls.Certificate{cert}
				}
				h.apply(cfg)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("round %d: a client was neither refused nor served: %v", round, err)
				}
			}
			if n := h.m.Panics(); n != 0 {
				t.Fatalf("%d panics", n)
			}
		})
	}
}

// slowWriter takes a while over every write.
type slowWriter struct{}

func (slowWriter) Write(p []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return len(p), nil
}

func freeUDPPort(t *testing.T, address string) int {
	pc, err := net.ListenPacket("udp", address+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// try makes one exchange with a listener: served is true when the answer
// was right; err is nil, with served false, when the listener refused.
func try(protocol, hostPort, msg string) (served bool, err error) {
	if protocol == "UDP" {
		conn, err := net.Dial("udp", hostPort)
		if err != nil {
			return false, err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(msg)); err != nil {
			return false, nil
		}
		buf := make([]byte, 1500)
		n, err := conn.Read(buf)
		switch {
		case refused(err):
			return false, nil
		case err != nil:
			return false, err
		case string(buf[:n]) != "echo "+msg:
			return false, fmt.Errorf("answer %q", buf[:n])
		}
		return true, nil
	}
	conn, err := net.Dial("tcp", hostPort)
	if refused(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	switch protocol {
	case "HTTP":
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return false, err
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || string(body) != "ready" {
			return false, fmt.Errorf("answer %d %q %v", resp.StatusCode, body, err)
		}
		return true, nil
	case "TLS":
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "lb.test"})
		if err := tc.Handshake(); err != nil {
			return false, err
		}
		conn = tc
	}
	if _, err := io.WriteString(conn, msg); err != nil {
		return false, err
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != msg {
		return false, fmt.Errorf("echo %q %v", got, err)
	}
	return true, nil
}

// A panic in a connection's goroutine (HTTP on the lean path and on
// net/http's, TCP, UDP) or in a health check's is contained: that
// connection ends, it is counted, and everything else goes on serving.
// The panics are injected through the manager's dialer and health
// report, both of which run in those goroutines.
func TestPanicsAreContained(t *testing.T) {
	m := New(zerolog.Nop(), time.Now, func(HealthReport) { panic("injected: report") })
	t.Cleanup(m.Close)
	m.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		panic("injected: dial " + network + " " + address)
	}
	b := newBackend(t, "b")
	tcpTarget, udpTarget := tcpEcho(t), udpEcho(t)
	addr := loopback()
	ports := map[string]int{"HTTP": freePort(t, addr), "TCP": freePort(t, addr), "UDP": freeUDPPort(t, addr)}
	sticky := tgroup("sticky", b)
	sticky.Stickiness = Stickiness{Type: "lb_cookie", Duration: time.Hour} // served by net/http, not the lean path
	cfg := Config{
		TargetGroups: map[string]TargetGroup{
			"web": tgroup("web", b), "sticky": sticky,
			"tcp": {ARN: "tcp", Protocol: "TCP", Targets: []Target{tcpTarget}},
			"udp": {ARN: "udp", Protocol: "UDP", Targets: []Target{udpTarget}},
		},
		LoadBalancers: []LoadBalancer{
			{ARN: "alb", Type: "application", Address: addr, Listeners: []Listener{{ARN: "http", Protocol: "HTTP", Port: ports["HTTP"], Rules: []Rule{
				{ARN: "sticky", Conditions: []rules.Condition{pathIs("/sticky")}, Action: forward("sticky")},
				{ARN: "fixed", Conditions: []rules.Condition{pathIs("/fixed")}, Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 200, Body: "alive"}}},
				{ARN: "default", Action: forward("web")},
			}}}},
			{ARN: "nlb", Type: "network", Address: addr, Listeners: []Listener{
				{ARN: "tcp", Protocol: "TCP", Port: ports["TCP"], Rules: []Rule{{Action: forward("tcp")}}},
				{ARN: "udp", Protocol: "UDP", Port: ports["UDP"], Rules: []Rule{{Action: forward("udp")}}},
			}},
		},
	}
	if failed := m.Apply(cfg); len(failed) > 0 {
		t.Fatal(failed)
	}
	// The health checks of web and sticky report, which panics; each is
	// contained and the checks go on.
	eventually(t, "the health reports' panics counted", func() bool { return m.Panics() >= 2 })
	base := "http://" + net.JoinHostPort(addr, strconv.Itoa(ports["HTTP"]))

	step := func(what string, do func()) {
		t.Helper()
		before := m.Panics()
		do()
		eventually(t, what+": its panic counted", func() bool { return m.Panics() > before })
		if code, body, _ := get(t, base+"/fixed"); code != 200 || body != "alive" {
			t.Fatalf("after %s: %d %q", what, code, body)
		}
	}
	step("a lean HTTP request", func() {
		if resp, err := noKeepAlive.Get(base + "/"); err == nil {
			resp.Body.Close()
			t.Fatalf("the request whose connection panicked was answered %s", resp.Status)
		}
	})
	step("a net/http request", func() {
		if resp, err := noKeepAlive.Get(base + "/sticky"); err == nil {
			resp.Body.Close()
			t.Fatalf("the request whose handler panicked was answered %s", resp.Status)
		}
	})
	step("a TCP flow", func() {
		conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(ports["TCP"])))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if got, err := io.ReadAll(conn); err != nil || len(got) > 0 {
			t.Fatalf("the flow whose goroutine panicked: %q %v, want it closed", got, err)
		}
	})
	step("a UDP datagram", func() {
		conn, err := net.Dial("udp", net.JoinHostPort(addr, strconv.Itoa(ports["UDP"])))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("ping"))
	})
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func pathIs(p string) rules.Condition {
	return rules.Condition{Field: "path-pattern", Values: []string{p}}
}

// TestHealthCheckOutlivesPanic: a health check that a panic ended (here
// in its clock) is contained and checks again: the target turns healthy,
// then unhealthy when its check fails, instead of keeping the health it
// had when the check panicked. The clock panics either at the first
// reading after the target group is applied or at the move to unhealthy,
// whose report the panic would otherwise lose (CI saw it, under -race).
func TestHealthCheckOutlivesPanic(t *testing.T) {
	for _, armAfterHealthy := range []bool{false, true} {
		t.Run(fmt.Sprintf("armAfterHealthy=%v", armAfterHealthy), func(t *testing.T) {
			reports := make(chan HealthReport, 16)
			var armed atomic.Bool
			now := func() time.Time {
				if armed.CompareAndSwap(true, false) {
					panic("injected: the health check's clock")
				}
				return time.Now()
			}
			m := New(zerolog.Nop(), now, func(r HealthReport) { reports <- r })
			t.Cleanup(m.Close)
			b := newBackend(t, "b")
			if failed := m.Apply(Config{TargetGroups: map[string]TargetGroup{"web": tgroup("web", b)}}); len(failed) > 0 {
				t.Fatal(failed)
			}
			armed.Store(!armAfterHealthy) // the next reading of the clock is the checker's
			deadline := time.After(time.Minute)
			await := func(want balance.Health) {
				t.Helper()
				for {
					select {
					case r := <-reports:
						if r.Status.Health == want {
							return
						}
					case <-deadline:
						t.Fatalf("the target never turned %v after its check panicked (%d panics)", want, m.Panics())
					}
				}
			}
			await(balance.Healthy)
			if armAfterHealthy {
				armed.Store(true)
			}
			b.setHealth(http.StatusInternalServerError)
			await(balance.Unhealthy)
			if m.Panics() != 1 {
				t.Fatalf("panics = %d, want the one injected", m.Panics())
			}
		})
	}
}
