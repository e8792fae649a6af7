package integration

import (
	"bufio"
	"context"
	be "encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// drainingBerth starts a berth with an ALB listener whose target holds
// GET /slow until release is closed, sends such a request, then SIGTERM,
// and returns when berth has closed the listener (it drains). The
// request's outcome comes on result.
func drainingBerth(t *testing.T) (b *berth, release chan struct{}, result <-chan string) {
	b = startT(t, filepath.Join(t.TempDir(), "data"))
	ctx, c := context.Background(), b.clients("us-east-1")
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
			fmt.Fprint(w, "drained")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(target.Close)
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("drain"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("drain"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: lb.VpcId, TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	port := target.Listener.Addr().(*net.TCPAddr).Port
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(port))}}})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []types.Action{forwardTo(*tg.TargetGroupArn)}})).must(t)
	addr := net.JoinHostPort(hostAddress(t, b, *lb.DNSName), "80")
	eventually(t, "the listener serves", func() bool { code, body := fetch("http://"+addr+"/", ""); return code == 200 && body == "ok" })

	out := make(chan string, 1)
	go func() {
		client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		req, _ := http.NewRequest("GET", "http://"+addr+"/slow", nil)
		code, body := send(client, req)
		out <- fmt.Sprint(code, " ", body)
	}()
	<-arrived
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the listener closed", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	return b, release, out
}

// TestSIGTERMDrainsListeners: berth stopped by SIGTERM closes its
// listeners at once but lets a request in flight through one of them end
// with its answer, as a deleted listener does, then exits cleanly.
func TestSIGTERMDrainsListeners(t *testing.T) {
	t.Parallel()
	b, release, result := drainingBerth(t)
	close(release) // the target answers now, while berth drains
	if got := <-result; got != "200 drained" {
		t.Fatalf("the request in flight at SIGTERM: %s", got)
	}
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("berth exited with %v; see %s", err, b.log)
	}
}

// TestSecondSignalEndsDrain: a second signal while berth drains ends it at
// once, as an impatient operator expects.
func TestSecondSignalEndsDrain(t *testing.T) {
	t.Parallel()
	b, release, _ := drainingBerth(t)
	defer close(release)
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Wait(); err == nil {
		t.Fatal("berth exited cleanly, after its drain; want it ended by the second signal")
	}
}

// TestNLBProxyProtocolV2: with the target group attribute
// proxy_protocol_v2.enabled set through the API, a raw TCP target gets a
// PROXY protocol v2 header with the client's address before its bytes,
// and health checks send a LOCAL header.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#proxy-protocol
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt (section 2.2)
func TestNLBProxyProtocolV2(t *testing.T) {
	ctx, c := setup(t)
	got := make(chan proxySeen, 64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				var fixed [16]byte
				if _, err := io.ReadFull(br, fixed[:]); err != nil || string(fixed[:12]) != "\r\n\r\n\x00\r\nQUIT\n" || fixed[12]>>4 != 2 {
					got <- proxySeen{cmd: 0xFF}
					return
				}
				rest := make([]byte, be.BigEndian.Uint16(fixed[14:]))
				io.ReadFull(br, rest)
				s := proxySeen{cmd: fixed[12] & 0x0F}
				if s.cmd == 1 && fixed[13] == 0x11 && len(rest) >= 12 { // PROXY, TCP over IPv4
					s.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rest[0:4])), be.BigEndian.Uint16(rest[8:10]))
					s.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(rest[4:8])), be.BigEndian.Uint16(rest[10:12]))
					payload, _ := io.ReadAll(br)
					s.payload = string(payload)
				}
				got <- s
			}()
		}
	}()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("ppv2"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("ppv2"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(7),
		VpcId: lb.VpcId, TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("proxy_protocol_v2.enabled"), Value: aws.String("true")}}})).must(t)
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(ln.Addr().(*net.TCPAddr).Port))}}})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(7001),
		DefaultActions: []types.Action{forwardTo(*tg.TargetGroupArn)}})).must(t)
	addr := net.JoinHostPort(hostAddress(t, shared, *lb.DNSName), "7001")
	var conn net.Conn
	eventually(t, "the listener bound", func() bool { conn, err = net.Dial("tcp", addr); return err == nil })
	defer conn.Close()
	fmt.Fprint(conn, "hello")
	conn.(*net.TCPConn).CloseWrite()
	sawLocal, sawProxy := false, false
	deadline := time.After(time.Minute)
	for !sawLocal || !sawProxy {
		select {
		case s := <-got:
			switch s.cmd {
			case 0: // LOCAL: a health check
				sawLocal = true
			case 1:
				sawProxy = true
				if want := netip.MustParseAddrPort(conn.LocalAddr().String()); s.src != want || s.dst.String() != addr || s.payload != "hello" {
					t.Fatalf("PROXY header from %s to %s then %q; want from %s to %s then %q", s.src, s.dst, s.payload, want, addr, "hello")
				}
			default:
				t.Fatalf("a connection without a v2 header (command %#x)", s.cmd)
			}
		case <-deadline:
			t.Fatalf("within a minute: a health check's LOCAL header %v, the client's PROXY header %v", sawLocal, sawProxy)
		}
	}
}

// proxySeen is what a target read of a PROXY protocol v2 header: the
// command (0 LOCAL, 1 PROXY, 0xFF no header), the addresses and what
// followed.
type proxySeen struct {
	cmd      byte
	src, dst netip.AddrPort
	payload  string
}

// TestNLBTCPIdleTimeout: a TCP listener's tcp.idle_timeout.seconds, set
// through the API to its minimum of 60 s, closes a flow that stays idle
// that long (without it the flow would live 350 s). The bound of the
// wait is a poll deadline, not a measure.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html
func TestNLBTCPIdleTimeout(t *testing.T) {
	ctx, c := setup(t)
	lb, addr := nlb(t, ctx, c, "idle", types.ProtocolEnumTcp, 7002)
	l := try(c.elbv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})).must(t).Listeners[0]
	try(c.elbv2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: l.ListenerArn,
		Attributes: []types.ListenerAttribute{{Key: aws.String("tcp.idle_timeout.seconds"), Value: aws.String("60")}}})).must(t)
	var conn net.Conn
	eventually(t, "an echo", func() bool {
		var err error
		if conn, err = net.Dial("tcp", addr); err != nil {
			return false
		}
		fmt.Fprint(conn, "x")
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1)
		if _, err := io.ReadFull(conn, buf); err != nil || buf[0] != 'x' {
			conn.Close()
			return false
		}
		return true
	})
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(150 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the idle flow: read %d, %v; want it closed (EOF)", n, err)
	}
}
