package elbv2

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/lb"
)

type fixedSource struct{ m lb.Metrics }

func (s fixedSource) Metrics() lb.Metrics { return s.m }

// recordingSink keeps what is published, by "account/region namespace
// metric dimensions".
type recordingSink struct {
	mu  sync.Mutex
	got map[string]cwtypes.MetricDatum
}

func (s *recordingSink) Publish(ctx context.Context, ns string, data []cwtypes.MetricDatum) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	scope := backend.ScopeFrom(ctx)
	for _, d := range data {
		var dims []string
		for _, dm := range d.Dimensions {
			dims = append(dims, *dm.Name+"="+*dm.Value)
		}
		sort.Strings(dims)
		s.got[scope.Account+"/"+scope.Region+" "+ns+" "+*d.MetricName+" "+strings.Join(dims, ",")] = d
	}
	return nil
}

const (
	testALB = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188"
	testNLB = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/tcp/73e2d6bc24d8a067"
	testTG  = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/943f017f100becff"
	testTG2 = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tcp/6d0ecf831eec9f09"
)

// TestMetricDatums checks the names, dimensions, units and statistics of
// what is published against the ELB guides.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
func TestMetricDatums(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	sink := &recordingSink{got: map[string]cwtypes.MetricDatum{}}
	p := &MetricsPublisher{Sink: sink, Log: zerolog.Nop(), Source: fixedSource{lb.Metrics{
		LoadBalancers: []lb.LoadBalancerMetrics{
			{ARN: testALB, Type: "application", ELB4XX: 3, FixedResponses: 3, ProcessedBytes: 4096, NewConnections: 2, PeakConnections: 2},
			{ARN: testNLB, Type: "network", Flows: []lb.FlowMetrics{{Protocol: "TCP", New: 1, Peak: 1, Bytes: 26}, {Protocol: "UDP"}}},
		},
		TargetGroups: []lb.TargetGroupMetrics{
			{LoadBalancerARN: testALB, TargetGroupARN: testTG, Requests: 10, Target2XX: 8, Target5XX: 2,
				ResponseTime:     lb.Timing{Count: 10, Sum: 50 * time.Millisecond, Min: time.Millisecond, Max: 20 * time.Millisecond},
				ConnectionErrors: 1, Healthy: 2, Unhealthy: 1, Registered: 3},
			{LoadBalancerARN: testNLB, TargetGroupARN: testTG2, Healthy: 1, Registered: 1},
		},
	}}}
	p.Flush(context.Background(), at)

	const scope = "111122223333/eu-west-1 "
	alb, nlb := scope+"AWS/ApplicationELB ", scope+"AWS/NetworkELB "
	lbDim, tgDim := "LoadBalancer=app/web/50dc6c495c0c9188", "TargetGroup=targetgroup/api/943f017f100becff"
	pair := lbDim + "," + tgDim
	type want struct {
		unit          cwtypes.StandardUnit
		value         float64 // Value, or Sum of a statistic set
		count, lo, hi float64 // a statistic set's; 0 for a Value
		key           string
	}
	for _, w := range []want{
		{cwtypes.StandardUnitCount, 10, 10, 1, 1, alb + "RequestCount " + lbDim},
		{cwtypes.StandardUnitCount, 10, 10, 1, 1, alb + "RequestCount " + pair},
		{cwtypes.StandardUnitCount, 8, 8, 1, 1, alb + "HTTPCode_Target_2XX_Count " + pair},
		{cwtypes.StandardUnitCount, 8, 8, 1, 1, alb + "HTTPCode_Target_2XX_Count " + lbDim},
		{cwtypes.StandardUnitCount, 2, 2, 1, 1, alb + "HTTPCode_Target_5XX_Count " + pair},
		{cwtypes.StandardUnitCount, 2, 2, 1, 1, alb + "HTTPCode_Target_5XX_Count " + lbDim},
		{cwtypes.StandardUnitCount, 3, 3, 1, 1, alb + "HTTPCode_ELB_4XX_Count " + lbDim},
		{cwtypes.StandardUnitCount, 1, 1, 1, 1, alb + "TargetConnectionErrorCount " + lbDim},
		{cwtypes.StandardUnitCount, 1, 1, 1, 1, alb + "TargetConnectionErrorCount " + pair},
		{cwtypes.StandardUnitCount, 3, 3, 1, 1, alb + "HTTP_Fixed_Response_Count " + lbDim},
		{cwtypes.StandardUnitCount, 2, 2, 1, 1, alb + "NewConnectionCount " + lbDim},
		{cwtypes.StandardUnitCount, 2, 0, 0, 0, alb + "ActiveConnectionCount " + lbDim},
		{cwtypes.StandardUnitBytes, 4096, 0, 0, 0, alb + "ProcessedBytes " + lbDim},
		{cwtypes.StandardUnitSeconds, 0.05, 10, 0.001, 0.02, alb + "TargetResponseTime " + pair},
		{cwtypes.StandardUnitSeconds, 0.05, 10, 0.001, 0.02, alb + "TargetResponseTime " + lbDim},
		{cwtypes.StandardUnitCount, 2, 0, 0, 0, alb + "HealthyHostCount " + pair},
		{cwtypes.StandardUnitCount, 1, 0, 0, 0, alb + "UnHealthyHostCount " + pair},
		// 10 requests over 2 healthy targets.
		{cwtypes.StandardUnitCount, 5, 0, 0, 0, alb + "RequestCountPerTarget " + pair},
		{cwtypes.StandardUnitCount, 5, 0, 0, 0, alb + "RequestCountPerTarget " + tgDim},
		{cwtypes.StandardUnitCount, 1, 0, 0, 0, nlb + "ActiveFlowCount LoadBalancer=net/tcp/73e2d6bc24d8a067"},
		{cwtypes.StandardUnitCount, 1, 1, 1, 1, nlb + "NewFlowCount LoadBalancer=net/tcp/73e2d6bc24d8a067"},
		{cwtypes.StandardUnitCount, 1, 1, 1, 1, nlb + "NewFlowCount_TCP LoadBalancer=net/tcp/73e2d6bc24d8a067"},
		{cwtypes.StandardUnitBytes, 26, 0, 0, 0, nlb + "ProcessedBytes LoadBalancer=net/tcp/73e2d6bc24d8a067"},
		{cwtypes.StandardUnitBytes, 26, 0, 0, 0, nlb + "ProcessedBytes_TCP LoadBalancer=net/tcp/73e2d6bc24d8a067"},
		{cwtypes.StandardUnitCount, 1, 0, 0, 0, nlb + "HealthyHostCount LoadBalancer=net/tcp/73e2d6bc24d8a067,TargetGroup=targetgroup/tcp/6d0ecf831eec9f09"},
	} {
		d, ok := sink.got[w.key]
		if !ok {
			t.Errorf("missing %s", w.key)
			continue
		}
		delete(sink.got, w.key)
		if d.Unit != w.unit || !aws.ToTime(d.Timestamp).Equal(at) {
			t.Errorf("%s: unit %s at %v", w.key, d.Unit, d.Timestamp)
		}
		if s := d.StatisticValues; w.count > 0 {
			if s == nil || !near(*s.Sum, w.value) || *s.SampleCount != w.count || !near(*s.Minimum, w.lo) || !near(*s.Maximum, w.hi) {
				t.Errorf("%s: statistics %+v", w.key, s)
			}
		} else if d.Value == nil || *d.Value != w.value {
			t.Errorf("%s: value %v", w.key, aws.ToFloat64(d.Value))
		}
	}
	// Counts that are zero are not published; nor is anything by zone.
	for key := range sink.got {
		switch {
		case strings.Contains(key, "_TCP"), strings.Contains(key, "UnHealthyHostCount"):
		default:
			t.Errorf("published %s too", key)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestPerTargetFailsOpen divides by the registered targets when none is
// healthy, as the ALB guide says of RequestCountPerTarget.
func TestPerTargetFailsOpen(t *testing.T) {
	if got := perTarget(12, 0, 4); got != 3 {
		t.Errorf("12 requests, no healthy of 4 targets: %v, want 3", got)
	}
	if got := perTarget(12, 3, 4); got != 4 {
		t.Errorf("12 requests, 3 healthy of 4: %v, want 4", got)
	}
}

// countingSource reports one new request per call.
type countingSource struct {
	mu    sync.Mutex
	calls int
}

func (s *countingSource) Metrics() lb.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return lb.Metrics{LoadBalancers: []lb.LoadBalancerMetrics{{ARN: testALB, Type: "application"}},
		TargetGroups: []lb.TargetGroupMetrics{{LoadBalancerARN: testALB, TargetGroupARN: testTG, Requests: 1}}}
}

// stampSink keeps the timestamps of RequestCount by load balancer.
type stampSink struct {
	mu     sync.Mutex
	stamps []time.Time
}

func (s *stampSink) Publish(_ context.Context, _ string, data []cwtypes.MetricDatum) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range data {
		if *d.MetricName == "RequestCount" && len(d.Dimensions) == 1 {
			s.stamps = append(s.stamps, *d.Timestamp)
		}
	}
	return nil
}

// TestPublisherRuns publishes every interval, each datapoint stamped with
// the start of its interval (a multiple of the interval, as CloudWatch's
// periods are), and once more when stopped.
func TestPublisherRuns(t *testing.T) {
	const interval = 20 * time.Millisecond
	src, sink := &countingSource{}, &stampSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&MetricsPublisher{Source: src, Sink: sink, Clock: time.Now, Interval: interval, Log: zerolog.Nop()}).Run(ctx)
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(interval) {
		sink.mu.Lock()
		n := len(sink.stamps)
		sink.mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d flushes in 10 s", n)
		}
	}
	cancel()
	<-done
	src.mu.Lock()
	defer src.mu.Unlock()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.stamps) != src.calls {
		t.Errorf("%d datapoints of %d flushes (the last on stopping)", len(sink.stamps), src.calls)
	}
	for i, s := range sink.stamps {
		if !s.Equal(s.Truncate(interval)) || i > 0 && !s.After(sink.stamps[i-1]) {
			t.Errorf("stamps %v: not aligned, or not increasing", sink.stamps)
			break
		}
	}
}
