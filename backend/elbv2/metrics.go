package elbv2

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/lb"
)

// The metrics load balancers publish to CloudWatch: what the data plane
// counted (lb.Manager.Metrics) becomes, every interval, the datapoints of
// AWS/ApplicationELB and AWS/NetworkELB, with the names, dimensions and
// units the Elastic Load Balancing guides give them, in the account and
// region of each load balancer.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
//
// Counts (requests, response codes, connections) are published as
// statistic sets of ones, so that Sum is the count and Minimum, Maximum
// and Average are 1, as those pages say; TargetResponseTime as a set of
// the period's response times (so Average, Minimum and Maximum are
// right). As ELB does, a count is published only for periods in which it
// is not zero; host counts and RequestCountPerTarget ("Reported if there
// are registered targets", "Always reported") every period a target
// group has registered targets, and the NLB's flow and byte counts every
// period. The AvailabilityZone dimensions are not published: berth's
// load balancer is one node, in no zone of its own.

// MetricSource is what counts the traffic: *lb.Manager.
type MetricSource interface {
	// Metrics returns what was counted since the previous call.
	Metrics() lb.Metrics
}

// MetricSink stores datapoints in an AWS/ namespace, in the scope of ctx
// (backend.WithScope): the CloudWatch backend's Publish.
type MetricSink interface {
	Publish(ctx context.Context, namespace string, data []cwtypes.MetricDatum) error
}

// Namespaces of the load balancers' metrics.
const (
	namespaceALB = "AWS/ApplicationELB"
	namespaceNLB = "AWS/NetworkELB"
)

// DefaultMetricsInterval is how often ELB sends its metrics: "in
// 60-second intervals" (the ALB metrics page above).
const DefaultMetricsInterval = time.Minute

// maxPublish is the most datapoints one Publish takes, as PutMetricData.
const maxPublish = 1000

// MetricsPublisher publishes what Source counts into Sink every Interval.
type MetricsPublisher struct {
	Source MetricSource
	Sink   MetricSink
	// Clock stamps the datapoints: each is stamped with the start of the
	// interval it counts.
	Clock func() time.Time
	// Interval is DefaultMetricsInterval when zero. Intervals are aligned
	// to multiples of it (whole minutes by default), as CloudWatch's
	// periods are.
	Interval time.Duration
	Log      zerolog.Logger
}

// Run publishes until ctx ends, then publishes what was counted since the
// last time once more.
func (p *MetricsPublisher) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultMetricsInterval
	}
	start := p.Clock()
	for {
		wait := start.Truncate(interval).Add(interval).Sub(p.Clock())
		timer := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			timer.Stop()
			p.Flush(context.WithoutCancel(ctx), start.Truncate(interval))
			return
		case <-timer.C:
		}
		stamp := start.Truncate(interval)
		start = p.Clock()
		p.Flush(ctx, stamp)
	}
}

// Flush takes what Source counted since the last time and publishes it,
// stamped at.
func (p *MetricsPublisher) Flush(ctx context.Context, at time.Time) {
	batches := datums(p.Source.Metrics(), at)
	keys := make([]publishKey, 0, len(batches))
	for k := range batches {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		data := batches[k]
		sctx := backend.WithScope(ctx, k.scope)
		for len(data) > 0 {
			n := min(len(data), maxPublish)
			if err := p.Sink.Publish(sctx, k.namespace, data[:n]); err != nil {
				p.Log.Error().Err(err).Str("namespace", k.namespace).Str("account", k.scope.Account).Str("region", k.scope.Region).
					Msg("publishing load balancer metrics")
			}
			data = data[n:]
		}
	}
}

// publishKey is where a batch of datapoints goes.
type publishKey struct {
	scope     backend.Scope
	namespace string
}

func (k publishKey) String() string {
	return k.scope.Account + "/" + k.scope.Region + "/" + k.namespace
}

// arnParts splits an ELBv2 ARN into its scope and the dimension value
// CloudWatch names it by: the ARN's last part, without "loadbalancer/"
// ("app/web/0123456789abcdef", "targetgroup/api/0123456789abcdef").
func arnParts(arn string) (backend.Scope, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return backend.Scope{}, "", false
	}
	return backend.Scope{Region: parts[3], Account: parts[4]}, strings.TrimPrefix(parts[5], "loadbalancer/"), true
}

// namespaceOf is the namespace of a load balancer by its dimension value.
func namespaceOf(lbDim string) string {
	if strings.HasPrefix(lbDim, "net/") {
		return namespaceNLB
	}
	return namespaceALB
}

// datums turns one interval's counts into datapoints, by destination.
func datums(m lb.Metrics, at time.Time) map[publishKey][]cwtypes.MetricDatum {
	out := map[publishKey][]cwtypes.MetricDatum{}
	put := func(scope backend.Scope, ns string, d cwtypes.MetricDatum) {
		d.Timestamp = aws.Time(at)
		k := publishKey{scope, ns}
		out[k] = append(out[k], d)
	}

	// Target groups: by pair, and summed by load balancer and by group.
	type sums struct {
		requests, connectErrors int64
		codes                   [4]int64
		timing                  lb.Timing
		healthy, registered     int
	}
	byLB, byTG := map[string]*sums{}, map[string]*sums{}
	for _, g := range m.TargetGroups {
		scope, lbDim, ok := arnParts(g.LoadBalancerARN)
		_, tgDim, ok2 := arnParts(g.TargetGroupARN)
		if !ok || !ok2 {
			continue
		}
		ns := namespaceOf(lbDim)
		dims := []cwtypes.Dimension{dim("TargetGroup", tgDim), dim("LoadBalancer", lbDim)}
		codes := [4]int64{g.Target2XX, g.Target3XX, g.Target4XX, g.Target5XX}
		if ns == namespaceALB {
			count(put, scope, ns, "RequestCount", dims, g.Requests)
			for i, n := range codes {
				count(put, scope, ns, targetCodes[i], dims, n)
			}
			responseTime(put, scope, ns, dims, g.ResponseTime)
			count(put, scope, ns, "TargetConnectionErrorCount", dims, g.ConnectionErrors)
		}
		if g.Registered > 0 {
			gauge(put, scope, ns, "HealthyHostCount", dims, float64(g.Healthy), cwtypes.StandardUnitCount)
			gauge(put, scope, ns, "UnHealthyHostCount", dims, float64(g.Unhealthy), cwtypes.StandardUnitCount)
			if ns == namespaceALB {
				gauge(put, scope, ns, "RequestCountPerTarget", dims, perTarget(g.Requests, g.Healthy, g.Registered), cwtypes.StandardUnitCount)
			}
		}
		for _, s := range []*sums{sumOf(byLB, g.LoadBalancerARN), sumOf(byTG, g.TargetGroupARN)} {
			s.requests += g.Requests
			s.connectErrors += g.ConnectionErrors
			for i, n := range codes {
				s.codes[i] += n
			}
			s.timing = merge(s.timing, g.ResponseTime)
			s.healthy, s.registered = g.Healthy, g.Registered
		}
	}
	// RequestCountPerTarget by TargetGroup alone: the group's requests
	// from every load balancer, over its targets.
	for tgARN, s := range byTG {
		scope, tgDim, ok := arnParts(tgARN)
		if ok && s.registered > 0 && strings.HasPrefix(tgDim, "targetgroup/") && isALBGroup(m, tgARN) {
			gauge(put, scope, namespaceALB, "RequestCountPerTarget", []cwtypes.Dimension{dim("TargetGroup", tgDim)},
				perTarget(s.requests, s.healthy, s.registered), cwtypes.StandardUnitCount)
		}
	}

	for _, l := range m.LoadBalancers {
		scope, lbDim, ok := arnParts(l.ARN)
		if !ok {
			continue
		}
		dims := []cwtypes.Dimension{dim("LoadBalancer", lbDim)}
		if l.Type == "network" {
			var active, flows, bytes int64
			for _, f := range l.Flows {
				active, flows, bytes = active+f.Peak, flows+f.New, bytes+f.Bytes
				if f.Peak > 0 {
					gauge(put, scope, namespaceNLB, "ActiveFlowCount_"+f.Protocol, dims, float64(f.Peak), cwtypes.StandardUnitCount)
				}
				count(put, scope, namespaceNLB, "NewFlowCount_"+f.Protocol, dims, f.New)
				if f.Bytes > 0 {
					gauge(put, scope, namespaceNLB, "ProcessedBytes_"+f.Protocol, dims, float64(f.Bytes), cwtypes.StandardUnitBytes)
				}
			}
			// "Reporting criteria: Always reported."
			gauge(put, scope, namespaceNLB, "ActiveFlowCount", dims, float64(active), cwtypes.StandardUnitCount)
			if flows > 0 {
				count(put, scope, namespaceNLB, "NewFlowCount", dims, flows)
			} else {
				gauge(put, scope, namespaceNLB, "NewFlowCount", dims, 0, cwtypes.StandardUnitCount)
			}
			gauge(put, scope, namespaceNLB, "ProcessedBytes", dims, float64(bytes), cwtypes.StandardUnitBytes)
			continue
		}
		for _, c := range []struct {
			name string
			n    int64
		}{
			{"HTTPCode_ELB_3XX_Count", l.ELB3XX}, {"HTTPCode_ELB_4XX_Count", l.ELB4XX}, {"HTTPCode_ELB_5XX_Count", l.ELB5XX},
			{"HTTPCode_ELB_500_Count", l.ELB500}, {"HTTPCode_ELB_502_Count", l.ELB502}, {"HTTPCode_ELB_503_Count", l.ELB503},
			{"HTTPCode_ELB_504_Count", l.ELB504}, {"HTTP_Fixed_Response_Count", l.FixedResponses}, {"HTTP_Redirect_Count", l.Redirects},
			{"NewConnectionCount", l.NewConnections},
		} {
			count(put, scope, namespaceALB, c.name, dims, c.n)
		}
		if l.PeakConnections > 0 {
			gauge(put, scope, namespaceALB, "ActiveConnectionCount", dims, float64(l.PeakConnections), cwtypes.StandardUnitCount)
		}
		if l.ProcessedBytes > 0 {
			gauge(put, scope, namespaceALB, "ProcessedBytes", dims, float64(l.ProcessedBytes), cwtypes.StandardUnitBytes)
		}
		if s := byLB[l.ARN]; s != nil {
			count(put, scope, namespaceALB, "RequestCount", dims, s.requests)
			for i, n := range s.codes {
				count(put, scope, namespaceALB, targetCodes[i], dims, n)
			}
			responseTime(put, scope, namespaceALB, dims, s.timing)
			count(put, scope, namespaceALB, "TargetConnectionErrorCount", dims, s.connectErrors)
		}
	}
	return out
}

var targetCodes = [4]string{"HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count"}

// isALBGroup reports whether a target group is behind an ALB.
func isALBGroup(m lb.Metrics, tgARN string) bool {
	for _, g := range m.TargetGroups {
		if g.TargetGroupARN == tgARN {
			_, lbDim, _ := arnParts(g.LoadBalancerARN)
			return namespaceOf(lbDim) == namespaceALB
		}
	}
	return false
}

// perTarget is RequestCountPerTarget: "the total number of requests
// received by the target group, divided by the number of healthy targets
// in the target group. If there are no healthy targets in the target
// group, it is divided by the total number of registered targets."
func perTarget(requests int64, healthy, registered int) float64 {
	if healthy > 0 {
		return float64(requests) / float64(healthy)
	}
	return float64(requests) / float64(registered)
}

func sumOf[T any](m map[string]*T, key string) *T {
	if m[key] == nil {
		m[key] = new(T)
	}
	return m[key]
}

func merge(a, b lb.Timing) lb.Timing {
	switch {
	case a.Count == 0:
		return b
	case b.Count == 0:
		return a
	}
	return lb.Timing{Count: a.Count + b.Count, Sum: a.Sum + b.Sum, Min: min(a.Min, b.Min), Max: max(a.Max, b.Max)}
}

func dim(name, value string) cwtypes.Dimension {
	return cwtypes.Dimension{Name: aws.String(name), Value: aws.String(value)}
}

type putFunc func(backend.Scope, string, cwtypes.MetricDatum)

// count publishes n events as a statistic set of n ones; nothing when n
// is 0.
func count(put putFunc, scope backend.Scope, ns, name string, dims []cwtypes.Dimension, n int64) {
	if n <= 0 {
		return
	}
	put(scope, ns, cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Unit: cwtypes.StandardUnitCount,
		StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(float64(n)), Sum: aws.Float64(float64(n)),
			Minimum: aws.Float64(1), Maximum: aws.Float64(1)}})
}

// gauge publishes one value.
func gauge(put putFunc, scope backend.Scope, ns, name string, dims []cwtypes.Dimension, v float64, unit cwtypes.StandardUnit) {
	put(scope, ns, cwtypes.MetricDatum{MetricName: aws.String(name), Dimensions: dims, Unit: unit, Value: aws.Float64(v)})
}

// responseTime publishes TargetResponseTime, in seconds, as the set of
// the interval's response times.
func responseTime(put putFunc, scope backend.Scope, ns string, dims []cwtypes.Dimension, t lb.Timing) {
	if t.Count == 0 {
		return
	}
	put(scope, ns, cwtypes.MetricDatum{MetricName: aws.String("TargetResponseTime"), Dimensions: dims, Unit: cwtypes.StandardUnitSeconds,
		StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(float64(t.Count)), Sum: aws.Float64(t.Sum.Seconds()),
			Minimum: aws.Float64(t.Min.Seconds()), Maximum: aws.Float64(t.Max.Seconds())}})
}
