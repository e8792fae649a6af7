package integration

import (
	"context"
	"path/filepath"
	"slices"
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

// These tests drive Application Auto Scaling for ECS services with
// aws-sdk-go-v2 and the aws CLI: targets, both policy types with the
// alarms target tracking owns, scheduled actions that change a real
// service, and a step policy run by a CloudWatch alarm.

// scalingClients are the Application Auto Scaling and CloudWatch clients
// of b in a region.
func scalingClients(b *berth, region string) (*aas.Client, *cloudwatch.Client) {
	c := b.clients(region)
	return c.scaling, c.cloudwatch
}

const ecsDimension = aastypes.ScalableDimensionECSServiceDesiredCount

func desiredCount(t *testing.T, ctx context.Context, c clients, service string) int32 {
	t.Helper()
	return describeService(t, ctx, c, service).DesiredCount
}

func TestAppAutoScalingSDK(t *testing.T) {
	ctx, c := setup(t)
	as, cw := scalingClients(shared, c.region)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 0)
	res := aws.String("service/c/web")

	// The ECS service must exist: the ValidationException the Terraform
	// provider retries on ("ECS service doesn't exist",
	// hashicorp/terraform-provider-aws, aws_appautoscaling_target).
	_, err := as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension,
		ResourceId: aws.String("service/c/nope"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
	if e := wantErr[*aastypes.ValidationException](t, err); !strings.Contains(e.ErrorMessage(), "ECS service doesn't exist") {
		t.Errorf("message %q", e.ErrorMessage())
	}
	_, err = as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ScalableDimension: aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits,
		ResourceId: aws.String("table/t"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(2)})
	if e := wantErr[*aastypes.ValidationException](t, err); !strings.Contains(e.ErrorMessage(), "ECS services only") {
		t.Errorf("message %q", e.ErrorMessage())
	}
	_, err = as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("p"), PolicyType: aastypes.PolicyTypeStepScaling})
	wantErr[*aastypes.ObjectNotFoundException](t, err)

	reg := try(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension,
		ResourceId: res, MinCapacity: aws.Int32(0), MaxCapacity: aws.Int32(4), Tags: map[string]string{"team": "web"}})).must(t)
	targets := try(as.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScalableTargets
	if len(targets) != 1 || aws.ToString(targets[0].ScalableTargetARN) != aws.ToString(reg.ScalableTargetARN) || aws.ToInt32(targets[0].MaxCapacity) != 4 ||
		!strings.HasSuffix(aws.ToString(targets[0].RoleARN), ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService") {
		t.Fatalf("targets %+v", targets)
	}
	tags := try(as.ListTagsForResource(ctx, &aas.ListTagsForResourceInput{ResourceARN: reg.ScalableTargetARN})).must(t).Tags
	if tags["team"] != "web" {
		t.Errorf("tags %v", tags)
	}

	// Target tracking on CPU creates its two alarms in CloudWatch.
	tt := try(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("cpu75"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(75),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeECSServiceAverageCPUUtilization},
			ScaleOutCooldown:              aws.Int32(60), ScaleInCooldown: aws.Int32(60)}})).must(t)
	if len(tt.Alarms) != 2 {
		t.Fatalf("alarms %+v", tt.Alarms)
	}
	alarms := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-service/c/web-")})).must(t).MetricAlarms
	if len(alarms) != 2 {
		t.Fatalf("CloudWatch has %d alarms", len(alarms))
	}
	for _, a := range alarms {
		// AlarmHigh: > target over 3 × 60 s; AlarmLow: < 90 % of it over 15
		// (a field report's imported alarms; the User Guide's "3 data
		// points" and "15 data points").
		high := strings.Contains(aws.ToString(a.AlarmName), "-AlarmHigh-")
		if !slices.Equal(a.AlarmActions, []string{aws.ToString(tt.PolicyARN)}) || aws.ToString(a.MetricName) != "CPUUtilization" || aws.ToString(a.Namespace) != "AWS/ECS" ||
			high && (aws.ToFloat64(a.Threshold) != 75 || aws.ToInt32(a.EvaluationPeriods) != 3 || a.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanThreshold) ||
			!high && (aws.ToFloat64(a.Threshold) != 67.5 || aws.ToInt32(a.EvaluationPeriods) != 15 || a.ComparisonOperator != cwtypes.ComparisonOperatorLessThanThreshold) {
			t.Errorf("alarm %+v", a)
		}
	}
	step := try(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("step"), PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(60),
			MetricAggregationType: aastypes.MetricAggregationTypeAverage,
			StepAdjustments:       []aastypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)}}}})).must(t)
	if len(step.Alarms) != 0 {
		t.Errorf("a step policy made alarms: %+v", step.Alarms)
	}
	policies := try(as.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res})).must(t).ScalingPolicies
	if len(policies) != 2 || policies[0].PolicyType != aastypes.PolicyTypeTargetTrackingScaling || len(policies[0].Alarms) != 2 ||
		policies[1].StepScalingPolicyConfiguration == nil || aws.ToInt32(policies[1].StepScalingPolicyConfiguration.Cooldown) != 60 {
		t.Fatalf("policies %+v", policies)
	}
	try(as.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res, PolicyName: aws.String("cpu75")})).must(t)
	if left := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-")})).must(t).MetricAlarms; len(left) != 0 {
		t.Errorf("alarms left after the policy: %+v", left)
	}
	_, err = as.DeleteScalingPolicy(ctx, &aas.DeleteScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res, PolicyName: aws.String("cpu75")})
	wantErr[*aastypes.ObjectNotFoundException](t, err)

	// A scheduled action a few seconds ahead raises the minimum to 1: the
	// real service gets a task.
	at := time.Now().UTC().Add(3 * time.Second)
	try(as.PutScheduledAction(ctx, &aas.PutScheduledActionInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		ScheduledActionName: aws.String("wake"), Schedule: aws.String("at(" + at.Format("2006-01-02T15:04:05") + ")"),
		ScalableTargetAction: &aastypes.ScalableTargetAction{MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(4)}})).must(t)
	actions := try(as.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScheduledActions
	if len(actions) != 1 || aws.ToString(actions[0].Timezone) != "UTC" {
		t.Fatalf("scheduled actions %+v", actions)
	}
	eventually(t, "the scheduled action sets the desired count", func() bool { return desiredCount(t, ctx, c, "web") == 1 })
	stable(t, ctx, c, "c", "web")
	eventually(t, "Docker runs the task", func() bool { return len(containersOf(shared, c.region, "c")) == 1 })
	acts := try(as.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res, ScalableDimension: ecsDimension})).must(t).ScalingActivities
	var texts []string
	for _, a := range acts {
		texts = append(texts, aws.ToString(a.Description)+" / "+aws.ToString(a.Cause)+" / "+aws.ToString(a.StatusMessage))
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Setting desired count to 1. / minimum capacity was set to 1 / Successfully set desired count to 1. Change successfully fulfilled by ecs.",
		"scheduled action name wake was triggered"} {
		if !strings.Contains(all, want) {
			t.Errorf("no activity %q in\n%s", want, all)
		}
	}
	_, err = as.PutScheduledAction(ctx, &aas.PutScheduledActionInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		ScheduledActionName: aws.String("bad"), Schedule: aws.String("cron(0 10 * * * *)")})
	wantErr[*aastypes.ValidationException](t, err)
	try(as.DeleteScheduledAction(ctx, &aas.DeleteScheduledActionInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res, ScheduledActionName: aws.String("wake")})).must(t)

	try(as.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res})).must(t)
	if p := try(as.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScalingPolicies; len(p) != 0 {
		t.Errorf("policies after deregistering: %+v", p)
	}
	_, err = as.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res})
	wantErr[*aastypes.ObjectNotFoundException](t, err)
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), DesiredCount: aws.Int32(0)})).must(t)
}

// TestAppAutoScalingStepAlarm runs a step policy through the alarm path:
// a CloudWatch alarm over a metric the test publishes, whose action is
// the policy, on a berth whose CloudWatch minute lasts a second.
func TestAppAutoScalingStepAlarm(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--cloudwatch-minute", "1s")
	ctx, c := context.Background(), b.clients("eu-west-1")
	as, cw := scalingClients(b, c.region)
	register(t, ctx, c, "worker", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "worker", "worker", 1)
	res := aws.String("service/c/worker")
	try(as.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension,
		ResourceId: res, MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(5)})).must(t)
	// Steps relative to the threshold 50: 50 to 80 adds 1, 80 and over 2.
	policy := try(as.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: ecsDimension, ResourceId: res,
		PolicyName: aws.String("backlog-out"), PolicyType: aastypes.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &aastypes.StepScalingPolicyConfiguration{AdjustmentType: aastypes.AdjustmentTypeChangeInCapacity,
			StepAdjustments: []aastypes.StepAdjustment{
				{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(30), ScalingAdjustment: aws.Int32(1)},
				{MetricIntervalLowerBound: aws.Float64(30), ScalingAdjustment: aws.Int32(2)},
			}}})).must(t)
	try(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("backlog-high"), Namespace: aws.String("App"), MetricName: aws.String("Backlog"),
		Statistic: cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(50),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, AlarmActions: []string{aws.ToString(policy.PolicyARN)}})).must(t)
	// DescribeScalingPolicies lists the alarm whose action the policy is.
	pol := try(as.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, PolicyNames: []string{"backlog-out"}})).must(t).ScalingPolicies
	if len(pol) != 1 || len(pol[0].Alarms) != 1 || aws.ToString(pol[0].Alarms[0].AlarmName) != "backlog-high" {
		t.Errorf("policy %+v", pol)
	}
	// A backlog of 90, 40 over the threshold: the second step, +2.
	deadline := time.Now().Add(time.Minute)
	for desiredCount(t, ctx, c, "worker") == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the alarm never scaled the service")
		}
		try(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Backlog"), Value: aws.Float64(90)}}})).must(t)
		time.Sleep(200 * time.Millisecond)
	}
	if n := desiredCount(t, ctx, c, "worker"); n != 3 {
		t.Fatalf("desired %d, want 3", n)
	}
	acts := try(as.DescribeScalingActivities(ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceId: res})).must(t).ScalingActivities
	if len(acts) == 0 || aws.ToString(acts[0].Cause) != "monitor alarm backlog-high in state ALARM triggered policy backlog-out" ||
		aws.ToString(acts[0].Description) != "Setting desired count to 3." || acts[0].StatusCode != aastypes.ScalingActivityStatusCodeSuccessful {
		t.Fatalf("activities %+v", acts)
	}
}
