package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestLoadBalancerMetrics sends a known number of requests through an
// ALB to a service's real task, and a TCP flow through an NLB, on a berth
// that publishes its load balancers' metrics every second, and reads them
// back from CloudWatch with aws-sdk-go-v2: names, dimensions and the
// meaning of each as the ELB guides give them.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html
func TestLoadBalancerMetrics(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--cloudwatch-minute", "1s")
	ctx, c := context.Background(), b.clients(newRegion())
	cw := c.cloudwatch
	began := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)

	// An ALB whose listener forwards to a service's target group, with a
	// rule answering /missing/* itself with a fixed 404.
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("metrics"), Subnets: subnets(t, ctx, c)[:2], Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
	})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("metrics"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})).must(t).TargetGroups[0]
	listener := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}},
	})).must(t).Listeners[0]
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: listener.ListenerArn, Priority: aws.Int32(1),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/missing/*"}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain")}}},
	})).must(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, front{tg: *tg.TargetGroupArn}, 1, nil)
	inService(t, ctx, c, *tg.TargetGroupArn, 1)

	// The dimension values are the ARNs' last parts.
	lbDim := strings.TrimPrefix((*lb.LoadBalancerArn)[strings.Index(*lb.LoadBalancerArn, ":loadbalancer/")+1:], "loadbalancer/")
	tgDim := (*tg.TargetGroupArn)[strings.Index(*tg.TargetGroupArn, ":targetgroup/")+1:]
	if !strings.HasPrefix(lbDim, "app/metrics/") || !strings.HasPrefix(tgDim, "targetgroup/metrics/") {
		t.Fatalf("dimensions %q, %q", lbDim, tgDim)
	}
	byLB := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)}}
	byPair := []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}, byLB[0]}

	const served, missing = 12, 5
	url := "http://" + hostAddress(t, b, *lb.DNSName)
	for i := range served {
		if code, body := fetch(url+"/", ""); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	for i := range missing {
		if code, body := fetch(url+"/missing/"+strconv.Itoa(i), ""); code != 404 {
			t.Fatalf("request %d to a missing path: %d %s", i, code, body)
		}
	}

	// The counts arrive within a few intervals; they are exact once there.
	sum := func(name string, dims []cwtypes.Dimension) float64 {
		return sumOfMetric(t, ctx, cw, "AWS/ApplicationELB", name, dims, began)
	}
	pollMetric(t, "the ALB's counts", func() bool {
		return sum("RequestCount", byLB) >= served && sum("HTTPCode_ELB_4XX_Count", byLB) >= missing
	}, func() string {
		return fmt.Sprintf("RequestCount %v, HTTPCode_ELB_4XX_Count %v", sum("RequestCount", byLB), sum("HTTPCode_ELB_4XX_Count", byLB))
	})
	for _, m := range []struct {
		name string
		dims []cwtypes.Dimension
		want float64
	}{
		// Requests a target was chosen for; the fixed responses are the
		// load balancer's own 4XX answers.
		{"RequestCount", byLB, served},
		{"RequestCount", byPair, served},
		{"HTTPCode_Target_2XX_Count", byLB, served},
		{"HTTPCode_Target_2XX_Count", byPair, served},
		{"HTTPCode_ELB_4XX_Count", byLB, missing},
		{"HTTP_Fixed_Response_Count", byLB, missing},
	} {
		if got := sum(m.name, m.dims); got != m.want {
			t.Errorf("%s by %s: %v, want %v", m.name, dimNames(m.dims), got, m.want)
		}
	}
	// GetMetricData reads the same.
	data := try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(began), EndTime: aws.Time(time.Now().Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("requests"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(3600), Stat: aws.String("Sum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("RequestCount"), Dimensions: byPair}}},
			{Id: aws.String("latency"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(3600), Stat: aws.String("Average"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("TargetResponseTime"), Dimensions: byPair}}},
			{Id: aws.String("healthy"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(3600), Stat: aws.String("Maximum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HealthyHostCount"), Dimensions: byPair}}},
			{Id: aws.String("perTarget"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(3600), Stat: aws.String("Sum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("RequestCountPerTarget"),
					Dimensions: byPair[:1]}}},
		}})).must(t)
	results := map[string][]float64{}
	for _, r := range data.MetricDataResults {
		results[aws.ToString(r.Id)] = r.Values
	}
	if v := results["requests"]; len(v) != 1 || v[0] != served {
		t.Errorf("GetMetricData RequestCount = %v, want [%d]", v, served)
	}
	if v := results["latency"]; len(v) != 1 || v[0] <= 0 || v[0] > 10 {
		t.Errorf("GetMetricData TargetResponseTime average = %v seconds", v)
	}
	if v := results["healthy"]; len(v) != 1 || v[0] != 1 {
		t.Errorf("GetMetricData HealthyHostCount maximum = %v, want [1]", v)
	}
	// One healthy target: RequestCountPerTarget adds up to RequestCount.
	if v := results["perTarget"]; len(v) != 1 || v[0] != served {
		t.Errorf("GetMetricData RequestCountPerTarget by TargetGroup = %v, want [%d]", v, served)
	}
	stats := try(cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("TargetResponseTime"), Dimensions: byLB, StartTime: aws.Time(began), EndTime: aws.Time(time.Now().Add(time.Minute)),
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum}})).must(t)
	if len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].SampleCount) != served || stats.Datapoints[0].Unit != cwtypes.StandardUnitSeconds {
		t.Errorf("TargetResponseTime by LoadBalancer: %+v", stats.Datapoints)
	}

	// An NLB: one TCP flow echoed.
	nlbLB := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("flows"), Type: elbtypes.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	nlbTG := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("flows"), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(7),
		VpcId: nlbLB.VpcId, TargetType: elbtypes.TargetTypeEnumIp})).must(t).TargetGroups[0]
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: nlbTG.TargetGroupArn,
		Targets: []elbtypes.TargetDescription{echoServer(t)}})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: nlbLB.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumTcp,
		Port: aws.Int32(7000), DefaultActions: []elbtypes.Action{forwardTo(*nlbTG.TargetGroupArn)}})).must(t)
	addr := net.JoinHostPort(hostAddress(t, b, *nlbLB.DNSName), "7000")
	const ping = "ping over an NLB"
	eventually(t, "a TCP echo", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		fmt.Fprint(conn, ping)
		conn.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(conn)
		return string(got) == ping
	})
	nlbDim := []cwtypes.Dimension{{Name: aws.String("LoadBalancer"),
		Value: aws.String((*nlbLB.LoadBalancerArn)[strings.Index(*nlbLB.LoadBalancerArn, ":loadbalancer/")+len(":loadbalancer/"):])}}
	if !strings.HasPrefix(*nlbDim[0].Value, "net/flows/") {
		t.Fatalf("NLB dimension %q", *nlbDim[0].Value)
	}
	nlbSum := func(name string) float64 { return sumOfMetric(t, ctx, cw, "AWS/NetworkELB", name, nlbDim, began) }
	// Each flow that reached the echo (the last one did) carried the ping
	// both ways; flows that found no target are not flows to targets.
	var flows, bytes float64
	pollMetric(t, "the NLB's flows and their bytes", func() bool {
		flows, bytes = nlbSum("NewFlowCount"), nlbSum("ProcessedBytes")
		return flows >= 1 && bytes == flows*2*float64(len(ping))
	}, func() string { return fmt.Sprintf("NewFlowCount %v, ProcessedBytes %v", flows, bytes) })
	if nlbSum("NewFlowCount_TCP") < 1 {
		t.Errorf("no NewFlowCount_TCP")
	}
}

// sumOfMetric is the Sum of a metric's datapoints since from.
func sumOfMetric(t *testing.T, ctx context.Context, cw *cloudwatch.Client, ns, name string, dims []cwtypes.Dimension, from time.Time) float64 {
	t.Helper()
	out := try(cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String(ns), MetricName: aws.String(name),
		Dimensions: dims, StartTime: aws.Time(from), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})).must(t)
	var total float64
	for _, dp := range out.Datapoints {
		total += aws.ToFloat64(dp.Sum)
	}
	return total
}

// pollMetric waits, generously, for published metrics to show; got says
// what there was when it gives up.
func pollMetric(t *testing.T, what string, cond func() bool, got func() string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s (%s)", what, got())
		}
	}
}

func dimNames(dims []cwtypes.Dimension) string {
	var names []string
	for _, d := range dims {
		names = append(names, aws.ToString(d.Name))
	}
	return strings.Join(names, "+")
}
