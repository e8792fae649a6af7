package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestECSServiceMetrics runs a service whose task keeps a CPU busy and an
// idle one, each reserving 256 CPU units and 128 MiB, on a berth that
// publishes every 6 s, and reads their AWS/ECS CPUUtilization and
// MemoryUtilization with aws-sdk-go-v2: per service (ClusterName and
// ServiceName) with GetMetricStatistics, per cluster (ClusterName alone)
// with GetMetricData; then target tracking on the average CPU scales the
// burning service out.
func TestECSServiceMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--cloudwatch-minute", "6s")
	c := b.clients("us-east-1")
	cw := c.cloudwatch
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	for _, family := range []string{"burn", "idle"} {
		app := webContainer("app")
		app.Cpu, app.Memory = 256, aws.Int32(128)
		if family == "burn" {
			app.Environment = []types.KeyValuePair{{Name: aws.String("BURN"), Value: aws.String("1")}}
		}
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{app},
		})).must(t)
		createService(t, ctx, c, family, family, 1)
	}
	stable(t, ctx, c, "c", "burn", "idle")

	// Each service's datapoints since the services started.
	since := time.Now().Add(-time.Minute)
	service := func(name, metric string) []cwtypes.Datapoint {
		return try(cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/ECS"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("c")}, {Name: aws.String("ServiceName"), Value: aws.String(name)}},
			StartTime:  aws.Time(since), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(60),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticMinimum, cwtypes.StatisticMaximum, cwtypes.StatisticSampleCount},
		})).must(t).Datapoints
	}
	// The burning task uses a CPU (1,024 units) when the machine has one
	// free; more than half of its 256 units however busy the machine is.
	var burn []cwtypes.Datapoint
	top := 0.0 // the highest average
	deadline := time.Now().Add(3 * time.Minute)
	for {
		burn = service("burn", "CPUUtilization")
		for _, d := range burn {
			top = max(top, aws.ToFloat64(d.Average))
		}
		if top > 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the burning service's CPUUtilization never rose above 50%%: %s", taskJSON(burn))
		}
		time.Sleep(time.Second)
	}
	for _, d := range burn {
		if d.Unit != cwtypes.StandardUnitPercent || aws.ToFloat64(d.SampleCount) < 1 {
			t.Errorf("burning service datapoint %s: want Percent, samples", taskJSON(d))
		}
	}
	// The idle one stays far below: its server waits on a socket.
	idle := service("idle", "CPUUtilization")
	if len(idle) == 0 {
		t.Fatal("no CPUUtilization of the idle service")
	}
	t.Logf("burning service CPU %s; idle %s", taskJSON(burn), taskJSON(idle))
	for _, d := range idle {
		if aws.ToFloat64(d.Maximum) >= 20 || aws.ToFloat64(d.Minimum) < 0 {
			t.Errorf("idle service datapoint %s: want under 20%%", taskJSON(d))
		}
	}
	// Memory: a few MiB of the 128 reserved, for both.
	for _, name := range []string{"burn", "idle"} {
		mem := service(name, "MemoryUtilization")
		if len(mem) == 0 {
			t.Fatalf("no MemoryUtilization of service %s", name)
		}
		for _, d := range mem {
			if avg := aws.ToFloat64(d.Average); avg <= 0 || avg >= 100 || d.Unit != cwtypes.StandardUnitPercent {
				t.Errorf("service %s memory datapoint %s: want between 0 and 100%%", name, taskJSON(d))
			}
		}
	}

	// The cluster: both tasks' usage over what the host's container
	// instance registered (its CPUs × 1,024 units, its memory): above 0,
	// and for memory below 100%.
	cluster := func(metric string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(map[string]string{"CPUUtilization": "cpu", "MemoryUtilization": "mem"}[metric]), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ECS"), MetricName: aws.String(metric), Dimensions: []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("c")}}},
			Period: aws.Int32(60), Stat: aws.String("Average"),
		}}
	}
	var results []cwtypes.MetricDataResult
	deadline = time.Now().Add(time.Minute)
	for {
		results = try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(since), EndTime: aws.Time(time.Now().Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{cluster("CPUUtilization"), cluster("MemoryUtilization")},
		})).must(t).MetricDataResults
		if len(results) == 2 && len(results[0].Values) > 0 && len(results[1].Values) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cluster utilization: %s", taskJSON(results))
		}
		time.Sleep(time.Second)
	}
	t.Logf("cluster %s", taskJSON(results))
	for _, r := range results {
		for _, v := range r.Values {
			if v <= 0 || (aws.ToString(r.Id) == "mem" && v >= 100) {
				t.Errorf("cluster %s %v: want above 0 (and memory below 100)", aws.ToString(r.Id), v)
			}
		}
	}

	// Target tracking on the service's average CPU: the burning task, over
	// 50 %, scales its service out (to its maximum of 2) once AlarmHigh
	// has 3 datapoints over the target
	// (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html).
	as, _ := scalingClients(b, c.region)
	res := aws.String("service/c/burn")
	try(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension,
		ResourceId: res, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})).must(t)
	try(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("cpu"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue: aws.Float64(50), ScaleOutCooldown: aws.Int32(0), DisableScaleIn: aws.Bool(true),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
		}})).must(t)
	within(t, 3*time.Minute, "the burning service scaled out to 2 running tasks", func() bool {
		svc := describeService(t, ctx, c, "burn")
		return svc.DesiredCount == 2 && svc.RunningCount == 2
	})
	acts := try(as.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res})).must(t).ScalingActivities
	if len(acts) == 0 || !strings.Contains(aws.ToString(acts[0].Cause), "AlarmHigh") || aws.ToString(acts[0].Description) != "Setting desired count to 2." {
		t.Fatalf("activities %s", taskJSON(acts))
	}
	// Stop burning the machine's CPU.
	for _, name := range []string{"burn", "idle"} {
		try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String(name), DesiredCount: aws.Int32(0)})).must(t)
	}
}
