package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// These tests send real traffic through the listeners berth binds, to
// plain Go servers registered as ip targets, set up through the SDK.

// server is a target server that answers with its name and whose health
// check answer the test sets.
type server struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	code int
}

func newApp(t *testing.T, name string) *server {
	a := &server{name: name, code: http.StatusOK}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			a.mu.Lock()
			w.WriteHeader(a.code)
			a.mu.Unlock()
		case "/header":
			fmt.Fprint(w, r.Header.Get(r.URL.Query().Get("name")))
		case "/slow":
			time.Sleep(3 * time.Second)
			fmt.Fprint(w, a.name+" slow")
		default:
			fmt.Fprint(w, a.name)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *server) port() int32 {
	u, _ := url.Parse(a.srv.URL)
	p, _ := strconv.Atoi(u.Port())
	return int32(p)
}

func (a *server) target() types.TargetDescription {
	return types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(a.port())}
}

func (a *server) setHealth(code int) {
	a.mu.Lock()
	a.code = code
	a.mu.Unlock()
}

// ipGroup creates an HTTP target group of ip targets with fast health
// checks on /health and registers the apps.
func ipGroup(t *testing.T, ctx context.Context, c clients, name string, servers ...*server) string {
	t.Helper()
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(defaultVPC(t, ctx, c)),
		TargetType: types.TargetTypeEnumIp, HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5),
		HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})).must(t).TargetGroups[0]
	if len(servers) > 0 {
		var targets []types.TargetDescription
		for _, a := range servers {
			targets = append(targets, a.target())
		}
		try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets})).must(t)
	}
	return *tg.TargetGroupArn
}

func defaultVPC(t *testing.T, ctx context.Context, c clients) string {
	lbs := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t).LoadBalancers
	if len(lbs) == 0 {
		t.Fatal("create a load balancer first")
	}
	return *lbs[0].VpcId
}

// alb creates an internet-facing ALB with an HTTP listener on port whose
// default action is given, and returns the listener's ARN and the base
// URL the listener answers on.
func alb(t *testing.T, ctx context.Context, c clients, b *berth, name string, port int32, defaultAction types.Action) (string, string) {
	t.Helper()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	if defaultAction.TargetGroupArn == nil && defaultAction.Type == types.ActionTypeEnumForward {
		defaultAction.TargetGroupArn = aws.String(ipGroup(t, ctx, c, name+"-default"))
	}
	l := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: []types.Action{defaultAction},
	})).must(t).Listeners[0]
	address := hostAddress(t, b, *lb.DNSName)
	return *l.ListenerArn, "http://" + net.JoinHostPort(address, strconv.Itoa(int(port)))
}

// hostAddress finds a load balancer's local address in berth's hosts list.
func hostAddress(t *testing.T, b *berth, dnsName string) string {
	t.Helper()
	var address string
	eventually(t, "the load balancer in /_berth/hosts", func() bool {
		body := get(t, b.url+"/_berth/hosts")
		for _, line := range strings.Split(body, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == strings.ToLower(dnsName) {
				address = f[0]
				return true
			}
		}
		return false
	})
	return address
}

// fetch sends GET url with an optional Host and returns the status and
// body; a connection refused (the listener not bound yet) is status 0.
func fetch(url, host string) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	if host != "" {
		req.Host = host
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return send(client, req)
}

// send sends req with client and returns the status and body; a request
// that fails, or whose body breaks off, is status 0 with the error.
func send(client *http.Client, req *http.Request) (int, string) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

func forwardTo(arn string) types.Action {
	return types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}
}

func TestListenerRouting(t *testing.T) {
	ctx, c := setup(t)
	api, web := newApp(t, "api"), newApp(t, "web")
	listener, base := alb(t, ctx, c, shared, "routing", 80, types.Action{Type: types.ActionTypeEnumForward})
	apiTG, webTG := ipGroup(t, ctx, c, "api", api), ipGroup(t, ctx, c, "web", web)
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []types.Action{forwardTo(webTG)}})).must(t)
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}}, Actions: []types.Action{forwardTo(apiTG)}})).must(t)
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(20),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"*.api.example.com"}}}},
		Actions:    []types.Action{forwardTo(apiTG)}})).must(t)
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(30),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/old"}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{
			Path: aws.String("/new"), StatusCode: types.RedirectActionStatusCodeEnumHttp302}}}})).must(t)
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(40),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/teapot"}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("418"), ContentType: aws.String("text/plain"), MessageBody: aws.String("short and stout")}}}})).must(t)
	eventually(t, "the rules served", func() bool { code, body := fetch(base+"/teapot", ""); return code == 418 && body == "short and stout" })
	for _, c := range []struct{ path, host, want string }{
		{"/api/users", "", "api"}, {"/", "", "web"}, {"/", "v1.api.example.com", "api"}, {"/apix", "", "web"},
	} {
		if code, body := fetch(base+c.path, c.host); code != 200 || body != c.want {
			t.Errorf("%s%s → %d %q, want %q", c.host, c.path, code, body, c.want)
		}
	}
	if code, _ := fetch(base+"/old", ""); code != 302 {
		t.Errorf("redirect answered %d", code)
	}
}

func TestWeightedForward8020(t *testing.T) {
	ctx, c := setup(t)
	blue, green := newApp(t, "blue"), newApp(t, "green")
	listener, base := alb(t, ctx, c, shared, "weighted", 80, types.Action{Type: types.ActionTypeEnumForward})
	blueTG, greenTG := ipGroup(t, ctx, c, "blue", blue), ipGroup(t, ctx, c, "green", green)
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []types.Action{{
		Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(80)}, {TargetGroupArn: aws.String(greenTG), Weight: aws.Int32(20)},
		}},
	}}})).must(t)
	eventually(t, "both groups served", func() bool { code, body := fetch(base+"/", ""); return code == 200 && body == "green" })
	counts := map[string]int{}
	for range 1000 {
		_, body := fetch(base+"/", "")
		counts[body]++
	}
	if counts["blue"]+counts["green"] != 1000 || counts["blue"] < 760 || counts["blue"] > 840 {
		t.Fatalf("1000 requests went %v, want 800/200 ± 40", counts)
	}
}

// TestHealthAndWaiters: targets go healthy (the CLI's target-in-service
// waiter ends), one that fails its checks leaves rotation within interval
// × threshold and comes back, all failing fails open, and a deregistered
// target drains (target-deregistered ends).
func TestHealthAndWaiters(t *testing.T) {
	ctx, c := setup(t)
	a, b := newApp(t, "a"), newApp(t, "b")
	listener, base := alb(t, ctx, c, shared, "health", 80, types.Action{Type: types.ActionTypeEnumForward})
	tg := ipGroup(t, ctx, c, "pair", a, b)
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []types.Action{forwardTo(tg)}})).must(t)
	try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg),
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("5")}}})).must(t)
	cmd := cli{t: t, url: shared.url, region: c.region}
	target := func(a *server) string { return fmt.Sprintf("Id=127.0.0.1,Port=%d", a.port()) }
	cmd.run(nil, "elbv2", "wait", "target-in-service", "--target-group-arn", tg, "--targets", target(a), target(b))

	served := func(n int) map[string]int {
		counts := map[string]int{}
		for range n {
			_, body := fetch(base+"/", "")
			counts[body]++
		}
		return counts
	}
	if got := served(10); got["a"] != 5 || got["b"] != 5 {
		t.Fatalf("round robin over two healthy targets: %v", got)
	}
	health := func(a *server) types.TargetHealth {
		d := try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{a.target()}})).must(t)
		return *d.TargetHealthDescriptions[0].TargetHealth
	}
	b.setHealth(http.StatusInternalServerError)
	start := time.Now()
	eventually(t, "b unhealthy", func() bool { return health(b).State == types.TargetHealthStateEnumUnhealthy })
	if h := health(b); h.Reason != types.TargetHealthReasonEnumResponseCodeMismatch || time.Since(start) > 16*time.Second {
		t.Errorf("b after failing: %+v after %v", h, time.Since(start))
	}
	if got := served(10); got["b"] != 0 {
		t.Fatalf("an unhealthy target served: %v", got)
	}
	// Every target unhealthy: the load balancer routes to all of them.
	a.setHealth(http.StatusInternalServerError)
	eventually(t, "a unhealthy", func() bool { return health(a).State == types.TargetHealthStateEnumUnhealthy })
	if got := served(10); got["a"] == 0 || got["b"] == 0 {
		t.Fatalf("fail open: %v", got)
	}
	a.setHealth(http.StatusOK)
	b.setHealth(http.StatusOK)
	cmd.run(nil, "elbv2", "wait", "target-in-service", "--target-group-arn", tg, "--targets", target(a), target(b))

	// A slow request in flight on a finishes after a is deregistered,
	// while new requests go to b.
	done := make(chan string, 1)
	go func() {
		for {
			if _, body := fetch(base+"/slow", ""); body != "b slow" {
				done <- body
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond) // the request on a is in flight
	try(c.elbv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{a.target()}})).must(t)
	if h := health(a); h.State != types.TargetHealthStateEnumDraining || h.Reason != types.TargetHealthReasonEnumDeregistrationInProgress {
		t.Errorf("deregistered target: %+v", h)
	}
	// DeregisterTargets answers once the change is stored; the data plane
	// applies it when its next snapshot is published, a moment later on a
	// busy machine. From then on, no new request goes to a.
	eventually(t, "the deregistration applied", func() bool { return served(1)["b"] == 1 && served(1)["b"] == 1 })
	if got := served(10); got["b"] != 10 {
		t.Errorf("new requests during draining: %v", got)
	}
	if body := <-done; body != "a slow" {
		t.Errorf("the in-flight request on the draining target ended with %q", body)
	}
	cmd.run(nil, "elbv2", "wait", "target-deregistered", "--target-group-arn", tg, "--targets", target(a))
}

// TestTwoLoadBalancersOnPort80: each load balancer has its own address.
func TestTwoLoadBalancersOnPort80(t *testing.T) {
	ctx, c := setup(t)
	fixed := func(body string) types.Action {
		return types.Action{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("200"), ContentType: aws.String("text/plain"), MessageBody: aws.String(body)}}
	}
	_, one := alb(t, ctx, c, shared, "one", 80, fixed("one"))
	_, two := alb(t, ctx, c, shared, "two", 80, fixed("two"))
	for base, want := range map[string]string{one: "one", two: "two"} {
		eventually(t, base+" serves", func() bool { code, body := fetch(base+"/", ""); return code == 200 && body == want })
	}
}

// TestUnboundListener: a port that cannot be bound shows in the load
// balancer's state.
func TestUnboundListener(t *testing.T) {
	ctx, c := setup(t)
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("taken"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	address := hostAddress(t, shared, *lb.DNSName)
	ln, err := net.Listen("tcp", net.JoinHostPort(address, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})).must(t)
	eventually(t, "the load balancer impaired", func() bool {
		got := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})).must(t).LoadBalancers[0]
		return got.State.Code == types.LoadBalancerStateEnumActiveImpaired && strings.Contains(aws.ToString(got.State.Reason), "address already in use")
	})
}

// TestUpgradeThroughListener: a WebSocket-style upgrade is joined through.
func TestUpgradeThroughListener(t *testing.T) {
	ctx, c := setup(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			return // health checks
		}
		conn, brw, _ := http.NewResponseController(w).Hijack()
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo " + line)
			brw.Flush()
		}
	}))
	defer echo.Close()
	e := &server{srv: echo}
	listener, base := alb(t, ctx, c, shared, "upgrade", 80, types.Action{Type: types.ActionTypeEnumForward})
	tg := ipGroup(t, ctx, c, "echo", e)
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listener), DefaultActions: []types.Action{forwardTo(tg)}})).must(t)
	eventually(t, "the echo group served", func() bool { code, _ := fetch(base+"/", ""); return code == 200 })
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprint(conn, "hello\n")
	if got, _ := br.ReadString('\n'); got != "echo hello\n" {
		t.Fatalf("echo %q", got)
	}
}

// echoServer is a TCP target that echoes what it reads and passes the
// end of its input on as a half-close.
func echoServer(t *testing.T) types.TargetDescription {
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
			go func() { io.Copy(conn, conn); conn.(*net.TCPConn).CloseWrite() }()
		}
	}()
	return types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(ln.Addr().(*net.TCPAddr).Port))}
}

// nlb creates an NLB whose listener of protocol on port forwards to an
// echo server, and returns the load balancer and the listener's address.
func nlb(t *testing.T, ctx context.Context, c clients, name string, protocol types.ProtocolEnum, port int32, certificates ...string) (types.LoadBalancer, string) {
	t.Helper()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(7),
		VpcId: lb.VpcId, TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{echoServer(t)}})).must(t)
	in := &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: protocol, Port: aws.Int32(port),
		DefaultActions: []types.Action{forwardTo(*tg.TargetGroupArn)}}
	for _, arn := range certificates {
		in.Certificates = append(in.Certificates, types.Certificate{CertificateArn: aws.String(arn)})
	}
	try(c.elbv2.CreateListener(ctx, in)).must(t)
	return lb, net.JoinHostPort(hostAddress(t, shared, *lb.DNSName), strconv.Itoa(int(port)))
}

// TestNLBTCPEcho: an NLB TCP listener joins the connection to a target.
func TestNLBTCPEcho(t *testing.T) {
	ctx, c := setup(t)
	_, addr := nlb(t, ctx, c, "tcp", types.ProtocolEnumTcp, 7000)
	var got string
	eventually(t, "a TCP echo", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		fmt.Fprint(conn, "ping")
		conn.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(conn)
		got = string(b)
		return got == "ping"
	})
}

// TestNLBUDPEcho: an NLB UDP listener forwards a client's datagrams to a
// target and its answers back.
func TestNLBUDPEcho(t *testing.T) {
	ctx, c := setup(t)
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(buf[:n], from)
		}
	}()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("udp"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("udp-echo"), Protocol: types.ProtocolEnumUdp, Port: aws.Int32(53),
		VpcId: lb.VpcId, TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(echo.LocalAddr().(*net.UDPAddr).Port))}}})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumUdp, Port: aws.Int32(5353),
		DefaultActions: []types.Action{forwardTo(*tg.TargetGroupArn)}})).must(t)
	addr := net.JoinHostPort(hostAddress(t, shared, *lb.DNSName), "5353")
	eventually(t, "a UDP echo", func() bool {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		fmt.Fprint(conn, "ping")
		conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 100)
		n, err := conn.Read(buf)
		return err == nil && string(buf[:n]) == "ping"
	})
}

// TestTaskReachesLoadBalancerByName: with load balancers on addresses
// that containers can reach (a non-loopback range made local, as the
// README says), a task calls a load balancer by its DNS name.
func TestTaskReachesLoadBalancerByName(t *testing.T) {
	t.Parallel()
	const network = "10.231.0.0/16"
	if out, err := exec.Command("ip", "route", "replace", "local", network, "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("making %s local (this needs root): %v %s", network, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "route", "del", "local", network, "dev", "lo").Run() })
	b := startT(t, t.TempDir(), "--lb-network", network)
	ctx, c := context.Background(), b.clients("us-east-1")
	try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("internal"), Scheme: types.LoadBalancerSchemeEnumInternal,
		Subnets: subnets(t, ctx, c)[:2]})).must(t)
	lbs := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t).LoadBalancers
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lbs[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})).must(t)
	address := hostAddress(t, b, *lbs[0].DNSName)
	eventually(t, "the listener", func() bool { code, _ := fetch("http://"+address+"/", ""); return code == 200 })

	register(t, ctx, c, "probe", ecstypes.NetworkModeBridge, app("probe", "check", "http://"+strings.ToLower(*lbs[0].DNSName)+"/"))
	task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("probe")}).TaskArn)
	if code := aws.ToInt32(task.Containers[0].ExitCode); code != 0 {
		t.Fatalf("the task could not reach the load balancer by name: exit %d", code)
	}
}
