package cloudwatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// BenchmarkEvaluateAlarms is one evaluation round (what berth does each
// minute) of 500 alarms, each on a metric of its own with a datapoint a
// minute, as a target-tracking alarm on one service's CPU has.
func BenchmarkEvaluateAlarms(b *testing.B) {
	now := time.Date(2026, 11, 29, 10, 0, 30, 0, time.UTC)
	be, ctx := testBackend(b, &now)
	const alarms = 500
	for i := range alarms {
		dims := []types.Dimension{{Name: aws.String("ServiceName"), Value: aws.String(fmt.Sprintf("svc-%d", i))}}
		if _, err := be.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String(fmt.Sprintf("alarm-%d", i)), Namespace: aws.String("AWS/ECS"),
			MetricName: aws.String("CPUUtilization"), Dimensions: dims, Statistic: types.StatisticAverage, Period: aws.Int32(60),
			EvaluationPeriods: aws.Int32(3), Threshold: aws.Float64(70), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold}); err != nil {
			b.Fatal(err)
		}
		var data []types.MetricDatum
		for m := range 5 {
			data = append(data, types.MetricDatum{MetricName: aws.String("CPUUtilization"), Dimensions: dims, Value: aws.Float64(float64(40 + 10*m)),
				Timestamp: aws.Time(now.Add(-time.Duration(m) * time.Minute))})
		}
		if err := be.Publish(ctx, "AWS/ECS", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if err := be.EvaluateAlarms(ctx, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/alarms, "µs/alarm")
}
