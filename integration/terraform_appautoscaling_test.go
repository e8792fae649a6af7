package integration

import (
	"context"
	"strings"
	"testing"

	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// TestTerraformAppAutoScaling applies an ECS service behind an ALB with
// aws_appautoscaling_target, target tracking policies on CPU and on
// ALBRequestCountPerTarget, a step policy with an
// aws_cloudwatch_metric_alarm, and two aws_appautoscaling_scheduled_action;
// a plan after the apply has no changes; destroy leaves no target, policy,
// scheduled action or alarm behind.
func TestTerraformAppAutoScaling(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "appautoscaling", "sa-east-1", "-var", "image="+testImage)
	ctx := context.Background()
	as, cw := scalingClients(shared, tf.region)
	tf.lifecycle(func(out map[string]string) {
		if alarms := strings.Split(out["cpu_alarms"], ","); len(alarms) != 2 || !strings.Contains(alarms[0], ":alarm:TargetTracking-service/scaled/web-Alarm") {
			t.Errorf("cpu alarms %q", out["cpu_alarms"])
		}
		policies := try(as.DescribeScalingPolicies(ctx, &aas.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScalingPolicies
		if len(policies) != 3 {
			t.Errorf("policies %+v", policies)
		}
		actions := try(as.DescribeScheduledActions(ctx, &aas.DescribeScheduledActionsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScheduledActions
		if len(actions) != 2 {
			t.Errorf("scheduled actions %+v", actions)
		}
	})
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Fatalf("terraform destroy left %v", left)
	}
	if targets := try(as.DescribeScalableTargets(ctx, &aas.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs})).must(t).ScalableTargets; len(targets) != 0 {
		t.Errorf("targets left: %+v", targets)
	}
	if alarms := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})).must(t).MetricAlarms; len(alarms) != 0 {
		t.Errorf("alarms left: %+v", alarms)
	}
}
