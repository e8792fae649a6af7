package lb

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"berth/lb/health"
)

// slowInFlight starts GET base/slow (3 s at the backend) and waits until
// the backend has it; the result comes on the channel.
func slowInFlight(t *testing.T, base string, b *backend) <-chan string {
	t.Helper()
	done := make(chan string, 1)
	before := b.slow.Load()
	go func() {
		resp, err := noKeepAlive.Get(base + "/slow")
		if err != nil {
			done <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- fmt.Sprint(resp.StatusCode, " ", string(body), " ", err)
	}()
	eventually(t, "the slow request at the target", func() bool { return b.slow.Load() > before })
	return done
}

// Deleting a listener and creating one on the same port in the next
// Apply works: the old socket is unbound before Apply returns, while the
// request in flight on it goes on and ends well.
func TestDeleteThenCreateSamePort(t *testing.T) {
	h := newHarness(t)
	b := newBackend(t, "b")
	addr := loopback()
	port := freePort(t, addr)
	tg := tgroup("tg", b)
	tg.DeregistrationDelay = time.Minute
	cfg := alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg)
	h.apply(cfg)
	base := fmt.Sprintf("http://%s:%d", addr, port)
	eventually(t, "served", func() bool { _, body, _ := get(t, base+"/"); return body == "b" })
	slow := slowInFlight(t, base, b)
	withoutListener := Config{TargetGroups: cfg.TargetGroups}
	for range 20 {
		h.apply(withoutListener) // fails the test when the next cannot bind
		h.apply(cfg)
	}
	if _, body, _ := get(t, base+"/"); body != "b" {
		t.Fatalf("the listener created again answered %q", body)
	}
	if got := <-slow; got != "200 b slow <nil>" {
		t.Fatalf("the request in flight on the deleted listener: %s", got)
	}
}

// Manager.Shutdown refuses new connections at once and lets the request
// in flight end, within its grace.
func TestShutdownDrains(t *testing.T) {
	h := newHarness(t)
	b := newBackend(t, "b")
	addr := loopback()
	port := freePort(t, addr)
	tg := tgroup("tg", b)
	tg.DeregistrationDelay = time.Minute
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg))
	base := fmt.Sprintf("http://%s:%d", addr, port)
	eventually(t, "served", func() bool { _, body, _ := get(t, base+"/"); return body == "b" })
	slow := slowInFlight(t, base, b)
	stopped := inBackground(func() { h.m.Shutdown(time.Minute) })
	eventually(t, "new connections refused", func() bool {
		conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err == nil {
			conn.Close()
		}
		return refused(err)
	})
	if got := <-slow; got != "200 b slow <nil>" {
		t.Fatalf("the request in flight at shutdown: %s", got)
	}
	<-stopped
}

// failingListener fails its first Accepts as a process out of file
// descriptors does.
type failingListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// An error from accept (EMFILE here) pauses the NLB's TCP accept loop; it
// does not end it: the connection waiting is served afterwards.
func TestTCPAcceptSurvivesErrors(t *testing.T) {
	h := newHarness(t)
	addr := loopback()
	cfg := oneListener(addr, "TCP", freePort(t, addr), tcpEcho(t))
	h.apply(cfg)
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	failing := &failingListener{Listener: ln}
	failing.fails.Store(3)
	l := &listener{protocol: "TCP"}
	h.m.mu.Lock()
	l.routes.Store(h.m.compile(&cfg.LoadBalancers[0], cfg.LoadBalancers[0].Listeners[0], nil))
	h.m.mu.Unlock()
	closeTCP := h.m.serveTCP(l, failing)
	defer func() { <-closeTCP(0) }()
	served, err := try("TCP", ln.Addr().String(), "after EMFILE")
	if !served {
		t.Fatalf("not served after accept failed: %v", err)
	}
}

// silentTarget accepts TCP connections and hands them to the test; it
// never writes or closes on its own.
func silentTarget(t *testing.T) (Target, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			conns <- c
		}
	}()
	return Target{ID: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Host: "127.0.0.1"}, conns
}

// closedWithin reports whether the peer closes conn before the bound (a
// poll deadline, not a measure): a read ends in EOF or a reset, not in
// a timeout.
func closedWithin(conn net.Conn, bound time.Duration) error {
	conn.SetReadDeadline(time.Now().Add(bound))
	buf := make([]byte, 64)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		if isTimeout(err) {
			return fmt.Errorf("still open after %s", bound)
		}
		return nil
	}
}

// A TCP flow in which nothing goes either way for the listener's
// tcp.idle_timeout.seconds is closed, a half-closed one included; one
// that carries bytes one way only is not.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
// ("If no data is sent through the connection by either the client or
// target for longer than the idle timeout, the connection is closed.")
func TestTCPIdleTimeout(t *testing.T) {
	h := newHarness(t)
	target, accepted := silentTarget(t)
	addr := loopback()
	port := freePort(t, addr)
	cfg := oneListener(addr, "TCP", port, target)
	cfg.LoadBalancers[0].Listeners[0].IdleTimeout = time.Second // below AWS's 60 s minimum, for the test
	h.apply(cfg)
	open := func() (net.Conn, net.Conn) {
		conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		io.WriteString(conn, "x")
		up := <-accepted
		if _, err := io.ReadFull(up, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		return conn, up
	}
	t.Run("idle", func(t *testing.T) {
		conn, up := open()
		if err := closedWithin(conn, 30*time.Second); err != nil {
			t.Fatal("client side:", err)
		}
		if err := closedWithin(up, 30*time.Second); err != nil {
			t.Fatal("target side:", err)
		}
	})
	t.Run("half-closed", func(t *testing.T) {
		conn, up := open()
		conn.(*net.TCPConn).CloseWrite()
		if _, err := up.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("the target got %v, want the half-close (EOF)", err)
		}
		if err := closedWithin(conn, 30*time.Second); err != nil {
			t.Fatal("client side:", err)
		}
	})
	t.Run("one way", func(t *testing.T) {
		conn, up := open()
		go func() {
			for i := range 12 { // 2.4 s of bytes from the target, none from the client
				fmt.Fprint(up, i%10)
				time.Sleep(200 * time.Millisecond)
			}
			up.Close()
		}()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		got, err := io.ReadAll(conn)
		if err != nil || string(got) != "012345678901" {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

// proxyHeader reads a PROXY protocol v2 header: the command and, for
// PROXY over TCP4, the addresses. The layout is the specification's,
// section 2.2: a 12-byte signature, version and command, family and
// transport, the length of what follows, then for TCP over IPv4 the
// source and destination addresses and ports.
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
func proxyHeader(r io.Reader) (cmd byte, src, dst netip.AddrPort, err error) {
	var fixed [16]byte
	if _, err = io.ReadFull(r, fixed[:]); err != nil {
		return
	}
	if string(fixed[:12]) != "\r\n\r\n\x00\r\nQUIT\n" || fixed[12]>>4 != 2 {
		return 0, src, dst, fmt.Errorf("no v2 signature: % x", fixed)
	}
	rest := make([]byte, binary.BigEndian.Uint16(fixed[14:]))
	if _, err = io.ReadFull(r, rest); err != nil {
		return
	}
	cmd = fixed[12] & 0x0F
	if cmd == 1 && (fixed[13] == 0x11 || fixed[13] == 0x12) && len(rest) >= 12 { // TCP or UDP over IPv4
		src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rest[0:4])), binary.BigEndian.Uint16(rest[8:10]))
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rest[4:8])), binary.BigEndian.Uint16(rest[10:12]))
	}
	return cmd, src, dst, nil
}

// With proxy_protocol_v2.enabled a raw target gets, ahead of the client's
// bytes, a PROXY header with the client's address and the listener's;
// health check connections carry a LOCAL header, without addresses.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#proxy-protocol
func TestProxyProtocolV2(t *testing.T) {
	h := newHarness(t)
	target, accepted := silentTarget(t)
	addr := loopback()
	port := freePort(t, addr)
	cfg := oneListener(addr, "TCP", port, target)
	tg := cfg.TargetGroups["tg"]
	tg.ProxyProtocol = true
	tg.HealthCheck = &health.Config{Protocol: "TCP", Port: "traffic-port", Interval: 100 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}
	cfg.TargetGroups["tg"] = tg
	h.apply(cfg)
	// The first connection is a health check's.
	up := <-accepted
	if cmd, _, _, err := proxyHeader(up); err != nil || cmd != 0 {
		t.Fatalf("health check: command %d, %v; want LOCAL (0)", cmd, err)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "payload")
	conn.(*net.TCPConn).CloseWrite()
	for up = range accepted {
		br := bufio.NewReader(up)
		cmd, src, dst, err := proxyHeader(br)
		if err != nil {
			t.Fatal(err)
		}
		if cmd == 0 {
			continue // another health check
		}
		if want := netip.MustParseAddrPort(conn.LocalAddr().String()); cmd != 1 || src != want {
			t.Fatalf("command %d source %s, want PROXY (1) from %s", cmd, src, want)
		}
		if want := netip.MustParseAddrPort(conn.RemoteAddr().String()); dst != want {
			t.Fatalf("destination %s, want the listener's %s", dst, want)
		}
		if rest, _ := io.ReadAll(br); string(rest) != "payload" {
			t.Fatalf("after the header: %q", rest)
		}
		return
	}
}

// With proxy_protocol_v2.enabled each datagram of a UDP flow reaches the
// target behind a PROXY header (UDP over IPv4: 0x12) with the client's
// address and the listener's.
func TestProxyProtocolV2UDP(t *testing.T) {
	h := newHarness(t)
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := loopback()
	port := freeUDPPort(t, addr)
	cfg := oneListener(addr, "UDP", port, Target{ID: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port, Host: "127.0.0.1"})
	tg := cfg.TargetGroups["tg"]
	tg.ProxyProtocol = true
	cfg.TargetGroups["tg"] = tg
	h.apply(cfg)
	conn, err := net.Dial("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, msg := range []string{"one", "two"} {
		conn.Write([]byte(msg))
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 1500)
		n, _, err := pc.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(buf[:n])
		cmd, src, dst, err := proxyHeader(r)
		if err != nil || buf[13] != 0x12 {
			t.Fatalf("% x: %v", buf[:n], err)
		}
		rest, _ := io.ReadAll(r)
		if want := netip.MustParseAddrPort(conn.LocalAddr().String()); cmd != 1 || src != want || dst.String() != conn.RemoteAddr().String() || string(rest) != msg {
			t.Fatalf("command %d from %s to %s then %q; want 1 from %s to %s then %q", cmd, src, dst, rest, want, conn.RemoteAddr(), msg)
		}
	}
}

// Changing the health check settings of a target whose draining has ended
// (the control plane lists it until it is gone) starts no checker that
// outlives it.
func TestDrainedTargetLeaksNoChecker(t *testing.T) {
	h := newHarness(t)
	b := newBackend(t, "b")
	addr := loopback()
	port := freePort(t, addr)
	tg := tgroup("tg", b)
	apply := func() { h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg)) }
	apply()
	eventually(t, "one checker", func() bool { return h.m.checking.Load() == 1 })
	tg.Targets[0].DrainUntil = time.Now().Add(100 * time.Millisecond)
	apply()
	key := targetKey(b.target().ID, b.target().Port)
	eventually(t, "draining over", func() bool {
		h.m.mu.Lock()
		defer h.m.mu.Unlock()
		return h.m.groups["tg"].targets[key].ctx.Err() != nil
	})
	changed := *fastChecks
	changed.Path = "/elsewhere"
	tg.HealthCheck = &changed
	apply()
	tg.Targets = nil // gone
	apply()
	eventually(t, "no checker left", func() bool { return h.m.checking.Load() == 0 })
}

// The connections net/http serves (any request the lean path hands over,
// and HTTPS) close after the load balancer's idle timeout, not a fixed
// minute.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout
func TestFallbackIdleTimeout(t *testing.T) {
	cert := selfSigned(t)
	for _, protocol := range []string{"HTTP", "HTTPS"} {
		t.Run(protocol, func(t *testing.T) {
			h := newHarness(t)
			addr := loopback()
			port := freePort(t, addr)
			cfg := alb(addr, port, []Rule{{ARN: "default", Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 200, Body: "fixed"}}}})
			cfg.LoadBalancers[0].IdleTimeout = time.Second
			cfg.LoadBalancers[0].Listeners[0].Protocol = protocol
			cfg.LoadBalancers[0].Listeners[0].Certificates = []tls.Certificate{cert}
			h.apply(cfg)
			conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if protocol == "HTTPS" {
				conn = tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "lb.test"})
			}
			br := bufio.NewReader(conn)
			for range 2 { // the connection serves again while it is not idle too long
				fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				if body, _ := io.ReadAll(resp.Body); string(body) != "fixed" {
					t.Fatalf("body %q", body)
				}
			}
			if err := closedWithin(conn, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A listener that changes protocol on its port in one Apply (ModifyListener
// from UDP to TCP_UDP, whose sockets are keyed apart) is bound again: the
// old socket goes first.
func TestProtocolChangeOnSamePort(t *testing.T) {
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr) // free for TCP; UDP too, most likely
	udp := oneListener(addr, "UDP", port, udpEcho(t))
	h.apply(udp)
	both := oneListener(addr, "TCP_UDP", port, udp.TargetGroups["tg"].Targets[0])
	both.LoadBalancers[0].Listeners[0].ARN = udp.LoadBalancers[0].Listeners[0].ARN
	h.apply(both)
	if served, err := try("UDP", net.JoinHostPort(addr, strconv.Itoa(port)), "after the change"); !served {
		t.Fatalf("not served over UDP after the change: %v", err)
	}
	h.apply(udp)
	if served, err := try("UDP", net.JoinHostPort(addr, strconv.Itoa(port)), "and back"); !served {
		t.Fatalf("not served over UDP after changing back: %v", err)
	}
}
