package appautoscaling

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// trackingCapacity is the capacity that brings a metric to its target,
// assuming the metric is proportional to load spread over the capacity:
// "if the metric is above the target, the target tracking policy
// increases capacity in proportion to the amount the metric is over",
// ceil(current × metric / target), rounded up so that the metric lands
// at or under the target both ways (conservative on scale-in).
// https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
//
// A service with no task has no per-task metric to scale by: an alarm
// over target brings it to one.
func trackingCapacity(current int32, metric, target float64) int32 {
	if target <= 0 || math.IsNaN(metric) || math.IsInf(metric, 0) {
		return current
	}
	if current == 0 {
		if metric > target {
			return 1
		}
		return 0
	}
	// Rounded to 9 places first, so that 2 × 75 / 50 is 3, not 4.
	v := math.Ceil(math.Round(float64(current)*metric/target*1e9) / 1e9)
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(v)
}

// chooseStep is the step adjustment whose interval holds diff, the
// metric's distance from the alarm threshold (metric - threshold). A
// missing lower bound is minus infinity, a missing upper plus infinity;
// at or above the threshold the lower bound is inclusive and the upper
// exclusive, below it the lower is exclusive and the upper inclusive.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepAdjustment.html
func chooseStep(steps []types.StepAdjustment, diff float64) (types.StepAdjustment, bool) {
	for _, s := range steps {
		lo, hi := math.Inf(-1), math.Inf(1)
		if s.MetricIntervalLowerBound != nil {
			lo = *s.MetricIntervalLowerBound
		}
		if s.MetricIntervalUpperBound != nil {
			hi = *s.MetricIntervalUpperBound
		}
		if diff >= 0 && lo <= diff && diff < hi || diff < 0 && lo < diff && diff <= hi {
			return s, true
		}
	}
	return types.StepAdjustment{}, false
}

// adjusted is the capacity a step adjustment asks for.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html
// https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html
//
// PercentChangeInCapacity rounds as the guide says: a change above 1 down
// (12.7 → 12), between 0 and 1 to 1, between -1 and 0 to -1, below -1 up
// (-6.67 → -6); MinAdjustmentMagnitude (percent changes only) is the least
// change.
func adjusted(current int32, kind types.AdjustmentType, adjustment int32, minMagnitude *int32) int32 {
	switch kind {
	case types.AdjustmentTypeExactCapacity:
		return adjustment
	case types.AdjustmentTypePercentChangeInCapacity:
		change := float64(current) * float64(adjustment) / 100
		var n int32
		switch {
		case change > 1:
			n = int32(math.Floor(change))
		case change > 0:
			n = 1
		case change < -1:
			n = int32(math.Ceil(change))
		case change < 0:
			n = -1
		}
		if m := aws.ToInt32(minMagnitude); m > 0 && n != 0 && abs(n) < m {
			if n > 0 {
				n = m
			} else {
				n = -m
			}
		}
		return current + n
	}
	return current + adjustment // ChangeInCapacity
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// clamp bounds n to [lo, hi].
func clamp(n, lo, hi int32) int32 { return max(lo, min(n, hi)) }

// checkSteps validates a step scaling configuration: an adjustment type,
// steps each with an adjustment, whose intervals are well formed and do
// not overlap, and MinAdjustmentMagnitude only with percent changes.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html
func checkSteps(c *types.StepScalingPolicyConfiguration) error {
	switch c.AdjustmentType {
	case types.AdjustmentTypeChangeInCapacity, types.AdjustmentTypeExactCapacity, types.AdjustmentTypePercentChangeInCapacity:
	case "":
		return errValidation("AdjustmentType is required for a step scaling policy.")
	default:
		return errValidation("Unsupported adjustment type %s.", c.AdjustmentType)
	}
	if len(c.StepAdjustments) == 0 {
		return errValidation("A step scaling policy needs at least one step adjustment.")
	}
	if c.MinAdjustmentMagnitude != nil && c.AdjustmentType != types.AdjustmentTypePercentChangeInCapacity {
		return errValidation("MinAdjustmentMagnitude is only allowed with the adjustment type PercentChangeInCapacity.")
	}
	if c.Cooldown != nil && *c.Cooldown < 0 {
		return errValidation("Cooldown must not be negative.")
	}
	type interval struct{ lo, hi float64 }
	var seen []interval
	for _, s := range c.StepAdjustments {
		if s.ScalingAdjustment == nil {
			return errValidation("Every step adjustment needs a ScalingAdjustment.")
		}
		if s.MetricIntervalLowerBound == nil && s.MetricIntervalUpperBound == nil && len(c.StepAdjustments) > 1 {
			return errValidation("Only a single step adjustment may leave both bounds unset.")
		}
		iv := interval{math.Inf(-1), math.Inf(1)}
		if s.MetricIntervalLowerBound != nil {
			iv.lo = *s.MetricIntervalLowerBound
		}
		if s.MetricIntervalUpperBound != nil {
			iv.hi = *s.MetricIntervalUpperBound
		}
		if iv.lo >= iv.hi {
			return errValidation("A step adjustment's lower bound must be less than its upper bound.")
		}
		for _, o := range seen {
			if iv.lo < o.hi && o.lo < iv.hi {
				return errValidation("Step adjustments must not overlap.")
			}
		}
		seen = append(seen, iv)
	}
	return nil
}
