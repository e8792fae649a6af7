package appautoscaling

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"berth/backend"
	"berth/sqlite"
)

// policy is a stored scaling policy with the alarms target tracking made
// for it and its cooldown state.
type policy struct {
	types.ScalingPolicy
	// HighAlarm and LowAlarm are the names of the alarms a target
	// tracking policy owns ("" for none: step scaling, or no scale-in).
	HighAlarm, LowAlarm string
	// AlarmIDs are the uuids in the owned alarms' names, kept across
	// updates so that the alarms are updated in place.
	HighID, LowID string
	// LastOut is when the policy last scaled out and OutBase the count it
	// scaled out from at the start of that cooldown; LastIn when it last
	// scaled in.
	LastOut time.Time
	OutBase int32
	LastIn  time.Time
}

// alarmNames are the alarms the policy owns.
func (p policy) alarmNames() []string {
	var out []string
	for _, n := range []string{p.HighAlarm, p.LowAlarm} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// maxPolicies is how many scaling policies a scalable target may have
// (Application Auto Scaling quotas: "Scaling policies per scalable
// target: 50").
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-limits.html
const maxPolicies = 50

// defaultCooldown is the cooldown of an ECS policy that sets none: "ECS
// services: 300 seconds".
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html
const defaultCooldown = 300 * time.Second

// The range of a target tracking policy's TargetValue: "The target
// value for the metric. The range is 8.515920e-109 to 1.174271e+108
// (Base 10) or 2e-360 to 2e360 (Base 2)."
// http://docs.aws.amazon.com/ApplicationAutoScaling/latest/APIReference/API_TargetTrackingScalingPolicyConfiguration.html
// Checked before any alarm is made, so that a value CloudWatch would
// refuse as a threshold is a ValidationException of this call.
const (
	minTargetValue = 8.515920e-109
	maxTargetValue = 1.174271e+108
)

// albLabel is the resource label of ALBRequestCountPerTarget:
// app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html
var albLabel = regexp.MustCompile(`^app/[^/]+/[0-9a-f]+/(targetgroup/[^/]+/[0-9a-f]+)$`)

// checkPolicy validates a policy's configuration for its type.
func checkPolicy(in *aas.PutScalingPolicyInput) error {
	switch in.PolicyType {
	case types.PolicyTypeTargetTrackingScaling:
		c := in.TargetTrackingScalingPolicyConfiguration
		if c == nil {
			return errValidation("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling.")
		}
		if in.StepScalingPolicyConfiguration != nil {
			return errValidation("StepScalingPolicyConfiguration is not allowed for a policy of type TargetTrackingScaling.")
		}
		if c.TargetValue == nil {
			return errValidation("TargetValue is required.")
		}
		if v := *c.TargetValue; !(v >= minTargetValue && v <= maxTargetValue) { // NaN fails too
			return errValidation("TargetValue %v is not valid: the range is %v to %v.", v, minTargetValue, maxTargetValue)
		}
		if c.ScaleInCooldown != nil && *c.ScaleInCooldown < 0 || c.ScaleOutCooldown != nil && *c.ScaleOutCooldown < 0 {
			return errValidation("Cooldown periods must not be negative.")
		}
		return checkTrackedMetric(c)
	case types.PolicyTypeStepScaling:
		c := in.StepScalingPolicyConfiguration
		if c == nil {
			return errValidation("StepScalingPolicyConfiguration is required for a policy of type StepScaling.")
		}
		if in.TargetTrackingScalingPolicyConfiguration != nil {
			return errValidation("TargetTrackingScalingPolicyConfiguration is not allowed for a policy of type StepScaling.")
		}
		return checkSteps(c)
	case types.PolicyTypePredictiveScaling:
		return errValidation("berth does not support PredictiveScaling policies: use TargetTrackingScaling or StepScaling.")
	case "":
		return errValidation("PolicyType is required when creating a scaling policy.")
	}
	return errValidation("Unsupported policy type %s.", in.PolicyType)
}

// checkTrackedMetric checks that a target tracking policy names exactly
// one metric, and one berth can track for an ECS service.
func checkTrackedMetric(c *types.TargetTrackingScalingPolicyConfiguration) error {
	pre, cus := c.PredefinedMetricSpecification, c.CustomizedMetricSpecification
	switch {
	case pre == nil && cus == nil:
		return errValidation("Either PredefinedMetricSpecification or CustomizedMetricSpecification is required.")
	case pre != nil && cus != nil:
		return errValidation("Only one of PredefinedMetricSpecification and CustomizedMetricSpecification may be given.")
	case pre != nil:
		switch pre.PredefinedMetricType {
		case types.MetricTypeECSServiceAverageCPUUtilization, types.MetricTypeECSServiceAverageMemoryUtilization:
			return nil
		case types.MetricTypeALBRequestCountPerTarget:
			if !albLabel.MatchString(aws.ToString(pre.ResourceLabel)) {
				return errValidation("ResourceLabel %q is not valid for ALBRequestCountPerTarget: it is app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>.", aws.ToString(pre.ResourceLabel))
			}
			return nil
		}
		return errValidation("Predefined metric type %s is not valid for service namespace ecs: use ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or ALBRequestCountPerTarget.", pre.PredefinedMetricType)
	}
	if len(cus.Metrics) > 0 {
		if cus.MetricName != nil || cus.Namespace != nil || cus.Statistic != "" || len(cus.Dimensions) > 0 {
			return errValidation("A CustomizedMetricSpecification has either Metrics or MetricName, Namespace, Dimensions and Statistic, not both.")
		}
		returned := 0
		for _, q := range cus.Metrics {
			if aws.ToString(q.Id) == "" {
				return errValidation("Every metric data query needs an Id.")
			}
			if (q.Expression == nil) == (q.MetricStat == nil) {
				return errValidation("Metric data query %s must have exactly one of Expression and MetricStat.", aws.ToString(q.Id))
			}
			if q.ReturnData == nil || *q.ReturnData {
				returned++
			}
		}
		if returned != 1 {
			return errValidation("Exactly one metric data query must return data (ReturnData true).")
		}
		return nil
	}
	if cus.MetricName == nil || cus.Namespace == nil || cus.Statistic == "" {
		return errValidation("A CustomizedMetricSpecification needs MetricName, Namespace and Statistic, or Metrics.")
	}
	return nil
}

// PutScalingPolicy creates or updates a scaling policy of a registered
// target. A target tracking policy creates (or updates) the alarms it
// owns, AlarmHigh and, unless scale-in is disabled, AlarmLow.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html
func (b *Backend) PutScalingPolicy(ctx context.Context, in *aas.PutScalingPolicyInput) (*aas.PutScalingPolicyOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	resourceID, name := aws.ToString(in.ResourceId), aws.ToString(in.PolicyName)
	tkey := targetKey(string(in.ServiceNamespace), resourceID, string(in.ScalableDimension))
	pkey := childKey(tkey, name)

	// The policy as it stands decides the ARN and the alarm names.
	var old policy
	exists := false
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if _, err := getTarget(tx, s, in.ServiceNamespace, resourceID, in.ScalableDimension); err != nil {
			return err
		}
		err := tx.Get(s.Key(kindPolicy, pkey), &old)
		if errors.Is(err, sqlite.ErrNotFound) {
			n, err := tx.Count(s.Query(kindPolicy, tkey))
			if err == nil && n >= maxPolicies {
				return errLimit("A scalable target can have at most %d scaling policies.", maxPolicies)
			}
			return err
		}
		exists = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	if in.PolicyType == "" && exists {
		in.PolicyType = old.PolicyType
	}
	if err := checkPolicy(in); err != nil {
		return nil, err
	}
	if in.PolicyType == types.PolicyTypeTargetTrackingScaling && b.alarms == nil {
		return nil, errFailedAccess("berth serves no CloudWatch alarms, which a target tracking policy needs.")
	}

	p := old
	if !exists {
		now := b.env.Clock()
		p = policy{ScalingPolicy: types.ScalingPolicy{
			PolicyARN: aws.String(fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%s:%s:policyName/%s",
				s.Region, s.Account, backend.NewUUID(b.env.IDs), ecsARNPart(resourceID), name)),
			PolicyName: aws.String(name), ServiceNamespace: in.ServiceNamespace, ResourceId: aws.String(resourceID),
			ScalableDimension: in.ScalableDimension, CreationTime: &now,
		}}
	}
	p.PolicyType = in.PolicyType
	p.TargetTrackingScalingPolicyConfiguration = in.TargetTrackingScalingPolicyConfiguration
	p.StepScalingPolicyConfiguration = in.StepScalingPolicyConfiguration

	// The alarms are made first, so a policy never claims alarms that do
	// not exist; those it no longer needs go after it is stored.
	stale := old.alarmNames()
	p.HighAlarm, p.LowAlarm, p.Alarms = "", "", nil
	if c := p.TargetTrackingScalingPolicyConfiguration; c != nil {
		if p.HighID == "" {
			p.HighID = backend.NewUUID(b.env.IDs)
		}
		p.HighAlarm = "TargetTracking-" + resourceID + "-AlarmHigh-" + p.HighID
		if !aws.ToBool(c.DisableScaleIn) {
			if p.LowID == "" {
				p.LowID = backend.NewUUID(b.env.IDs)
			}
			p.LowAlarm = "TargetTracking-" + resourceID + "-AlarmLow-" + p.LowID
		}
		for _, a := range trackingAlarms(p) {
			if _, err := b.alarms.PutMetricAlarm(ctx, a); err != nil {
				return nil, errFailedAccess("Failed to put the CloudWatch alarm %s: %v", aws.ToString(a.AlarmName), err)
			}
			p.Alarms = append(p.Alarms, types.Alarm{AlarmName: a.AlarmName, AlarmARN: aws.String(fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", s.Region, s.Account, aws.ToString(a.AlarmName)))})
		}
	}
	stale = slices.DeleteFunc(stale, func(n string) bool { return n == p.HighAlarm || n == p.LowAlarm })

	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := getTarget(tx, s, in.ServiceNamespace, resourceID, in.ScalableDimension); err != nil {
			return err
		}
		return tx.Put(s.Row(kindPolicy, pkey, tkey, aws.ToString(p.PolicyARN)), p)
	})
	if err != nil {
		if !exists {
			stale = append(stale, p.alarmNames()...)
		}
		b.deleteAlarms(ctx, stale)
		return nil, err
	}
	b.deleteAlarms(ctx, stale)
	return &aas.PutScalingPolicyOutput{PolicyARN: p.PolicyARN, Alarms: backend.OrEmpty(p.Alarms)}, nil
}

// deleteAlarms deletes alarms a policy owned; a failure is logged, as
// the policy that owned them is gone either way.
func (b *Backend) deleteAlarms(ctx context.Context, names []string) {
	if len(names) == 0 || b.alarms == nil {
		return
	}
	if _, err := b.alarms.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: names}); err != nil {
		b.log.Warn().Err(err).Strs("alarms", names).Msg("deleting the alarms of a target tracking policy")
	}
}

// DescribeScalingPolicies lists the policies of a namespace, of one
// resource, of some names.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingPolicies.html
func (b *Backend) DescribeScalingPolicies(ctx context.Context, in *aas.DescribeScalingPoliciesInput) (*aas.DescribeScalingPoliciesOutput, error) {
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if in.ScalableDimension != "" && in.ResourceId == nil {
		return nil, errValidation("ResourceId is required when ScalableDimension is given.")
	}
	page, next, err := describe(ctx, b, kindPolicy, in.MaxResults, in.NextToken, func(p policy) bool {
		return p.ServiceNamespace != in.ServiceNamespace ||
			in.ResourceId != nil && aws.ToString(p.ResourceId) != *in.ResourceId ||
			in.ScalableDimension != "" && p.ScalableDimension != in.ScalableDimension ||
			len(in.PolicyNames) > 0 && !slices.Contains(in.PolicyNames, aws.ToString(p.PolicyName))
	}, func(p policy) string { return aws.ToString(p.PolicyARN) })
	if err != nil {
		return nil, err
	}
	out := &aas.DescribeScalingPoliciesOutput{ScalingPolicies: []types.ScalingPolicy{}, NextToken: next}
	for _, p := range page {
		if p.PolicyType == types.PolicyTypeStepScaling {
			p.Alarms = b.alarmsOf(ctx, aws.ToString(p.PolicyARN))
		}
		p.Alarms = backend.OrEmpty(p.Alarms)
		out.ScalingPolicies = append(out.ScalingPolicies, p.ScalingPolicy)
	}
	return out, nil
}

// alarmsOf are the alarms whose action is a step policy: the user's,
// which DescribeScalingPolicies lists as AWS does ("Alarms: The
// CloudWatch alarms associated with the scaling policy",
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ScalingPolicy.html).
// CloudWatch not answering leaves the list empty.
func (b *Backend) alarmsOf(ctx context.Context, arn string) []types.Alarm {
	if b.alarms == nil {
		return nil
	}
	var out []types.Alarm
	in := &cloudwatch.DescribeAlarmsInput{ActionPrefix: aws.String(arn)}
	for {
		page, err := b.alarms.DescribeAlarms(ctx, in)
		if err != nil {
			b.log.Warn().Err(err).Str("policy", arn).Msg("listing the alarms of a step scaling policy")
			return out
		}
		for _, a := range page.MetricAlarms {
			if slices.Contains(a.AlarmActions, arn) {
				out = append(out, types.Alarm{AlarmName: a.AlarmName, AlarmARN: a.AlarmArn})
			}
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

// DeleteScalingPolicy deletes a policy and the alarms target tracking
// made for it; a step policy's alarms are the user's and stay.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScalingPolicy.html
func (b *Backend) DeleteScalingPolicy(ctx context.Context, in *aas.DeleteScalingPolicyInput) (*aas.DeleteScalingPolicyOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	key := childKey(targetKey(string(in.ServiceNamespace), aws.ToString(in.ResourceId), string(in.ScalableDimension)), aws.ToString(in.PolicyName))
	var p policy
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(s.Key(kindPolicy, key), &p)
		if errors.Is(err, sqlite.ErrNotFound) {
			// As users and moto quote it.
			return errNotFound("No scaling policy found for service namespace: %s, resource ID: %s, scalable dimension: %s, policy name: %s",
				in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension, aws.ToString(in.PolicyName))
		}
		if err != nil {
			return err
		}
		return tx.Delete(s.Key(kindPolicy, key))
	})
	if err != nil {
		return nil, err
	}
	b.deleteAlarms(ctx, p.alarmNames())
	return &aas.DeleteScalingPolicyOutput{}, nil
}

// policyRef is what a policy ARN names.
type policyRef struct {
	scope      backend.Scope
	arn        string // without a createdBy suffix
	resourceID string
	name       string
}

// parsePolicyARN reads arn:aws:autoscaling:<region>:<account>:scalingPolicy:<uuid>:resource/ecs/<resource id>:policyName/<name>,
// optionally followed by :createdBy/<uuid> as in the actions of the
// alarms AWS makes (a field report: terraformer's import of such alarms,
// "alarm_actions = [...:policyName/backend-scaling:createdBy/1c54e45b-...]").
func parsePolicyARN(arn string) (policyRef, bool) {
	parts := strings.SplitN(arn, ":", 8)
	if len(parts) != 8 || parts[0] != "arn" || parts[2] != "autoscaling" || parts[5] != "scalingPolicy" {
		return policyRef{}, false
	}
	rest, ok := strings.CutPrefix(parts[7], "resource/ecs/")
	if !ok {
		return policyRef{}, false
	}
	resourceID, name, ok := strings.Cut(rest, ":policyName/")
	if !ok {
		return policyRef{}, false
	}
	trimmed := arn
	if i := strings.LastIndex(name, ":createdBy/"); i >= 0 {
		trimmed = strings.TrimSuffix(arn, name[i:])
		name = name[:i]
	}
	if _, _, ok := ecsService(resourceID); !ok || name == "" {
		return policyRef{}, false
	}
	return policyRef{scope: backend.Scope{Account: parts[4], Region: parts[3]}, arn: trimmed, resourceID: resourceID, name: name}, true
}
