package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// BenchmarkCloudWatchPutGet publishes a datum and reads a metric's last
// hour (60 periods, p90) through aws-sdk-go-v2 (CBOR), per iteration.
// Run it with `make bench`.
func BenchmarkCloudWatchPutGet(b *testing.B) {
	ctx := context.Background()
	cw := cloudWatch(newRegion())
	now := time.Now().UTC()
	dims := []types.Dimension{{Name: aws.String("ServiceName"), Value: aws.String("web")}}
	b.ResetTimer()
	for i := range b.N {
		_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Bench"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("Load"), Dimensions: dims, Value: aws.Float64(float64(i % 100)), Timestamp: aws.Time(now.Add(-time.Duration(i%3600) * time.Second))}}})
		if err != nil {
			b.Fatal(err)
		}
		_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("l"), MetricStat: &types.MetricStat{
				Metric: &types.Metric{Namespace: aws.String("Bench"), MetricName: aws.String("Load"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("p90")}}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
