package cloudwatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// BenchmarkMetricStorage24h measures what a day of the metrics berth
// publishes for 100 services behind load balancers costs, on a run
// compressed by the injected clock: every minute, per service, the
// AWS/ECS CPUUtilization and MemoryUtilization and seven AWS/ApplicationELB
// metrics of its target group (RequestCount, HTTPCode_Target_2XX_Count,
// TargetResponseTime, HealthyHostCount, UnHealthyHostCount and
// RequestCountPerTarget by TargetGroup and LoadBalancer, and by TargetGroup
// alone), each one statistic set. It reports the datapoints stored, the
// database's size on disk and the Go heap after the day.
// Run it with `make bench`.
func BenchmarkMetricStorage24h(b *testing.B) {
	const services, minutes = 100, 24 * 60
	for range b.N {
		path := filepath.Join(b.TempDir(), "berth.db")
		store, err := sqlite.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		cw := New(store, backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}})
		ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
		stat := types.StatisticSet{SampleCount: aws.Float64(6), Sum: aws.Float64(120), Minimum: aws.Float64(10), Maximum: aws.Float64(30)}
		points := 0
		b.ResetTimer()
		start := time.Now()
		for m := range minutes {
			now = now.Add(time.Minute)
			stamp := aws.Time(now.Add(-time.Minute))
			var ecs, elb []types.MetricDatum
			for s := range services {
				svc := []types.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("cluster")}, {Name: aws.String("ServiceName"), Value: aws.String(fmt.Sprint("service-", s))}}
				tg := types.Dimension{Name: aws.String("TargetGroup"), Value: aws.String(fmt.Sprintf("targetgroup/service-%d/0123456789abcdef", s))}
				lb := types.Dimension{Name: aws.String("LoadBalancer"), Value: aws.String("app/front/0123456789abcdef")}
				for _, name := range []string{"CPUUtilization", "MemoryUtilization"} {
					ecs = append(ecs, types.MetricDatum{MetricName: aws.String(name), Dimensions: svc, StatisticValues: &stat, Unit: types.StandardUnitPercent, Timestamp: stamp})
				}
				for _, name := range []string{"RequestCount", "HTTPCode_Target_2XX_Count", "TargetResponseTime", "HealthyHostCount", "UnHealthyHostCount", "RequestCountPerTarget"} {
					elb = append(elb, types.MetricDatum{MetricName: aws.String(name), Dimensions: []types.Dimension{tg, lb}, StatisticValues: &stat, Timestamp: stamp})
				}
				elb = append(elb, types.MetricDatum{MetricName: aws.String("RequestCountPerTarget"), Dimensions: []types.Dimension{tg}, StatisticValues: &stat, Timestamp: stamp})
			}
			for _, batch := range []struct {
				ns   string
				data []types.MetricDatum
			}{{"AWS/ECS", ecs}, {"AWS/ApplicationELB", elb[:len(elb)/2]}, {"AWS/ApplicationELB", elb[len(elb)/2:]}} {
				if err := cw.Publish(ctx, batch.ns, batch.data); err != nil {
					b.Fatalf("minute %d: %v", m, err)
				}
				points += len(batch.data)
			}
		}
		took := time.Since(start)
		b.StopTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		store.Close() // checkpoints the WAL into the database
		info, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(points), "datapoints")
		b.ReportMetric(float64(info.Size())/(1<<20), "MB-on-disk")
		b.ReportMetric(float64(info.Size())/float64(points), "bytes/datapoint")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MB-heap")
		b.ReportMetric(float64(took.Microseconds())/float64(minutes), "µs/minute-published")
	}
}
