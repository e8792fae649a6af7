package health

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"berth/lb/balance"
)

func checker(reports *[]Status) *Checker {
	return &Checker{
		Config: Config{Protocol: "HTTP", Port: "traffic-port", Path: "/", Matcher: "200-299",
			Interval: time.Second, Timeout: time.Second, HealthyThreshold: 3, UnhealthyThreshold: 2},
		Target: &balance.Target{},
		Now:    time.Now,
		Report: func(s Status) { *reports = append(*reports, s) },
	}
}

var (
	pass     = Result{Passed: true}
	mismatch = Result{Reason: ResponseCodeMismatch, Description: "Health checks failed with these codes: [500]"}
	timeout  = Result{Reason: Timeout, Description: "Request timed out"}
)

func TestTransitions(t *testing.T) {
	var reports []Status
	c := checker(&reports)
	// A new target: one failure keeps it initial, one pass makes it healthy.
	c.Observe(mismatch)
	if c.status.Health != balance.Initial || c.status.Reason != InitialHealthChecking {
		t.Fatalf("after one failure: %+v", c.status)
	}
	c.Observe(pass)
	if c.status.Health != balance.Healthy || c.Target.Health() != balance.Healthy {
		t.Fatalf("after a pass: %+v", c.status)
	}
	// Healthy: the unhealthy threshold (2) of failures in a row.
	c.Observe(mismatch)
	c.Observe(pass)
	c.Observe(mismatch)
	if c.status.Health != balance.Healthy {
		t.Fatalf("failures not in a row turned it: %+v", c.status)
	}
	c.Observe(timeout)
	if c.status != (Status{balance.Unhealthy, Timeout, "Request timed out"}) {
		t.Fatalf("after 2 failures: %+v", c.status)
	}
	// Unhealthy: the healthy threshold (3) of passes in a row.
	c.Observe(pass)
	c.Observe(pass)
	if c.status.Health != balance.Unhealthy {
		t.Fatalf("2 passes turned it: %+v", c.status)
	}
	c.Observe(pass)
	if c.status.Health != balance.Healthy {
		t.Fatalf("3 passes did not: %+v", c.status)
	}
	want := []balance.Health{balance.Initial, balance.Healthy, balance.Unhealthy, balance.Healthy}
	if len(reports) != len(want) {
		t.Fatalf("reports %+v", reports)
	}
	for i, r := range reports {
		if r.Health != want[i] {
			t.Fatalf("reports %+v", reports)
		}
	}
	// A new target failing the unhealthy threshold is unhealthy.
	c = checker(&reports)
	c.Observe(mismatch)
	c.Observe(mismatch)
	if c.status != (Status{balance.Unhealthy, mismatch.Reason, mismatch.Description}) {
		t.Fatalf("new target after 2 failures: %+v", c.status)
	}
}

func TestProbe(t *testing.T) {
	code := http.StatusOK
	delay := time.Duration(0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" || r.Header.Get("User-Agent") != "ELB-HealthChecker/2.0" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		time.Sleep(delay)
		w.WriteHeader(code)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	var reports []Status
	c := checker(&reports)
	c.Config.Path, c.Config.Timeout = "/health", 200*time.Millisecond
	c.Host, c.TrafficPort = u.Hostname(), port
	c.client = http.DefaultClient
	ctx := context.Background()
	if r := c.probe(ctx); !r.Passed {
		t.Fatalf("probe: %+v", r)
	}
	code = http.StatusInternalServerError
	if r := c.probe(ctx); r.Reason != ResponseCodeMismatch || r.Description != "Health checks failed with these codes: [500]" {
		t.Fatalf("probe of a 500: %+v", r)
	}
	code, delay = http.StatusOK, time.Second
	if r := c.probe(ctx); r.Reason != Timeout {
		t.Fatalf("probe of a slow target: %+v", r)
	}
	c.Config.Port = "1" // nothing listens there
	if r := c.probe(ctx); r.Reason != FailedHealthChecks {
		t.Fatalf("probe of a closed port: %+v", r)
	}
	c.Config.Protocol, c.Config.Port = "TCP", "traffic-port"
	if r := c.probe(ctx); !r.Passed {
		t.Fatalf("TCP probe: %+v", r)
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		matcher string
		code    int
		want    bool
	}{
		{"200", 200, true}, {"200", 201, false}, {"200,202", 202, true}, {"200-299", 250, true},
		{"200-299", 300, false}, {"200-399,404", 404, true}, {"", 200, false},
	} {
		if got := Matches(c.matcher, c.code); got != c.want {
			t.Errorf("Matches(%q, %d) = %v", c.matcher, c.code, got)
		}
	}
}

// TestFirstCheckRetried: a new target whose server answers only after a
// few checks turns healthy within its first interval; one that never
// passes counts one failure in that interval, as without the retries.
func TestFirstCheckRetried(t *testing.T) {
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probes.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	c := checker(new([]Status))
	c.Config.Interval = time.Minute
	c.Host, c.TrafficPort = u.Hostname(), port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	for deadline := time.Now().Add(5 * time.Second); c.Target.Health() != balance.Healthy; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after %d probes", probes.Load())
		}
	}
	cancel()

	never := checker(new([]Status))
	never.Config.Interval = time.Minute
	never.Host, never.TrafficPort = "127.0.0.1", 1 // nothing listens on port 1
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	never.Run(ctx)
	if never.fails != 1 || never.status.Health != balance.Initial {
		t.Fatalf("a target that never passes: %d failures, %+v", never.fails, never.status)
	}
}

// TestKnownStatusKept: a target that was healthy when berth stopped starts
// healthy, without registering again, and turns unhealthy only after the
// unhealthy threshold of failed checks, as on a load balancer that kept
// running (target-group-health-checks.html: "UnhealthyThresholdCount: the
// number of consecutive failed health checks required before considering
// a target unhealthy").
func TestKnownStatusKept(t *testing.T) {
	var reports []Status
	c := checker(&reports)
	c.Known = Status{Health: balance.Healthy}
	c.Config.Interval = 20 * time.Millisecond
	c.Config.Timeout = 10 * time.Millisecond
	c.Host, c.TrafficPort = "127.0.0.1", 1 // nothing listens on port 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	for deadline := time.Now().Add(5 * time.Second); c.Target.Health() != balance.Unhealthy; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not unhealthy: %+v", c.Target.Health())
		}
	}
	cancel()
	<-done
	if len(reports) == 0 || reports[0].Health != balance.Unhealthy {
		t.Fatalf("reports %+v: want unhealthy first, never initial", reports)
	}
	if c.fails < c.Config.UnhealthyThreshold {
		t.Fatalf("unhealthy after %d failures", c.fails)
	}
}
