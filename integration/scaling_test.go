package integration

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// These tests scale ECS services on the metrics berth publishes from real
// traffic and real containers, through target tracking and CloudWatch
// alarms, on a berth whose CloudWatch minute lasts two seconds: the
// alarms' 3 and 15 datapoints take 6 and 30 seconds.

// paced sends GET url from one client every gap until stopped, counting
// the answers and keeping every failure.
type paced struct {
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	gap      atomic.Int64 // nanoseconds between requests
	answered atomic.Int64
	failed   []string
}

func startPaced(url string, clients int, gap time.Duration) *paced {
	p := &paced{stop: make(chan struct{})}
	p.gap.Store(int64(gap))
	deadline := time.Now().Add(5 * time.Minute) // a bound, whatever the test does
	for range clients {
		p.done.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for time.Now().Before(deadline) {
				select {
				case <-p.stop:
					return
				case <-time.After(time.Duration(p.gap.Load())):
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if status, body := send(client, req); status != http.StatusOK {
					p.mu.Lock()
					p.failed = append(p.failed, body)
					p.mu.Unlock()
					continue
				}
				p.answered.Add(1)
			}
		})
	}
	return p
}

func (p *paced) end() []string {
	close(p.stop)
	p.done.Wait()
	return p.failed
}

// TestTargetTrackingOnRequestCount: a service behind an ALB with a target
// tracking policy on ALBRequestCountPerTarget scales out with real tasks,
// registered and healthy, while load through the listener keeps the
// metric over its target, and back in when the load falls to a trickle;
// no request fails while tasks are drained on the way in.
// Target tracking's alarms: 3 datapoints over the target to scale out,
// 15 under 90 % of it to scale in
// (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html).
// A trickle, not silence: the ALB publishes RequestCount only while
// requests flow
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
func TestTargetTrackingOnRequestCount(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--cloudwatch-minute", "2s")
	ctx, c := context.Background(), b.clients("us-east-1")
	as, _ := scalingClients(b, c.region)
	f := newFront(t, ctx, c, b, "scaled", 1)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 1, nil)
	inService(t, ctx, c, f.tg, 1)

	lb := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"scaled"}})).must(t).LoadBalancers[0]
	label := lbDimension(*lb.LoadBalancerArn) + "/" + tgDimension(f.tg)
	res := aws.String("service/c/web")
	try(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension,
		ResourceId: res, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(3)})).must(t)
	try(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("requests"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(20), ScaleOutCooldown: aws.Int32(0), ScaleInCooldown: aws.Int32(0),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{
				PredefinedMetricType: aastypes.MetricTypeALBRequestCountPerTarget, ResourceLabel: aws.String(label)},
		}})).must(t)

	// About 100 requests a second: some 200 per target per two-second
	// minute, ten times the target.
	load := startPaced(f.url+"/", 4, 40*time.Millisecond)
	within(t, 3*time.Minute, "scaled out to 3 tasks, all healthy behind the ALB", func() bool {
		return desiredCount(t, ctx, c, "web") == 3 && len(healthyTargets(t, ctx, c, f.tg)) == 3
	})
	// A trickle of about 2 requests a second: under 90 % of the target.
	load.gap.Store(int64(2 * time.Second))
	within(t, 3*time.Minute, "scaled back in to 1 task", func() bool {
		return desiredCount(t, ctx, c, "web") == 1 && len(serviceTasks(t, ctx, c, "c", "web")) == 1
	})
	if failed := load.end(); len(failed) > 0 {
		t.Fatalf("%d of %d requests failed through the listener: %v", len(failed), load.answered.Load()+int64(len(failed)), failed)
	}
	acts := try(as.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res})).must(t).ScalingActivities
	var story []string
	for _, a := range acts {
		story = append(story, aws.ToString(a.Cause)+" -> "+aws.ToString(a.Description))
	}
	t.Logf("%d requests answered; activities, newest first:\n%s", load.answered.Load(), strings.Join(story, "\n"))
	if len(acts) < 2 || !strings.Contains(aws.ToString(acts[0].Cause), "AlarmLow") || !strings.Contains(aws.ToString(acts[len(acts)-1].Cause), "AlarmHigh") {
		t.Fatalf("activities do not tell a scale-out then a scale-in: %v", story)
	}
}

// within polls cond every 200 ms for up to d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// healthyTargets are the target group's healthy targets.
func healthyTargets(t *testing.T, ctx context.Context, c clients, tg string) []string {
	t.Helper()
	var ids []string
	for _, d := range try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})).must(t).TargetHealthDescriptions {
		if d.TargetHealth.State == "healthy" {
			ids = append(ids, aws.ToString(d.Target.Id))
		}
	}
	return ids
}

// lbDimension is the LoadBalancer dimension of a load balancer ARN:
// app/<name>/<id>; tgDimension the TargetGroup one: targetgroup/<name>/<id>
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html#load-balancer-metric-dimensions-alb).
func lbDimension(arn string) string {
	return arn[strings.Index(arn, ":loadbalancer/")+len(":loadbalancer/"):]
}
func tgDimension(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

// TestDeploymentAlarmRollback: a rolling deployment watched by a
// CloudWatch alarm on the ALB's HTTPCode_Target_5XX_Count fails when the
// new revision's errors, counted by the load balancer that serves them,
// put the alarm into ALARM, and the service rolls back to the revision
// before.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
func TestDeploymentAlarmRollback(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--cloudwatch-minute", "1s")
	ctx, c := context.Background(), b.clients("us-east-1")
	_, cw := scalingClients(b, c.region)
	f := newFront(t, ctx, c, b, "alarmed", 1)
	lb := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"alarmed"}})).must(t).LoadBalancers[0]
	try(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("web-5xx"), Namespace: aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("HTTPCode_Target_5XX_Count"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
		// One breaching minute of ten: the deployment's bake time (the
		// alarm's ten minutes, ten seconds here) outlasts the moment the
		// new revision's errors reach the alarm, however fast its tasks
		// turn healthy.
		EvaluationPeriods: aws.Int32(10), DatapointsToAlarm: aws.Int32(1),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDimension(*lb.LoadBalancerArn))},
			{Name: aws.String("TargetGroup"), Value: aws.String(tgDimension(f.tg))}},
		Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching")})).must(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, &types.DeploymentConfiguration{
		Alarms: &types.DeploymentAlarms{AlarmNames: []string{"web-5xx"}, Enable: true, Rollback: true},
	})
	inService(t, ctx, c, f.tg, 2)
	stable(t, ctx, c, "c", "web")
	good := describeService(t, ctx, c, "web")

	load := startPaced(f.url+"/", 2, 50*time.Millisecond)
	defer load.end()
	bad := version("v2", false)
	bad.Environment = append(bad.Environment, types.KeyValuePair{Name: aws.String("ERRORS"), Value: aws.String("1")})
	register(t, ctx, c, "web", types.NetworkModeBridge, bad)
	updated := try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t).Service
	failedID := aws.ToString(updated.Deployments[0].Id)
	within(t, 3*time.Minute, "the deployment failed on its alarm and rolled back", func() bool {
		svc := describeService(t, ctx, c, "web")
		return strings.HasSuffix(aws.ToString(svc.TaskDefinition), "web:1") && slices.ContainsFunc(svc.Deployments, func(d types.Deployment) bool {
			return aws.ToString(d.Id) == failedID && d.RolloutState == types.DeploymentRolloutStateFailed &&
				strings.Contains(aws.ToString(d.RolloutStateReason), "web-5xx")
		})
	})
	stable(t, ctx, c, "c", "web")
	svc := describeService(t, ctx, c, "web")
	if d := svc.Deployments[0]; len(svc.Deployments) != 1 || aws.ToString(d.TaskDefinition) != aws.ToString(good.TaskDefinition) {
		t.Fatalf("deployments after the rollback = %s", taskJSON(svc.Deployments))
	}
	// The rollback completes once its own bake time has passed.
	var sd types.ServiceDeployment
	within(t, time.Minute, "the rollback completed", func() bool {
		sd = try(c.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(updated.CurrentServiceDeployment)}})).must(t).ServiceDeployments[0]
		return sd.Status != types.ServiceDeploymentStatusRollbackInProgress
	})
	if sd.Status != types.ServiceDeploymentStatusRollbackSuccessful || sd.Alarms == nil || sd.Alarms.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered ||
		!slices.Equal(sd.Alarms.TriggeredAlarmNames, []string{"web-5xx"}) {
		t.Fatalf("service deployment = %s", taskJSON(sd))
	}
	inService(t, ctx, c, f.tg, 2)
	if body := get(t, f.url+"/"); !strings.Contains(body, `"app":"v1"`) {
		t.Fatalf("after the rollback the ALB answers %s", body)
	}
}
