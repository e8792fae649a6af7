package appautoscaling

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// fakeECS holds desired counts by "cluster/service".
type fakeECS struct {
	mu      sync.Mutex
	desired map[string]int32
	updates int
}

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecs.DescribeServicesOutput{}
	for _, s := range in.Services {
		if n, ok := f.desired[aws.ToString(in.Cluster)+"/"+s]; ok {
			out.Services = append(out.Services, ecstypes.Service{ServiceName: aws.String(s), Status: aws.String("ACTIVE"), DesiredCount: n})
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(s), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (f *fakeECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired[aws.ToString(in.Cluster)+"/"+aws.ToString(in.Service)] = aws.ToInt32(in.DesiredCount)
	f.updates++
	return &ecs.UpdateServiceOutput{}, nil
}

func (f *fakeECS) count(key string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desired[key]
}

// fakeAlarms keeps the alarms put, by name.
type fakeAlarms struct {
	mu     sync.Mutex
	alarms map[string]*cloudwatch.PutMetricAlarmInput
	states map[string]cwtypes.StateValue // by name; none is INSUFFICIENT_DATA
}

func (f *fakeAlarms) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput) (*cloudwatch.PutMetricAlarmOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alarms[aws.ToString(in.AlarmName)] = in
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

func (f *fakeAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cloudwatch.DescribeAlarmsOutput{}
	for name, a := range f.alarms {
		if len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name) {
			continue
		}
		if in.ActionPrefix == nil || slices.ContainsFunc(a.AlarmActions, func(s string) bool { return strings.HasPrefix(s, *in.ActionPrefix) }) {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(name), AlarmArn: aws.String("arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + name),
				AlarmActions: a.AlarmActions, StateValue: f.states[name]})
		}
	}
	return out, nil
}

func (f *fakeAlarms) DeleteAlarms(_ context.Context, in *cloudwatch.DeleteAlarmsInput) (*cloudwatch.DeleteAlarmsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range in.AlarmNames {
		delete(f.alarms, n)
	}
	return &cloudwatch.DeleteAlarmsOutput{}, nil
}

type fixture struct {
	b      *Backend
	ecs    *fakeECS
	alarms *fakeAlarms
	now    *time.Time
	ctx    context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f := &fixture{ecs: &fakeECS{desired: map[string]int32{"c/web": 2}}, alarms: &fakeAlarms{alarms: map[string]*cloudwatch.PutMetricAlarmInput{}, states: map[string]cwtypes.StateValue{}}, now: &now}
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return *f.now }
	f.b = New(store, backend.Env{Clock: clock, IDs: &backend.SequentialIDs{}}, f.ecs, f.alarms, zerolog.Nop())
	f.ctx = backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	return f
}

func (f *fixture) register(t *testing.T, lo, hi int32) {
	t.Helper()
	_, err := f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount",
		ResourceId: aws.String("service/c/web"), MinCapacity: aws.Int32(lo), MaxCapacity: aws.Int32(hi)})
	if err != nil {
		t.Fatal(err)
	}
}

func code(err error) string {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae.Code
	}
	return ""
}

func TestRegisterScalableTarget(t *testing.T) {
	f := newFixture(t)
	_, err := f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount",
		ResourceId: aws.String("service/c/missing"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(3)})
	// "ECS service doesn't exist", the ValidationException the Terraform
	// provider retries on (hashicorp/terraform-provider-aws).
	if code(err) != "ValidationException" || !strings.Contains(err.Error(), "ECS service doesn't exist") {
		t.Fatalf("missing service: %v", err)
	}
	_, err = f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "dynamodb", ScalableDimension: "dynamodb:table:ReadCapacityUnits",
		ResourceId: aws.String("table/t"), MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(3)})
	if code(err) != "ValidationException" || !strings.Contains(err.Error(), "ECS services only") {
		t.Fatalf("dynamodb: %v", err)
	}
	f.register(t, 3, 6) // over the service's 2: it goes to 3
	out, err := f.b.DescribeScalableTargets(f.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs"})
	if err != nil || len(out.ScalableTargets) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	tg := out.ScalableTargets[0]
	// The service-linked role AWS fills in for ECS.
	// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
	if aws.ToString(tg.RoleARN) != "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService" {
		t.Errorf("role %s", aws.ToString(tg.RoleARN))
	}
	if !strings.HasPrefix(aws.ToString(tg.ScalableTargetARN), "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/") ||
		tg.SuspendedState == nil || aws.ToBool(tg.SuspendedState.DynamicScalingInSuspended) {
		t.Errorf("target %+v", tg)
	}
	if n := f.ecs.count("c/web"); n != 3 {
		t.Errorf("desired %d after a minimum of 3, want 3", n)
	}
	acts, _ := f.b.DescribeScalingActivities(f.ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: "ecs"})
	if len(acts.ScalingActivities) != 1 || aws.ToString(acts.ScalingActivities[0].Description) != "Setting desired count to 3." ||
		aws.ToString(acts.ScalingActivities[0].Cause) != "minimum capacity was set to 3" {
		t.Errorf("activities %+v", acts.ScalingActivities)
	}
	// Re-registering updates only what it names.
	if _, err := f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount",
		ResourceId: aws.String("service/c/web"), MaxCapacity: aws.Int32(10), SuspendedState: &types.SuspendedState{DynamicScalingInSuspended: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	out, _ = f.b.DescribeScalableTargets(f.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs", ResourceIds: []string{"service/c/web"}})
	tg = out.ScalableTargets[0]
	if aws.ToInt32(tg.MinCapacity) != 3 || aws.ToInt32(tg.MaxCapacity) != 10 || !aws.ToBool(tg.SuspendedState.DynamicScalingInSuspended) {
		t.Errorf("updated %+v", tg)
	}
	_, err = f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount",
		ResourceId: aws.String("service/c/web"), MinCapacity: aws.Int32(11)})
	if code(err) != "ValidationException" {
		t.Errorf("min over max: %v", err)
	}
}

func trackingCPU(target float64) *aas.PutScalingPolicyInput {
	return &aas.PutScalingPolicyInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"),
		PolicyName: aws.String("cpu"), PolicyType: types.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &types.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(target),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeECSServiceAverageCPUUtilization}}}
}

func TestTargetTracking(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.PutScalingPolicy(f.ctx, trackingCPU(70)); code(err) != "ObjectNotFoundException" {
		t.Fatalf("no target: %v", err)
	}
	f.register(t, 1, 8)
	out, err := f.b.PutScalingPolicy(f.ctx, trackingCPU(70))
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PolicyARN)
	if !strings.HasPrefix(arn, "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:") || !strings.HasSuffix(arn, ":resource/ecs/service/c/web:policyName/cpu") {
		t.Errorf("policy ARN %s", arn)
	}
	if len(out.Alarms) != 2 {
		t.Fatalf("alarms %+v", out.Alarms)
	}
	high, low := f.alarms.alarms[aws.ToString(out.Alarms[0].AlarmName)], f.alarms.alarms[aws.ToString(out.Alarms[1].AlarmName)]
	// The alarms of a field report (terraformer's import of an ECS CPU
	// policy with target 70): AlarmHigh > 70 over 3 periods of 60 s,
	// AlarmLow < 63 over 15, Average of AWS/ECS CPUUtilization by
	// ClusterName and ServiceName, Percent, missing data missing.
	if high == nil || low == nil || !strings.HasPrefix(aws.ToString(high.AlarmName), "TargetTracking-service/c/web-AlarmHigh-") ||
		!strings.HasPrefix(aws.ToString(low.AlarmName), "TargetTracking-service/c/web-AlarmLow-") {
		t.Fatalf("alarms %v", f.alarms.alarms)
	}
	if high.ComparisonOperator != cwtypes.ComparisonOperatorGreaterThanThreshold || aws.ToFloat64(high.Threshold) != 70 || aws.ToInt32(high.EvaluationPeriods) != 3 ||
		aws.ToInt32(high.Period) != 60 || high.Statistic != cwtypes.StatisticAverage || aws.ToString(high.MetricName) != "CPUUtilization" ||
		aws.ToString(high.Namespace) != "AWS/ECS" || high.Unit != cwtypes.StandardUnitPercent || aws.ToString(high.TreatMissingData) != "missing" ||
		!slices.Equal(high.AlarmActions, []string{arn}) || aws.ToString(high.AlarmDescription) != "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "+arn+"." {
		t.Errorf("AlarmHigh %+v", high)
	}
	if low.ComparisonOperator != cwtypes.ComparisonOperatorLessThanThreshold || aws.ToFloat64(low.Threshold) != 63 || aws.ToInt32(low.EvaluationPeriods) != 15 {
		t.Errorf("AlarmLow %+v", low)
	}

	// AlarmHigh at 140 % on 2 tasks: twice the target, 4 tasks.
	alarm := cwtypes.MetricAlarm{AlarmName: high.AlarmName, StateValue: cwtypes.StateValueAlarm, Threshold: aws.Float64(70)}
	if err := f.b.RunAlarmAction(f.ctx, arn, alarm, 140); err != nil {
		t.Fatal(err)
	}
	if n := f.ecs.count("c/web"); n != 4 {
		t.Fatalf("desired %d, want 4", n)
	}
	acts, _ := f.b.DescribeScalingActivities(f.ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: "ecs", ResourceId: aws.String("service/c/web")})
	a := acts.ScalingActivities[0]
	// The words of the User Guide's example activity.
	// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html
	if aws.ToString(a.Description) != "Setting desired count to 4." || aws.ToString(a.Cause) != "monitor alarm "+aws.ToString(high.AlarmName)+" in state ALARM triggered policy cpu" ||
		aws.ToString(a.StatusMessage) != "Successfully set desired count to 4. Change successfully fulfilled by ecs." || a.StatusCode != types.ScalingActivityStatusCodeSuccessful {
		t.Errorf("activity %+v", a)
	}
	// Within the scale-out cooldown (300 s by default), the same metric
	// counts from the 2 tasks before it: no further scale-out.
	*f.now = f.now.Add(time.Minute)
	f.b.RunAlarmAction(f.ctx, arn, alarm, 140)
	if n := f.ecs.count("c/web"); n != 4 {
		t.Errorf("desired %d within the cooldown, want 4", n)
	}
	// A higher metric within it scales further, from the same base: 2 × 245 / 70 = 7.
	f.b.RunAlarmAction(f.ctx, arn, alarm, 245)
	if n := f.ecs.count("c/web"); n != 7 {
		t.Errorf("desired %d, want 7", n)
	}
	// The maximum bounds it: 7 × 300 / 70 = 30, at most 8.
	*f.now = f.now.Add(10 * time.Minute)
	f.b.RunAlarmAction(f.ctx, arn, alarm, 300)
	if n := f.ecs.count("c/web"); n != 8 {
		t.Errorf("desired %d, want the maximum 8", n)
	}
	// AlarmLow at 14 % on 8 tasks: 8 × 14 / 70 = 1.6, 2 tasks.
	lowAlarm := cwtypes.MetricAlarm{AlarmName: low.AlarmName, StateValue: cwtypes.StateValueAlarm, Threshold: aws.Float64(63)}
	f.b.RunAlarmAction(f.ctx, arn, lowAlarm, 14)
	if n := f.ecs.count("c/web"); n != 2 {
		t.Errorf("desired %d, want 2", n)
	}
	// An alarm that is not in ALARM does nothing.
	f.b.RunAlarmAction(f.ctx, arn, cwtypes.MetricAlarm{AlarmName: high.AlarmName, StateValue: cwtypes.StateValueOk}, 500)
	if n := f.ecs.count("c/web"); n != 2 {
		t.Errorf("desired %d after OK, want 2", n)
	}

	// DisableScaleIn: the update keeps the alarm names, drops AlarmLow.
	in := trackingCPU(50)
	in.TargetTrackingScalingPolicyConfiguration.DisableScaleIn = aws.Bool(true)
	out2, err := f.b.PutScalingPolicy(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out2.PolicyARN) != arn || len(out2.Alarms) != 1 || aws.ToString(out2.Alarms[0].AlarmName) != aws.ToString(high.AlarmName) || len(f.alarms.alarms) != 1 {
		t.Errorf("update %+v, alarms %v", out2, f.alarms.alarms)
	}
	if aws.ToFloat64(f.alarms.alarms[aws.ToString(high.AlarmName)].Threshold) != 50 {
		t.Error("AlarmHigh not updated")
	}
	pols, _ := f.b.DescribeScalingPolicies(f.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecs", PolicyNames: []string{"cpu"}})
	if len(pols.ScalingPolicies) != 1 || len(pols.ScalingPolicies[0].Alarms) != 1 || !aws.ToBool(pols.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.DisableScaleIn) {
		t.Errorf("describe %+v", pols)
	}
	// The ARN with AWS's createdBy suffix reaches the same policy.
	*f.now = f.now.Add(10 * time.Minute)
	if err := f.b.RunAlarmAction(f.ctx, arn+":createdBy/1c54e45b-afca-46f7-9781-2bea33a51339", alarm, 100); err != nil {
		t.Error(err)
	}
	if n := f.ecs.count("c/web"); n != 4 { // 2 × 100 / 50
		t.Errorf("desired %d, want 4", n)
	}

	if _, err := f.b.DeleteScalingPolicy(f.ctx, &aas.DeleteScalingPolicyInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"), PolicyName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	if len(f.alarms.alarms) != 0 {
		t.Errorf("alarms left %v", f.alarms.alarms)
	}
	if err := f.b.RunAlarmAction(f.ctx, arn, alarm, 100); code(err) != "ObjectNotFoundException" {
		t.Errorf("deleted policy: %v", err)
	}
	_, err = f.b.DeleteScalingPolicy(f.ctx, &aas.DeleteScalingPolicyInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"), PolicyName: aws.String("cpu")})
	if code(err) != "ObjectNotFoundException" || !strings.Contains(err.Error(), "No scaling policy found for service namespace: ecs, resource ID: service/c/web, scalable dimension: ecs:service:DesiredCount, policy name: cpu") {
		t.Errorf("delete again: %v", err)
	}
}

func TestTrackedMetrics(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 8)
	in := trackingCPU(100)
	in.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification = &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeALBRequestCountPerTarget,
		ResourceLabel: aws.String("app/web/0123456789abcdef/targetgroup/web-tg/fedcba9876543210")}
	out, err := f.b.PutScalingPolicy(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	high := f.alarms.alarms[aws.ToString(out.Alarms[0].AlarmName)]
	if aws.ToString(high.MetricName) != "RequestCountPerTarget" || aws.ToString(high.Namespace) != "AWS/ApplicationELB" || high.Statistic != cwtypes.StatisticSum ||
		len(high.Dimensions) != 1 || aws.ToString(high.Dimensions[0].Value) != "targetgroup/web-tg/fedcba9876543210" {
		t.Errorf("ALB alarm %+v", high)
	}
	in.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.ResourceLabel = aws.String("web-tg")
	if _, err := f.b.PutScalingPolicy(f.ctx, in); code(err) != "ValidationException" {
		t.Errorf("bad label: %v", err)
	}
	// Metric math.
	in.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification = nil
	in.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification = &types.CustomizedMetricSpecification{Metrics: []types.TargetTrackingMetricDataQuery{
		{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.TargetTrackingMetricStat{Stat: aws.String("Sum"),
			Metric: &types.TargetTrackingMetric{Namespace: aws.String("App"), MetricName: aws.String("Backlog")}}},
		{Id: aws.String("e1"), Expression: aws.String("m1 / 2")},
	}}
	out, err = f.b.PutScalingPolicy(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	high = f.alarms.alarms[aws.ToString(out.Alarms[0].AlarmName)]
	if len(high.Metrics) != 2 || high.MetricName != nil || aws.ToInt32(high.Metrics[0].MetricStat.Period) != 60 || !aws.ToBool(high.Metrics[1].ReturnData) {
		t.Errorf("math alarm %+v", high)
	}
	in.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification.Metrics[0].ReturnData = nil
	if _, err := f.b.PutScalingPolicy(f.ctx, in); code(err) != "ValidationException" {
		t.Errorf("two returned: %v", err)
	}
}

func TestStepScaling(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 10)
	out, err := f.b.PutScalingPolicy(f.ctx, &aas.PutScalingPolicyInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"),
		PolicyName: aws.String("step"), PolicyType: types.PolicyTypeStepScaling,
		StepScalingPolicyConfiguration: &types.StepScalingPolicyConfiguration{AdjustmentType: types.AdjustmentTypeChangeInCapacity, Cooldown: aws.Int32(60),
			StepAdjustments: []types.StepAdjustment{
				{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(20), ScalingAdjustment: aws.Int32(1)},
				{MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(3)},
			}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Alarms) != 0 || len(f.alarms.alarms) != 0 {
		t.Errorf("a step policy made alarms: %v", out.Alarms)
	}
	alarm := cwtypes.MetricAlarm{AlarmName: aws.String("my-alarm"), StateValue: cwtypes.StateValueAlarm, Threshold: aws.Float64(50)}
	arn := aws.ToString(out.PolicyARN)
	// The user's alarm whose action is the policy is listed with it.
	f.alarms.PutMetricAlarm(f.ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("my-alarm"), AlarmActions: []string{arn}})
	pols, _ := f.b.DescribeScalingPolicies(f.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecs"})
	if len(pols.ScalingPolicies) != 1 || len(pols.ScalingPolicies[0].Alarms) != 1 || aws.ToString(pols.ScalingPolicies[0].Alarms[0].AlarmName) != "my-alarm" {
		t.Errorf("step policy alarms %+v", pols.ScalingPolicies)
	}
	f.b.RunAlarmAction(f.ctx, arn, alarm, 60) // 10 over: +1
	if n := f.ecs.count("c/web"); n != 3 {
		t.Fatalf("desired %d, want 3", n)
	}
	// Within the 60 s cooldown the larger step counts from 2: 2 + 3 = 5.
	*f.now = f.now.Add(30 * time.Second)
	f.b.RunAlarmAction(f.ctx, arn, alarm, 90)
	if n := f.ecs.count("c/web"); n != 5 {
		t.Fatalf("desired %d, want 5", n)
	}
	*f.now = f.now.Add(2 * time.Minute)
	f.b.RunAlarmAction(f.ctx, arn, alarm, 90) // 5 + 3
	if n := f.ecs.count("c/web"); n != 8 {
		t.Fatalf("desired %d, want 8", n)
	}
	// Suspended scale-out: nothing.
	f.b.RegisterScalableTarget(f.ctx, &aas.RegisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount",
		ResourceId: aws.String("service/c/web"), SuspendedState: &types.SuspendedState{DynamicScalingOutSuspended: aws.Bool(true)}})
	*f.now = f.now.Add(2 * time.Minute)
	f.b.RunAlarmAction(f.ctx, arn, alarm, 90)
	if n := f.ecs.count("c/web"); n != 8 {
		t.Fatalf("desired %d while suspended, want 8", n)
	}
	// Deregistering deletes the policy.
	if _, err := f.b.DeregisterScalableTarget(f.ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web")}); err != nil {
		t.Fatal(err)
	}
	pols, _ = f.b.DescribeScalingPolicies(f.ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: "ecs"})
	if len(pols.ScalingPolicies) != 0 {
		t.Errorf("policies left %+v", pols.ScalingPolicies)
	}
	if _, err := f.b.DeregisterScalableTarget(f.ctx, &aas.DeregisterScalableTargetInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web")}); code(err) != "ObjectNotFoundException" {
		t.Errorf("deregister again: %v", err)
	}
}

func TestScheduledAction(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 10)
	put := &aas.PutScheduledActionInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"),
		ScheduledActionName: aws.String("morning"), Schedule: aws.String("at(2026-11-30T10:00:00)"), Timezone: aws.String("Europe/Paris"), // 09:00 UTC
		ScalableTargetAction: &types.ScalableTargetAction{MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(12)}}
	if _, err := f.b.PutScheduledAction(f.ctx, put); err != nil {
		t.Fatal(err)
	}
	// At 09:00 UTC on the dot it is due.
	if n := f.b.RunDue(f.ctx); n != 1 {
		t.Fatalf("ran %d", n)
	}
	if n := f.ecs.count("c/web"); n != 5 {
		t.Errorf("desired %d, want the new minimum 5", n)
	}
	if n := f.b.RunDue(f.ctx); n != 0 {
		t.Errorf("an at() ran twice")
	}
	tg, _ := f.b.DescribeScalableTargets(f.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs"})
	if aws.ToInt32(tg.ScalableTargets[0].MinCapacity) != 5 || aws.ToInt32(tg.ScalableTargets[0].MaxCapacity) != 12 {
		t.Errorf("target %+v", tg.ScalableTargets[0])
	}
	acts, _ := f.b.DescribeScalingActivities(f.ctx, &aas.DescribeScalingActivitiesInput{ServiceNamespace: "ecs"})
	var causes []string
	for _, a := range acts.ScalingActivities {
		causes = append(causes, aws.ToString(a.Cause))
	}
	if !slices.Contains(causes, "scheduled action name morning was triggered") || !slices.Contains(causes, "minimum capacity was set to 5") {
		t.Errorf("causes %q", causes)
	}
	sa, _ := f.b.DescribeScheduledActions(f.ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: "ecs", ScheduledActionNames: []string{"morning"}})
	if len(sa.ScheduledActions) != 1 || aws.ToString(sa.ScheduledActions[0].Timezone) != "Europe/Paris" ||
		!strings.HasSuffix(aws.ToString(sa.ScheduledActions[0].ScheduledActionARN), ":resource/ecs/service/c/web:scheduledActionName/morning") {
		t.Errorf("describe %+v", sa)
	}
	for _, bad := range []*string{aws.String("cron(0 10 * * * *)"), aws.String("rate(1 fortnight)")} {
		put.Schedule = bad
		if _, err := f.b.PutScheduledAction(f.ctx, put); code(err) != "ValidationException" {
			t.Errorf("%s: %v", *bad, err)
		}
	}
	put.Schedule, put.Timezone = aws.String("rate(1 hour)"), aws.String("Mars/Olympus")
	if _, err := f.b.PutScheduledAction(f.ctx, put); code(err) != "ValidationException" {
		t.Errorf("time zone: %v", err)
	}
	if _, err := f.b.DeleteScheduledAction(f.ctx, &aas.DeleteScheduledActionInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"), ScheduledActionName: aws.String("morning")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.DeleteScheduledAction(f.ctx, &aas.DeleteScheduledActionInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"), ScheduledActionName: aws.String("morning")}); code(err) != "ObjectNotFoundException" {
		t.Errorf("delete again: %v", err)
	}
}

func TestTags(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 3)
	tg, _ := f.b.DescribeScalableTargets(f.ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: "ecs"})
	arn := tg.ScalableTargets[0].ScalableTargetARN
	if _, err := f.b.TagResource(f.ctx, &aas.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"env": "prod", "team": "a"}}); err != nil {
		t.Fatal(err)
	}
	f.b.UntagResource(f.ctx, &aas.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"team"}})
	out, err := f.b.ListTagsForResource(f.ctx, &aas.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(out.Tags) != 1 || out.Tags["env"] != "prod" {
		t.Errorf("tags %v %v", out, err)
	}
	if _, err := f.b.ListTagsForResource(f.ctx, &aas.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/nope")}); code(err) != "ResourceNotFoundException" {
		t.Errorf("unknown ARN: %v", err)
	}
	many := map[string]string{}
	for i := range 51 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	if _, err := f.b.TagResource(f.ctx, &aas.TagResourceInput{ResourceARN: arn, Tags: many}); code(err) != "TooManyTagsException" {
		t.Errorf("51 tags: %v", err)
	}
}

// With two target tracking policies, one's AlarmLow scales in only once
// the other's AlarmLow is in ALARM too: "Application Auto Scaling scales
// in only if all of the target tracking policies (with the scale-in
// portion enabled) are ready to scale in."
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
func TestScaleInNeedsEveryTrackingPolicy(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 10)
	f.ecs.desired["c/web"] = 6
	cpu := try(f.b.PutScalingPolicy(f.ctx, trackingCPU(50)))(t)
	mem := trackingCPU(50)
	mem.PolicyName = aws.String("memory")
	mem.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType = types.MetricTypeECSServiceAverageMemoryUtilization
	memOut := try(f.b.PutScalingPolicy(f.ctx, mem))(t)
	cpuLow := cwtypes.MetricAlarm{AlarmName: cpu.Alarms[1].AlarmName, StateValue: cwtypes.StateValueAlarm, Threshold: aws.Float64(45)}
	f.b.RunAlarmAction(f.ctx, aws.ToString(cpu.PolicyARN), cpuLow, 10)
	if n := f.ecs.count("c/web"); n != 6 {
		t.Fatalf("desired %d while the memory policy is not ready to scale in, want 6", n)
	}
	f.alarms.states[aws.ToString(memOut.Alarms[1].AlarmName)] = cwtypes.StateValueAlarm
	f.b.RunAlarmAction(f.ctx, aws.ToString(cpu.PolicyARN), cpuLow, 10) // 6 × 10 / 50 = 1.2
	if n := f.ecs.count("c/web"); n != 2 {
		t.Fatalf("desired %d, want 2", n)
	}
}

// try returns a call's output, failing the test on its error.
func try[T any](out T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// A TargetValue outside "8.515920e-109 to 1.174271e+108 (Base 10)"
// (http://docs.aws.amazon.com/ApplicationAutoScaling/latest/APIReference/API_TargetTrackingScalingPolicyConfiguration.html)
// is a ValidationException, and no alarm is made for it.
func TestTargetValueRange(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 8)
	for _, v := range []float64{0, -70, 8e-109, 1.2e108, 1e308, math.NaN(), math.Inf(1)} {
		if _, err := f.b.PutScalingPolicy(f.ctx, trackingCPU(v)); code(err) != "ValidationException" {
			t.Errorf("TargetValue %v: %v", v, err)
		}
	}
	if len(f.alarms.alarms) != 0 {
		t.Errorf("alarms made for refused policies: %v", f.alarms.alarms)
	}
	for _, v := range []float64{8.515920e-109, 1.174271e+108} {
		if _, err := f.b.PutScalingPolicy(f.ctx, trackingCPU(v)); err != nil {
			t.Errorf("TargetValue %v: %v", v, err)
		}
	}
}

// An alarm runs only the policies of its own account and region: the
// ARN of another's is refused, nothing scales, and the error is the same
// whether that policy exists or not. (An alarm action names a resource
// of the alarm's account and region: "arn:aws:autoscaling:region:account-id:scalingPolicy:...",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
func TestAlarmActionOtherScope(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 8)
	out, err := f.b.PutScalingPolicy(f.ctx, trackingCPU(70))
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PolicyARN)
	alarm := cwtypes.MetricAlarm{AlarmName: out.Alarms[0].AlarmName, StateValue: cwtypes.StateValueAlarm, Threshold: aws.Float64(70)}
	missing := strings.Replace(arn, "policyName/cpu", "policyName/none", 1)
	var msgs []string
	for _, s := range []backend.Scope{{Account: "210987654321", Region: "us-east-1"}, {Account: "123456789012", Region: "eu-west-1"}} {
		for _, a := range []string{arn, missing} {
			err := f.b.RunAlarmAction(backend.WithScope(context.Background(), s), a, alarm, 140)
			if code(err) != "ValidationException" {
				t.Errorf("%v running %s: %v", s, a, err)
				continue
			}
			msgs = append(msgs, err.Error())
		}
	}
	for _, m := range msgs {
		if m != msgs[0] || strings.Contains(m, "123456789012") || strings.Contains(m, "cpu") {
			t.Errorf("the error tells about the other account: %q", m)
		}
	}
	if n := f.ecs.count("c/web"); n != 2 || f.ecs.updates != 0 {
		t.Errorf("desired %d after %d updates, want 2 untouched", n, f.ecs.updates)
	}
	// Its own account and region still run it: 2 × 140 / 70 = 4.
	if err := f.b.RunAlarmAction(f.ctx, arn, alarm, 140); err != nil || f.ecs.count("c/web") != 4 {
		t.Errorf("own alarm: %v, desired %d", err, f.ecs.count("c/web"))
	}
}

// A Schedule that overflows is a ValidationException of
// PutScheduledAction (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html),
// not a crash, and stores nothing.
func TestScheduledActionOverflow(t *testing.T) {
	f := newFixture(t)
	f.register(t, 1, 10)
	for _, sch := range []string{"rate(6868900950696907 minutes)", "rate(+1 minute)", "cron(1/9223372036854775807 * * * ? *)", "cron(0 0 * * ? 1971/9223372036854775807)"} {
		put := &aas.PutScheduledActionInput{ServiceNamespace: "ecs", ScalableDimension: "ecs:service:DesiredCount", ResourceId: aws.String("service/c/web"),
			ScheduledActionName: aws.String("bad"), Schedule: aws.String(sch), ScalableTargetAction: &types.ScalableTargetAction{MinCapacity: aws.Int32(2)}}
		if _, err := f.b.PutScheduledAction(f.ctx, put); code(err) != "ValidationException" {
			t.Errorf("%s: %v", sch, err)
		}
	}
	out, err := f.b.DescribeScheduledActions(f.ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: "ecs"})
	if err != nil || len(out.ScheduledActions) != 0 {
		t.Errorf("stored %+v, %v", out, err)
	}
}
