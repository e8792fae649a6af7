package appautoscaling

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// "If the metric is above the target, the target tracking policy
// increases capacity in proportion to the amount the metric is over"
// (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html):
// the expected counts keep current × metric / target at the target,
// rounded up.
func TestTrackingCapacity(t *testing.T) {
	for _, c := range []struct {
		current       int32
		metric, value float64
		want          int32
	}{
		{2, 140, 70, 4}, // twice the target: twice the tasks
		{2, 75, 50, 3},  // 1.5 × 2 = 3 exactly, not 4
		{3, 80, 50, 5},  // 4.8 rounds up
		{10, 20, 50, 4}, // scale-in: 4 tasks bring 20 % over 10 to 50 %
		{4, 49, 50, 4},  // just under target: 3.92 rounds up to the same count
		{0, 100, 50, 1}, // no task: one
		{0, 10, 50, 0},  // no task, under target: none
		{5, 100, 0, 5},  // no target to scale by
		{1, 1e12, 1, 2147483647},
	} {
		if got := trackingCapacity(c.current, c.metric, c.value); got != c.want {
			t.Errorf("trackingCapacity(%d, %v, %v) = %d, want %d", c.current, c.metric, c.value, got, c.want)
		}
	}
}

// The step adjustments of the guide's example, with the alarm threshold
// at 50: 60 to 70 adds 10 %, 70 and over 30 %; 40 down to 30 (exclusive)
// removes 10 %, 30 and under 30 %.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html#as-scaling-steps
// Bounds: https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepAdjustment.html
func TestChooseStep(t *testing.T) {
	out := []types.StepAdjustment{
		{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(10), ScalingAdjustment: aws.Int32(0)},
		{MetricIntervalLowerBound: aws.Float64(10), MetricIntervalUpperBound: aws.Float64(20), ScalingAdjustment: aws.Int32(10)},
		{MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(30)},
	}
	in := []types.StepAdjustment{
		{MetricIntervalLowerBound: aws.Float64(-10), MetricIntervalUpperBound: aws.Float64(0), ScalingAdjustment: aws.Int32(0)},
		{MetricIntervalLowerBound: aws.Float64(-20), MetricIntervalUpperBound: aws.Float64(-10), ScalingAdjustment: aws.Int32(-10)},
		{MetricIntervalUpperBound: aws.Float64(-20), ScalingAdjustment: aws.Int32(-30)},
	}
	const threshold = 50
	for _, c := range []struct {
		steps  []types.StepAdjustment
		metric float64
		want   int32
		found  bool
	}{
		{out, 55, 0, true},
		{out, 60, 10, true}, // lower bound inclusive above the threshold
		{out, 69.9, 10, true},
		{out, 70, 30, true},
		{out, 500, 30, true},
		{in, 45, 0, true},
		{in, 40, -10, true}, // upper bound inclusive below the threshold
		{in, 30.1, -10, true},
		{in, 30, -30, true},
		{in, 1, -30, true},
		{out, 40, 0, false}, // a scale-out policy has no step below its threshold
	} {
		s, ok := chooseStep(c.steps, c.metric-threshold)
		if ok != c.found || ok && *s.ScalingAdjustment != c.want {
			t.Errorf("metric %v: step %v (found %v), want %d (found %v)", c.metric, aws.ToInt32(s.ScalingAdjustment), ok, c.want, c.found)
		}
	}
}

// PercentChangeInCapacity rounding as the guide gives it: "Values greater
// than 1 are rounded down. For example, 12.7 is rounded to 12. Values
// between 0 and 1 are rounded to 1. For example, .67 is rounded to 1.
// Values between 0 and -1 are rounded to -1. For example, -.58 is rounded
// to -1. Values less than -1 are rounded up. For example, -6.67 is
// rounded to -6."
// https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html
func TestAdjusted(t *testing.T) {
	for _, c := range []struct {
		current int32
		kind    types.AdjustmentType
		adj     int32
		minMag  *int32
		want    int32
	}{
		{100, types.AdjustmentTypePercentChangeInCapacity, 127, nil, 100 + 127}, // 127 exactly
		{10, types.AdjustmentTypePercentChangeInCapacity, 127, nil, 10 + 12},    // 12.7 → 12
		{3, types.AdjustmentTypePercentChangeInCapacity, 22, nil, 3 + 1},        // .66 → 1
		{2, types.AdjustmentTypePercentChangeInCapacity, -29, nil, 2 - 1},       // -.58 → -1
		{3, types.AdjustmentTypePercentChangeInCapacity, -222, nil, 3 - 6},      // -6.66 → -6
		// MinAdjustmentMagnitude: "the minimum value to scale by when the
		// adjustment type is PercentChangeInCapacity. For example, suppose
		// that you create a step scaling policy to scale out an Amazon ECS
		// service by 25 percent and you specify a MinAdjustmentMagnitude
		// of 2. If the service has 4 tasks and the scaling policy is
		// performed, 25 percent of 4 is 1. However, because you specified
		// a MinAdjustmentMagnitude of 2, Application Auto Scaling scales
		// out the service by 2 tasks."
		// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html
		{4, types.AdjustmentTypePercentChangeInCapacity, 25, aws.Int32(2), 6},
		{4, types.AdjustmentTypeChangeInCapacity, -3, nil, 1},
		{4, types.AdjustmentTypeExactCapacity, 7, nil, 7},
	} {
		if got := adjusted(c.current, c.kind, c.adj, c.minMag); got != c.want {
			t.Errorf("adjusted(%d, %s, %d) = %d, want %d", c.current, c.kind, c.adj, got, c.want)
		}
	}
}

func TestCheckSteps(t *testing.T) {
	ok := &types.StepScalingPolicyConfiguration{AdjustmentType: types.AdjustmentTypeChangeInCapacity, StepAdjustments: []types.StepAdjustment{
		{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(10), ScalingAdjustment: aws.Int32(1)},
		{MetricIntervalLowerBound: aws.Float64(10), ScalingAdjustment: aws.Int32(2)},
	}}
	if err := checkSteps(ok); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*types.StepScalingPolicyConfiguration{
		"no type":  {StepAdjustments: ok.StepAdjustments},
		"no steps": {AdjustmentType: types.AdjustmentTypeChangeInCapacity},
		"overlap": {AdjustmentType: types.AdjustmentTypeChangeInCapacity, StepAdjustments: []types.StepAdjustment{
			{MetricIntervalLowerBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)},
			{MetricIntervalLowerBound: aws.Float64(10), ScalingAdjustment: aws.Int32(2)},
		}},
		"min magnitude with change": {AdjustmentType: types.AdjustmentTypeChangeInCapacity, MinAdjustmentMagnitude: aws.Int32(1), StepAdjustments: ok.StepAdjustments},
		"lower over upper": {AdjustmentType: types.AdjustmentTypeChangeInCapacity, StepAdjustments: []types.StepAdjustment{
			{MetricIntervalLowerBound: aws.Float64(10), MetricIntervalUpperBound: aws.Float64(0), ScalingAdjustment: aws.Int32(1)},
		}},
	} {
		if checkSteps(c) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
