package cloudwatch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// TestRetention: high-resolution points are kept three hours, then count
// as one-minute statistic sets (their sums and counts stay, percentiles
// go); every point goes after 15 days
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention).
func TestRetention(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	b := New(store, backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}})
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "000000000000", Region: "us-east-1"})
	var data []types.MetricDatum
	for i := range 10 {
		data = append(data, types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(float64(i)), Timestamp: aws.Time(start.Add(time.Duration(i) * time.Second)), StorageResolution: aws.Int32(1)})
	}
	data = append(data, types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(100), Timestamp: aws.Time(start.Add(30 * time.Second))})
	if _, err := b.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	read := func(period time.Duration) []Period {
		t.Helper()
		ps, err := b.Periods(ctx, backend.Scope{Account: "000000000000", Region: "us-east-1"}, Identity{Namespace: "N", Name: "m"}, "", start, period, int(time.Minute/period))
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	if ps := read(time.Second); len(ps) != 11 {
		t.Fatalf("1-second periods = %d, want 11", len(ps))
	}
	now = start.Add(3*time.Hour + time.Minute)
	if _, err := b.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	ps := read(time.Minute)
	if len(ps) != 1 || ps[0].Count != 11 || ps[0].Sum != 145 || ps[0].Min != 0 || ps[0].Max != 100 {
		t.Fatalf("after three hours = %+v", ps)
	}
	// The rolled-up set of ten values leaves the minute no percentile:
	// CloudWatch computes percentiles over statistic sets only of single
	// values
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles).
	if p50, ok := ps[0].Value("p50"); ok {
		t.Errorf("p50 = %v after the roll-up, want none", p50)
	}
	if ps := read(time.Second); len(ps) != 2 { // the minute's set and the 60-s point
		t.Errorf("1-second periods after three hours = %d", len(ps))
	}
	now = start.Add(15*24*time.Hour + time.Minute)
	if _, err := b.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if ps := read(time.Minute); len(ps) != 0 {
		t.Fatalf("after 15 days = %+v", ps)
	}
	// The metric goes with its data: ListMetrics shows metrics with data
	// in the last two weeks, and a burst of one-off dimension values must
	// not stay stored (the hostile review's 1 GB).
	n := 0
	store.View(ctx, func(tx *sqlite.Tx) error {
		return tx.Scan(kindMetric, "", func(sqlite.Key, []byte) error { n++; return nil })
	})
	if n != 0 {
		t.Errorf("%d metrics stored after their data went", n)
	}
}
