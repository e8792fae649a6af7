package cloudwatch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// testBackend is a backend on a fresh store whose clock reads *now.
func testBackend(t *testing.T, now *time.Time) (*Backend, context.Context) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b := New(store, backend.Env{Clock: func() time.Time { return *now }, IDs: &backend.SequentialIDs{}})
	return b, backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "eu-west-1"})
}

func cpuAlarm(name string) *cw.PutMetricAlarmInput {
	return &cw.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("CPU"),
		Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
		Statistic:  types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), Threshold: aws.Float64(10),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}
}

func code(err error) string {
	if e, ok := err.(*awsproto.Error); ok {
		return e.Code
	}
	return ""
}

// TestAlarmLifecycle: a new alarm is INSUFFICIENT_DATA with AWS's
// initial reason; an update keeps its state and tags; DescribeAlarms
// filters and pages; DeleteAlarms of a missing alarm is ResourceNotFound
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html).
func TestAlarmLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	for _, n := range []string{"web-cpu", "web-mem", "api-cpu"} {
		if _, err := b.PutMetricAlarm(ctx, cpuAlarm(n)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 2 || aws.ToString(out.MetricAlarms[0].AlarmName) != "web-cpu" {
		t.Fatalf("prefix web- = %+v", out.MetricAlarms)
	}
	a := out.MetricAlarms[0]
	if a.StateValue != types.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" ||
		aws.ToString(a.AlarmArn) != "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu" || !aws.ToBool(a.ActionsEnabled) ||
		aws.ToString(a.TreatMissingData) != "missing" {
		t.Fatalf("new alarm = %+v", a)
	}
	now = now.Add(time.Minute)
	upd := cpuAlarm("web-cpu")
	upd.Threshold, upd.Tags = aws.Float64(20), nil
	if _, err := b.PutMetricAlarm(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got, _ := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"web-cpu"}})
	if a := got.MetricAlarms[0]; aws.ToFloat64(a.Threshold) != 20 || !a.StateUpdatedTimestamp.Equal(now.Add(-time.Minute)) || !a.AlarmConfigurationUpdatedTimestamp.Equal(now) {
		t.Fatalf("updated alarm = %+v", a)
	}
	tags, err := b.ListTagsForResource(ctx, &cw.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu")})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("tags after update = %+v, %v", tags, err)
	}
	p1, _ := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	p2, _ := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2), NextToken: p1.NextToken})
	if len(p1.MetricAlarms) != 2 || p1.NextToken == nil || len(p2.MetricAlarms) != 1 || p2.NextToken != nil || aws.ToString(p2.MetricAlarms[0].AlarmName) != "web-mem" {
		t.Fatalf("pages = %+v / %+v", p1, p2)
	}
	if _, err := b.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"web-cpu", "nope"}}); code(err) != "ResourceNotFound" {
		t.Fatalf("delete of a missing alarm = %v", err)
	}
	if _, err := b.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"web-cpu"}}); err != nil {
		t.Fatal(err)
	}
	left, _ := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{})
	if len(left.MetricAlarms) != 2 {
		t.Fatalf("after delete = %+v", left.MetricAlarms)
	}
	// The history stays: created, updated, deleted, newest first.
	h, err := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("web-cpu")})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, it := range h.AlarmHistoryItems {
		summaries = append(summaries, aws.ToString(it.HistorySummary))
	}
	want := []string{`Alarm "web-cpu" deleted`, `Alarm "web-cpu" updated`, `Alarm "web-cpu" created`}
	if len(summaries) != 3 || summaries[0] != want[0] || summaries[1] != want[1] || summaries[2] != want[2] {
		t.Fatalf("history = %q", summaries)
	}
}

// TestPutMetricAlarmErrors: the refusals of PutMetricAlarm's checks.
func TestPutMetricAlarmErrors(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	for _, c := range []struct {
		name string
		edit func(*cw.PutMetricAlarmInput)
		code string
	}{
		{"no name", func(in *cw.PutMetricAlarmInput) { in.AlarmName = nil }, "MissingParameter"},
		{"no periods", func(in *cw.PutMetricAlarmInput) { in.EvaluationPeriods = nil }, "MissingParameter"},
		{"no operator", func(in *cw.PutMetricAlarmInput) { in.ComparisonOperator = "" }, "MissingParameter"},
		{"both statistics", func(in *cw.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }, "InvalidParameterCombination"},
		{"bad period", func(in *cw.PutMetricAlarmInput) { in.Period = aws.Int32(45) }, "InvalidParameterValue"},
		{"M over N", func(in *cw.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(4) }, "InvalidParameterValue"},
		{"treatment", func(in *cw.PutMetricAlarmInput) { in.TreatMissingData = aws.String("sometimes") }, "InvalidParameterValue"},
		{"too long", func(in *cw.PutMetricAlarmInput) { in.EvaluationPeriods = aws.Int32(1441) }, "InvalidParameterValue"},
		{"metric and metrics", func(in *cw.PutMetricAlarmInput) {
			in.Metrics = []types.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("1")}}
		}, "InvalidParameterCombination"},
		{"bad action", func(in *cw.PutMetricAlarmInput) { in.AlarmActions = []string{"not-an-arn"} }, "InvalidParameterValue"},
	} {
		in := cpuAlarm("a")
		c.edit(in)
		if _, err := b.PutMetricAlarm(ctx, in); code(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// A metric math alarm: exactly one query returns the value.
	math := &cw.PutMetricAlarmInput{AlarmName: aws.String("m"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, Metrics: []types.MetricDataQuery{
			{Id: aws.String("a"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Errors")}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("b"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Requests")}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("rate"), Expression: aws.String("100 * a / b")},
		}}
	if _, err := b.PutMetricAlarm(ctx, math); code(err) != "InvalidParameterValue" {
		t.Errorf("three queries returning data: %v", err)
	}
	math.Metrics[0].ReturnData, math.Metrics[1].ReturnData = aws.Bool(false), aws.Bool(false)
	if _, err := b.PutMetricAlarm(ctx, math); err != nil {
		t.Errorf("metric math alarm: %v", err)
	}
}
