package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestTerraformCloudWatchAlarm applies aws_cloudwatch_metric_alarm
// resources (a metric with M out of N, a percentile, metric math), each
// with tags, plans no changes after the apply, and destroys them.
func TestTerraformCloudWatchAlarm(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "cloudwatch-alarm", "eu-north-1")
	ctx, cw := context.Background(), cloudWatch(tf.region)
	tf.lifecycle(func(out map[string]string) {
		if out["cpu_alarm_arn"] != "arn:aws:cloudwatch:eu-north-1:000000000000:alarm:web-cpu-high" || out["error_rate_alarm"] != "web-5xx-rate" {
			t.Errorf("outputs = %v", out)
		}
		alarms := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-")})).must(t).MetricAlarms
		if len(alarms) != 3 {
			t.Fatalf("alarms = %+v", alarms)
		}
		byName := map[string]types.MetricAlarm{}
		for _, a := range alarms {
			byName[aws.ToString(a.AlarmName)] = a
		}
		a := byName["web-5xx-rate"]
		expressions := map[string]string{}
		for _, q := range a.Metrics {
			expressions[aws.ToString(q.Id)] = aws.ToString(q.Expression)
		}
		if len(a.Metrics) != 3 || expressions["rate"] != "100 * errors / requests" || aws.ToString(a.TreatMissingData) != "ignore" {
			t.Errorf("metric math alarm = %+v", a)
		}
		if a := byName["web-latency-p99"]; aws.ToString(a.ExtendedStatistic) != "p99" || aws.ToBool(a.ActionsEnabled) || a.Unit != types.StandardUnitSeconds {
			t.Errorf("p99 alarm = %+v", a)
		}
		tags := try(cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: byName["web-latency-p99"].AlarmArn})).must(t).Tags
		var keys []string
		for _, tag := range tags {
			keys = append(keys, aws.ToString(tag.Key))
		}
		if len(keys) != 3 || !strings.Contains(strings.Join(keys, ","), "severity") {
			t.Errorf("tags = %v", keys)
		}
	})
	if left := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})).must(t).MetricAlarms; len(left) > 0 {
		t.Errorf("alarms left after destroy: %+v", left)
	}
}
