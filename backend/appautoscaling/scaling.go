package appautoscaling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth/backend"
	"berth/sqlite"
)

// RunAlarmAction is what CloudWatch calls while an alarm whose action is
// the policy with this ARN is in ALARM (once a minute while it stays
// there); value is the alarm's latest datapoint. A target tracking
// policy scales to bring the metric to its target, a step policy by the
// step that value - threshold falls in; cooldowns, suspended states and
// the target's bounds decide whether and how far. Nothing to do is not
// an error; a policy that does not exist (any more) is, and so is one
// of an account or region other than the alarm's (the scope in ctx).
func (b *Backend) RunAlarmAction(ctx context.Context, arn string, alarm cwtypes.MetricAlarm, value float64) error {
	if alarm.StateValue != cwtypes.StateValueAlarm {
		return nil
	}
	ref, ok := parsePolicyARN(arn)
	if !ok {
		return errValidation("%s is not the ARN of an ECS scaling policy.", arn)
	}
	// The alarm's scope (ctx) is the only one its actions may touch: a
	// policy of another account or region runs nothing, with an error
	// that says nothing of whether it exists there.
	s := backend.ScopeFrom(ctx)
	if ref.scope != s {
		return errValidation("The policy is not in the alarm's account and region.")
	}
	tkey := targetKey(string(types.ServiceNamespaceEcs), ref.resourceID, string(types.ScalableDimensionECSServiceDesiredCount))
	pkey := childKey(tkey, ref.name)

	b.scaling.Lock()
	defer b.scaling.Unlock()
	var t target
	var p policy
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var err error
		if t, err = getTarget(tx, s, types.ServiceNamespaceEcs, ref.resourceID, types.ScalableDimensionECSServiceDesiredCount); err != nil {
			return err
		}
		err = tx.Get(s.Key(kindPolicy, pkey), &p)
		if errors.Is(err, sqlite.ErrNotFound) || err == nil && aws.ToString(p.PolicyARN) != ref.arn {
			return errNotFound("No scaling policy found for ARN %s.", arn)
		}
		return err
	})
	if err != nil {
		return err
	}
	current, err := b.desiredCount(ctx, ref.resourceID)
	if err != nil {
		return err
	}
	now := b.env.Clock()
	d := decide(t.ScalableTarget, p, alarm, value, current, now)
	if d.desired == current {
		return nil
	}
	if d.desired < current && p.TargetTrackingScalingPolicyConfiguration != nil && !b.allReadyToScaleIn(ctx, tkey, p) {
		return nil
	}
	if d.desired > current {
		if d.freshCooldown {
			p.OutBase = current
		}
		p.LastOut = now
	} else {
		p.LastIn = now
	}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var still policy
		if err := tx.Get(s.Key(kindPolicy, pkey), &still); err != nil {
			return err
		}
		still.LastOut, still.OutBase, still.LastIn = p.LastOut, p.OutBase, p.LastIn
		return tx.Put(s.Row(kindPolicy, pkey, tkey, aws.ToString(still.PolicyARN)), still)
	})
	if err != nil {
		return err
	}
	cause := fmt.Sprintf("monitor alarm %s in state ALARM triggered policy %s", aws.ToString(alarm.AlarmName), aws.ToString(p.PolicyName))
	return b.setDesired(ctx, t.ScalableTarget, d.desired, cause)
}

// decision is what an alarm asks of a target.
type decision struct {
	desired int32
	// freshCooldown: a scale-out that starts a cooldown (rather than one
	// within a running one, which counts from the same base).
	freshCooldown bool
}

// decide computes the count an alarm's action sets, or current for none.
//
// Cooldowns, as the guides describe them: within a scale-out cooldown
// "the capacity added by the initiating scale-out activity is calculated
// as part of the desired capacity for the next scale out", so the
// adjustment counts from the count before it and only a larger result
// scales further; a scale-in cooldown blocks scale-in, never scale-out.
// https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html#step-scaling-cooldown
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html#target-tracking-cooldown
func decide(t types.ScalableTarget, p policy, alarm cwtypes.MetricAlarm, value float64, current int32, now time.Time) decision {
	none := decision{desired: current}
	outCool, inCool := defaultCooldown, defaultCooldown
	var want func(base int32) int32
	out := false
	switch {
	case p.TargetTrackingScalingPolicyConfiguration != nil:
		c := p.TargetTrackingScalingPolicyConfiguration
		if c.ScaleOutCooldown != nil {
			outCool = time.Duration(*c.ScaleOutCooldown) * time.Second
		}
		if c.ScaleInCooldown != nil {
			inCool = time.Duration(*c.ScaleInCooldown) * time.Second
		}
		target := aws.ToFloat64(c.TargetValue)
		out = p.isHigh(aws.ToString(alarm.AlarmName))
		if !out && aws.ToBool(c.DisableScaleIn) {
			return none
		}
		want = func(base int32) int32 { return trackingCapacity(base, value, target) }
	case p.StepScalingPolicyConfiguration != nil:
		c := p.StepScalingPolicyConfiguration
		if c.Cooldown != nil {
			outCool = time.Duration(*c.Cooldown) * time.Second
			inCool = outCool
		}
		step, ok := chooseStep(c.StepAdjustments, value-aws.ToFloat64(alarm.Threshold))
		if !ok {
			return none
		}
		adj := aws.ToInt32(step.ScalingAdjustment)
		out = c.AdjustmentType == types.AdjustmentTypeExactCapacity && adj > current || c.AdjustmentType != types.AdjustmentTypeExactCapacity && adj > 0
		want = func(base int32) int32 { return adjusted(base, c.AdjustmentType, adj, c.MinAdjustmentMagnitude) }
	default:
		return none
	}
	lo, hi := aws.ToInt32(t.MinCapacity), aws.ToInt32(t.MaxCapacity)
	st := t.SuspendedState
	if out {
		if st != nil && aws.ToBool(st.DynamicScalingOutSuspended) {
			return none
		}
		fresh := p.LastOut.IsZero() || !now.Before(p.LastOut.Add(outCool))
		base := current
		if !fresh {
			base = p.OutBase
		}
		n := clamp(want(base), lo, hi)
		if n <= current {
			return none
		}
		return decision{desired: n, freshCooldown: fresh}
	}
	if st != nil && aws.ToBool(st.DynamicScalingInSuspended) {
		return none
	}
	if !p.LastIn.IsZero() && now.Before(p.LastIn.Add(inCool)) {
		return none
	}
	n := clamp(want(current), lo, hi)
	if n >= current {
		return none
	}
	return decision{desired: n}
}

// setDesired sets the ECS service's desired count through UpdateService
// and records the activity, worded as AWS words it:
//
//	"Description": "Setting desired count to 1.",
//	"Cause": "monitor alarm web-app-cpu-lt-25 in state ALARM triggered policy web-app-cpu-lt-25",
//	"StatusMessage": "Successfully set desired count to 1. Change successfully fulfilled by ecs.",
//
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html
func (b *Backend) setDesired(ctx context.Context, t types.ScalableTarget, n int32, cause string) error {
	cluster, service, _ := ecsService(aws.ToString(t.ResourceId))
	start := b.env.Clock()
	_, err := b.services.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: &cluster, Service: &service, DesiredCount: aws.Int32(n)})
	a := activity(t, start)
	a.Description = aws.String(fmt.Sprintf("Setting desired count to %d.", n))
	a.Cause = aws.String(cause)
	end := b.env.Clock()
	a.EndTime = &end
	if err != nil {
		a.StatusCode = types.ScalingActivityStatusCodeFailed
		a.StatusMessage = aws.String(fmt.Sprintf("Failed to set desired count to %d. Reason: %v", n, err))
	} else {
		a.StatusCode = types.ScalingActivityStatusCodeSuccessful
		a.StatusMessage = aws.String(fmt.Sprintf("Successfully set desired count to %d. Change successfully fulfilled by ecs.", n))
	}
	if rerr := b.record(ctx, a); rerr != nil {
		return rerr
	}
	if err != nil {
		return errFailedAccess("Failed to set the desired count of %s: %v", aws.ToString(t.ResourceId), err)
	}
	return nil
}

// enforceBounds brings the service within its target's bounds after they
// changed, with the cause AWS gives ("minimum capacity was set to N").
// A failure is recorded as the activity's; the change of bounds stands.
func (b *Backend) enforceBounds(ctx context.Context, t types.ScalableTarget, minSet, maxSet bool) {
	b.scaling.Lock()
	defer b.scaling.Unlock()
	current, err := b.desiredCount(ctx, aws.ToString(t.ResourceId))
	if err != nil {
		return
	}
	lo, hi := aws.ToInt32(t.MinCapacity), aws.ToInt32(t.MaxCapacity)
	switch {
	case minSet && current < lo:
		b.setDesired(ctx, t, lo, fmt.Sprintf("minimum capacity was set to %d", lo))
	case maxSet && current > hi:
		b.setDesired(ctx, t, hi, fmt.Sprintf("maximum capacity was set to %d", hi))
	}
}

// allReadyToScaleIn reports whether every other target tracking policy
// of the target that scales in is ready to: "If you have multiple target
// tracking policies ... Application Auto Scaling scales in only if all of
// the target tracking policies (with the scale-in portion enabled) are
// ready to scale in", ready meaning its AlarmLow is in ALARM.
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
func (b *Backend) allReadyToScaleIn(ctx context.Context, tkey string, p policy) bool {
	s := backend.ScopeFrom(ctx)
	var others []policy
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		others, err = sqlite.ListAll[policy](tx, s.Query(kindPolicy, tkey))
		return err
	})
	if err != nil {
		return false
	}
	var lows []string
	for _, o := range others {
		if aws.ToString(o.PolicyARN) != aws.ToString(p.PolicyARN) && o.LowAlarm != "" {
			lows = append(lows, o.LowAlarm)
		}
	}
	if len(lows) == 0 {
		return true
	}
	if b.alarms == nil {
		return false
	}
	out, err := b.alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: lows})
	if err != nil {
		return false
	}
	ready := 0
	for _, a := range out.MetricAlarms {
		if a.StateValue == cwtypes.StateValueAlarm {
			ready++
		}
	}
	return ready == len(lows)
}
