package ecs

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestFiringAlarms: a deployment fails on an alarm that went into ALARM
// after it began; one already in ALARM when it began is ignored, as
// Copilot's documentation of ECS's alarm-based rollbacks reports
// (https://github.com/aws/copilot-cli/pull/4512), and OK alarms never
// fire.
func TestFiringAlarms(t *testing.T) {
	began := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	alarm := func(name string, state cwtypes.StateValue, changed time.Duration) cwtypes.MetricAlarm {
		return cwtypes.MetricAlarm{AlarmName: aws.String(name), StateValue: state, StateUpdatedTimestamp: aws.Time(began.Add(changed)),
			Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3)}
	}
	alarms := []cwtypes.MetricAlarm{
		alarm("errors", cwtypes.StateValueAlarm, time.Minute),
		alarm("before", cwtypes.StateValueAlarm, -time.Minute),
		alarm("latency", cwtypes.StateValueOk, time.Minute),
		alarm("cpu", cwtypes.StateValueAlarm, 2*time.Minute),
	}
	if got := firing(alarms, began); !slices.Equal(got, []string{"cpu", "errors"}) {
		t.Errorf("firing = %v, want [cpu errors]", got)
	}
	if got := bakeTime(alarms, 0); got != 3*time.Minute {
		t.Errorf("bake time = %v, want the longest evaluation window, 3m", got)
	}
	if got := bakeTime(alarms, 2*time.Second); got != 6*time.Second {
		t.Errorf("bake time in two-second minutes = %v, want 6s", got)
	}
	if bakeTime(nil, 0) != 0 {
		t.Error("no alarms, yet a bake time")
	}
}
