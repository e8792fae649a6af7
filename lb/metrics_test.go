package lb

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"berth/lb/rules"
)

// TestCountersConcurrent adds from many goroutines at once: every count
// arrives, and a take returns what came since the previous one.
func TestCountersConcurrent(t *testing.T) {
	var s lbStats
	var p pairStats
	const workers, each = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				s.answered(404)
				s.answered(502)
				p.chosen()
				p.responded(200+100*(i%4), time.Duration(w*each+i+1)*time.Microsecond)
				s.conns.begin()
				s.conns.end()
			}
		})
	}
	wg.Wait()
	if got := s.elb[elb4XX].Swap(0); got != workers*each {
		t.Errorf("4XX = %d, want %d", got, workers*each)
	}
	if got5, got502 := s.elb[elb5XX].Load(), s.elb[elb502].Load(); got5 != workers*each || got502 != workers*each {
		t.Errorf("5XX, 502 = %d, %d, want %d each", got5, got502, workers*each)
	}
	if got := p.requests.Load(); got != workers*each {
		t.Errorf("requests = %d", got)
	}
	for c := range p.target {
		if got := p.target[c].Load(); got != workers*each/4 {
			t.Errorf("target class %dXX = %d, want %d", c+2, got, workers*each/4)
		}
	}
	rt := p.responseTime.take()
	n := int64(workers * each)
	if rt.Count != n || rt.Min != time.Microsecond || rt.Max != time.Duration(n)*time.Microsecond ||
		rt.Sum != time.Duration(n*(n+1)/2)*time.Microsecond {
		t.Errorf("response time %+v", rt)
	}
	if again := p.responseTime.take(); again != (Timing{}) {
		t.Errorf("a second take = %+v, want nothing", again)
	}
	opened, peak := s.conns.take()
	if opened != n || peak < 1 || peak > workers {
		t.Errorf("connections: %d opened, peak %d", opened, peak)
	}
	if opened, peak := s.conns.take(); opened != 0 || peak != 0 {
		t.Errorf("connections after a take: %d opened, peak %d", opened, peak)
	}
}

// TestMetricsOfALB sends known requests through an ALB and reads them back
// as Metrics reports them, as AWS defines them: RequestCount only for
// requests a target was chosen for, the load balancer's own answers
// (fixed responses, redirects, 503 for a group with no target) in the
// HTTPCode_ELB_ classes.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
func TestMetricsOfALB(t *testing.T) {
	h := newHarness(t)
	api := newBackend(t, "api")
	addr := loopback()
	port := freePort(t, addr)
	cfg := alb(addr, port, []Rule{
		{ARN: "r1", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/api/*"}}}, Action: forward("api")},
		{ARN: "r2", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/empty/*"}}}, Action: forward("empty")},
		{ARN: "r3", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/old/*"}}},
			Action: Action{Type: "redirect", Redirect: &Redirect{Path: "/new", StatusCode: 301}}},
		{ARN: "default", Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 404}}},
	}, tgroup("api", api), TargetGroup{ARN: "empty", Protocol: "HTTP"})
	h.apply(cfg)
	base := fmt.Sprintf("http://%s:%d", addr, port)
	// Answering is not yet healthy: with no healthy target the ALB fails
	// open and routes to all.
	eventually(t, "target answering", func() bool { _, body, _ := get(t, base+"/api/x"); return body == "api" })
	eventually(t, "target healthy", func() bool {
		return slices.ContainsFunc(h.m.Metrics().TargetGroups, func(p TargetGroupMetrics) bool { return p.TargetGroupARN == "api" && p.Healthy == 1 })
	})
	h.m.Metrics() // what the waits sent

	for range 7 {
		if code, _, _ := get(t, base+"/api/x"); code != 200 {
			t.Fatalf("GET /api/x: %d", code)
		}
	}
	for range 3 {
		get(t, base+"/nothing")
	}
	for range 2 {
		get(t, base+"/old/x")
	}
	get(t, base+"/empty/x")

	m := h.m.Metrics()
	if len(m.LoadBalancers) != 1 {
		t.Fatalf("load balancers %+v", m.LoadBalancers)
	}
	l := m.LoadBalancers[0]
	if l.ARN != cfg.LoadBalancers[0].ARN || l.Type != "application" || l.ELB4XX != 3 || l.ELB3XX != 2 || l.ELB5XX != 1 || l.ELB503 != 1 ||
		l.FixedResponses != 3 || l.Redirects != 2 || l.ProcessedBytes == 0 || l.PeakConnections == 0 {
		t.Errorf("load balancer %+v", l)
	}
	pairs := map[string]TargetGroupMetrics{}
	for _, p := range m.TargetGroups {
		pairs[p.TargetGroupARN] = p
	}
	p := pairs["api"]
	if p.LoadBalancerARN != l.ARN || p.Requests != 7 || p.Target2XX != 7 || p.Target4XX != 0 || p.ResponseTime.Count != 7 ||
		p.ResponseTime.Min <= 0 || p.ResponseTime.Max < p.ResponseTime.Min || p.Healthy != 1 || p.Registered != 1 {
		t.Errorf("api group %+v", p)
	}
	if e := pairs["empty"]; e.Requests != 0 || e.Registered != 0 {
		t.Errorf("empty group %+v", e)
	}

	// A second call reports only what came since: nothing, health aside.
	m = h.m.Metrics()
	for _, p := range m.TargetGroups {
		if p.TargetGroupARN == "api" && (p.Requests != 0 || p.Target2XX != 0 || p.ResponseTime.Count != 0 || p.Healthy != 1) {
			t.Errorf("api group again %+v", p)
		}
	}
	if l := m.LoadBalancers[0]; l.ELB4XX != 0 || l.FixedResponses != 0 || l.ProcessedBytes != 0 {
		t.Errorf("load balancer again %+v", l)
	}

	// A load balancer removed is reported once more, then no longer.
	h.apply(Config{})
	if m := h.m.Metrics(); len(m.LoadBalancers) != 1 || len(m.TargetGroups) != 2 {
		t.Errorf("after removal %+v", m)
	}
	if m := h.m.Metrics(); len(m.LoadBalancers) != 0 || len(m.TargetGroups) != 0 {
		t.Errorf("later %+v", m)
	}
}

// TestMetricsOfNLB counts an NLB's TCP flow and its bytes both ways.
func TestMetricsOfNLB(t *testing.T) {
	h := newHarness(t)
	echo := tcpEcho(t)
	addr := loopback()
	port := freePort(t, addr)
	h.apply(Config{
		TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: "TCP",
			Targets: []Target{echo}}},
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: "network", Address: addr,
			Listeners: []Listener{{ARN: "l", Protocol: "TCP", Port: port, Rules: []Rule{{Action: forward("tg")}}}}}},
	})
	const msg = "ping over tcp"
	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, msg)
	conn.(*net.TCPConn).CloseWrite()
	if got, _ := io.ReadAll(conn); string(got) != msg {
		t.Fatalf("echo %q", got)
	}
	conn.Close()
	var tcp FlowMetrics
	eventually(t, "the flow counted", func() bool {
		for _, l := range h.m.Metrics().LoadBalancers {
			for _, f := range l.Flows {
				if f.Protocol == "TCP" {
					tcp.New += f.New
					tcp.Bytes += f.Bytes
					tcp.Peak = max(tcp.Peak, f.Peak)
				}
			}
		}
		return tcp.Bytes >= 2*int64(len(msg))
	})
	if tcp.New != 1 || tcp.Peak != 1 || tcp.Bytes != 2*int64(len(msg)) {
		t.Errorf("TCP flows %+v", tcp)
	}
}

// TestMetricsOfUnreachableTarget: a request for which a target was chosen
// but could not be connected to counts as a request, a target connection
// error and the load balancer's 502.
func TestMetricsOfUnreachableTarget(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := loopback()
	port := freePort(t, addr)
	h.apply(alb(addr, port, []Rule{{Action: forward("tg")}},
		TargetGroup{ARN: "tg", Protocol: "HTTP", Targets: []Target{{ID: "127.0.0.1", Port: closed, Host: "127.0.0.1"}}}))
	if code, _, _ := get(t, fmt.Sprintf("http://%s:%d/", addr, port)); code != 502 {
		t.Fatalf("answered %d, want 502", code)
	}
	m := h.m.Metrics()
	if l := m.LoadBalancers[0]; l.ELB502 != 1 || l.ELB5XX != 1 {
		t.Errorf("load balancer %+v", l)
	}
	if p := m.TargetGroups[0]; p.Requests != 1 || p.ConnectionErrors != 1 || p.ResponseTime.Count != 0 {
		t.Errorf("group %+v", p)
	}
}
