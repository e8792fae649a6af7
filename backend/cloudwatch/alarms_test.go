package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
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
func testBackend(t testing.TB, now *time.Time) (*Backend, context.Context) {
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
// filters and pages; DeleteAlarms deletes the names that exist and passes
// over the others
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
	if _, err := b.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"web-cpu", "nope"}}); err != nil {
		t.Fatalf("delete with a missing alarm = %v", err)
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
	created := aws.ToString(h.AlarmHistoryItems[2].HistoryData)
	if !strings.HasPrefix(created, `{"version":"1.0","type":"Create","createdAlarm":{"alarmName":"web-cpu","alarmArn":"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu",`) ||
		!strings.Contains(created, `"dimensions":[{"value":"web","name":"Service"}],"threshold":10.0,"comparisonOperator":"GreaterThanThreshold","evaluationPeriods":3,"stateValue":"INSUFFICIENT_DATA",`) ||
		!strings.HasSuffix(created, `"alarmActions":[],"insufficientDataActions":[],"okactions":[]}}`) {
		t.Errorf("created HistoryData = %s", created)
	}
	if updated := aws.ToString(h.AlarmHistoryItems[1].HistoryData); !strings.Contains(updated, `"originalUpdatedFields":{"threshold":10.0}`) {
		t.Errorf("updated HistoryData = %s", updated)
	}
	// History is kept 30 days.
	now = now.Add(29 * 24 * time.Hour)
	if _, err := b.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{}); len(h.AlarmHistoryItems) != 5 {
		t.Fatalf("after 29 days: %d items", len(h.AlarmHistoryItems))
	}
	now = now.Add(2 * 24 * time.Hour)
	if _, err := b.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{}); len(h.AlarmHistoryItems) != 0 {
		t.Fatalf("after 31 days: %+v", h.AlarmHistoryItems)
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
	math.Metrics[2].Expression = aws.String("100 * a / c")
	if _, err := b.PutMetricAlarm(ctx, math); code(err) != "InvalidParameterValue" {
		t.Errorf("an expression on an unknown id: %v", err)
	}
	math.Metrics[2].Expression = aws.String("100 * a / b")
	// The expression may come first, as Terraform configurations often
	// write it.
	math.Metrics = []types.MetricDataQuery{math.Metrics[2], math.Metrics[0], math.Metrics[1]}
	if _, err := b.PutMetricAlarm(ctx, math); err != nil {
		t.Errorf("metric math alarm: %v", err)
	}
}

// fakeActions records the actions berth asks it to run.
type fakeActions struct {
	runs []string
	fail bool
}

func (f *fakeActions) RunAlarmAction(ctx context.Context, arn string, a types.MetricAlarm, value float64) error {
	if backend.ScopeFrom(ctx).Account != "123456789012" {
		return errors.New("no scope")
	}
	f.runs = append(f.runs, fmt.Sprintf("%s %s %v", arn, a.StateValue, value))
	if f.fail {
		return errors.New("policy gone")
	}
	return nil
}

const policyArn = "arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:6d8972f3-efc8-437c-9a4e-d9d1bbd6d7a4:resource/ecs/service/prod/web:policyName/scale-out"

// TestEvaluateAlarms: an alarm on a metric goes OK, ALARM and back as
// datapoints come; Auto Scaling actions run on the move and then once a
// minute while the state lasts, others only on the move (SNS fails, as
// berth has none); every run is an Action history item
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-actions).
func TestEvaluateAlarms(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 30, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	acts := &fakeActions{}
	b.SetAlarmActions(acts)
	in := cpuAlarm("cpu")
	in.AlarmActions = []string{policyArn, "arn:aws:sns:eu-west-1:123456789012:ops"}
	in.OKActions = []string{"arn:aws:sns:eu-west-1:123456789012:ops"}
	if _, err := b.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	put := func(v float64) {
		t.Helper()
		if _, err := b.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("CPU"), Dimensions: in.Dimensions, Value: aws.Float64(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() types.MetricAlarm {
		t.Helper()
		out, err := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"cpu"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.MetricAlarms[0]
	}
	// A minute: a datapoint in the current minute, then the evaluation
	// of the next one.
	tick := func(v float64) {
		t.Helper()
		put(v)
		now = now.Add(time.Minute)
		if err := b.EvaluateAlarms(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	tick(5)
	if a := state(); a.StateValue != types.StateValueOk ||
		aws.ToString(a.StateReason) != "Threshold Crossed: 1 datapoint [5.0 (29/11/26 10:00:00)] was not greater than the threshold (10.0)." {
		t.Fatalf("after one good minute: %s %s", a.StateValue, aws.ToString(a.StateReason))
	}
	tick(12)
	tick(11)
	if a := state(); a.StateValue != types.StateValueOk {
		t.Fatalf("two breaching of three: %s", a.StateValue)
	}
	tick(15)
	a := state()
	if a.StateValue != types.StateValueAlarm ||
		aws.ToString(a.StateReason) != "Threshold Crossed: 3 datapoints [15.0 (29/11/26 10:03:00), 11.0 (29/11/26 10:02:00), 12.0 (29/11/26 10:01:00)] were greater than the threshold (10.0)." {
		t.Fatalf("three breaching: %s %s", a.StateValue, aws.ToString(a.StateReason))
	}
	if len(acts.runs) != 1 || acts.runs[0] != policyArn+" ALARM 15" {
		t.Fatalf("actions on ALARM: %q", acts.runs)
	}
	tick(20) // still ALARM: the scaling policy again, not SNS
	if len(acts.runs) != 2 || acts.runs[1] != policyArn+" ALARM 20" {
		t.Fatalf("actions while in ALARM: %q", acts.runs)
	}
	tick(1)
	if a := state(); a.StateValue != types.StateValueOk {
		t.Fatalf("one good datapoint of three: %s", a.StateValue)
	}
	h, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu"), ScanBy: types.ScanByTimestampAscending})
	var got []string
	for _, it := range h.AlarmHistoryItems {
		got = append(got, string(it.HistoryItemType)+": "+aws.ToString(it.HistorySummary))
	}
	want := []string{
		`ConfigurationUpdate: Alarm "cpu" created`,
		"StateUpdate: Alarm updated from INSUFFICIENT_DATA to OK",
		"Action: Failed to execute action arn:aws:sns:eu-west-1:123456789012:ops. Received error: \"berth does not run sns actions\"",
		"StateUpdate: Alarm updated from OK to ALARM",
		"Action: Successfully executed action " + policyArn,
		"Action: Failed to execute action arn:aws:sns:eu-west-1:123456789012:ops. Received error: \"berth does not run sns actions\"",
		// The policy's run while the alarm stayed in ALARM is no item.
		"StateUpdate: Alarm updated from ALARM to OK",
		"Action: Failed to execute action arn:aws:sns:eu-west-1:123456789012:ops. Received error: \"berth does not run sns actions\"",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	states, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu"), HistoryItemType: types.HistoryItemTypeStateUpdate, MaxRecords: aws.Int32(2)})
	if len(states.AlarmHistoryItems) != 2 || states.NextToken == nil || aws.ToString(states.AlarmHistoryItems[0].HistorySummary) != "Alarm updated from ALARM to OK" {
		t.Fatalf("state updates, newest first: %+v", states)
	}
	var data struct {
		OldState struct{ StateValue string } `json:"oldState"`
		NewState struct {
			StateValue      string
			StateReasonData struct{ RecentDatapoints []float64 } `json:"stateReasonData"`
		} `json:"newState"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(states.AlarmHistoryItems[0].HistoryData)), &data); err != nil || data.OldState.StateValue != "ALARM" || data.NewState.StateValue != "OK" || len(data.NewState.StateReasonData.RecentDatapoints) != 3 {
		t.Fatalf("HistoryData = %s (%v)", aws.ToString(states.AlarmHistoryItems[0].HistoryData), err)
	}
	rest, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu"), HistoryItemType: types.HistoryItemTypeStateUpdate, MaxRecords: aws.Int32(2), NextToken: states.NextToken})
	if len(rest.AlarmHistoryItems) != 1 || rest.NextToken != nil || aws.ToString(rest.AlarmHistoryItems[0].HistorySummary) != "Alarm updated from INSUFFICIENT_DATA to OK" {
		t.Fatalf("second page: %+v", rest)
	}

	// SetAlarmState moves it, runs the ALARM actions with the value of
	// StateReasonData, and the next evaluation moves it back.
	acts.runs = nil
	if _, err := b.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("cpu"), StateValue: types.StateValueAlarm,
		StateReason: aws.String("testing"), StateReasonData: aws.String(`{"recentDatapoints":[42.0]}`)}); err != nil {
		t.Fatal(err)
	}
	if a := state(); a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "testing" || len(acts.runs) != 1 || acts.runs[0] != policyArn+" ALARM 42" {
		t.Fatalf("after SetAlarmState: %s %q %q", a.StateValue, aws.ToString(a.StateReason), acts.runs)
	}
	tick(1)
	if a := state(); a.StateValue != types.StateValueOk {
		t.Fatalf("evaluation after SetAlarmState: %s", a.StateValue)
	}
	if _, err := b.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("cpu"), StateValue: types.StateValueAlarm, StateReason: aws.String("x"), StateReasonData: aws.String("{")}); code(err) != "InvalidFormat" {
		t.Fatalf("bad StateReasonData: %v", err)
	}
	if _, err := b.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")}); code(err) != "ResourceNotFound" {
		t.Fatalf("missing alarm: %v", err)
	}

	// With actions disabled the state still moves, and nothing runs.
	if _, err := b.DisableAlarmActions(ctx, &cw.DisableAlarmActionsInput{AlarmNames: []string{"cpu"}}); err != nil {
		t.Fatal(err)
	}
	acts.runs = nil
	tick(30)
	tick(30)
	tick(30)
	if a := state(); a.StateValue != types.StateValueAlarm || aws.ToBool(a.ActionsEnabled) || len(acts.runs) != 0 {
		t.Fatalf("disabled: %s %v %q", a.StateValue, aws.ToBool(a.ActionsEnabled), acts.runs)
	}
	if _, err := b.EnableAlarmActions(ctx, &cw.EnableAlarmActionsInput{AlarmNames: []string{"cpu"}}); err != nil {
		t.Fatal(err)
	}
	acts.fail = true
	tick(30)
	if len(acts.runs) != 1 {
		t.Fatalf("enabled again: %q", acts.runs)
	}
	last, _ := b.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu"), HistoryItemType: types.HistoryItemTypeAction, MaxRecords: aws.Int32(1)})
	if it := last.AlarmHistoryItems[0]; aws.ToString(it.HistorySummary) != "Failed to execute action "+policyArn+`. Received error: "policy gone"` || !strings.Contains(aws.ToString(it.HistoryData), "policy gone") {
		t.Fatalf("failed action: %+v", it)
	}
}

// TestEvaluateMetricMathAndPublished: a metric math alarm on an error
// rate, and an alarm on a metric berth publishes in AWS/ECS.
func TestEvaluateMetricMathAndPublished(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 30, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	stat := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	if _, err := b.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("errors"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, Metrics: []types.MetricDataQuery{stat("e", "Errors"), stat("r", "Requests"),
			{Id: aws.String("rate"), Expression: aws.String("100 * e / r"), Label: aws.String("error rate")}}}); err != nil {
		t.Fatal(err)
	}
	ecs := []types.Dimension{{Name: aws.String("ClusterName"), Value: aws.String("prod")}, {Name: aws.String("ServiceName"), Value: aws.String("web")}}
	if _, err := b.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("ecs-cpu"), Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"),
		Dimensions: ecs, Statistic: types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(70),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Errors"), Value: aws.Float64(3)}, {MetricName: aws.String("Requests"), Value: aws.Float64(20)}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "AWS/ECS", []types.MetricDatum{{MetricName: aws.String("CPUUtilization"), Dimensions: ecs, Value: aws.Float64(80), Unit: types.StandardUnitPercent}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if err := b.EvaluateAlarms(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	out, _ := b.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{})
	got := map[string]types.StateValue{}
	for _, a := range out.MetricAlarms {
		got[aws.ToString(a.AlarmName)] = a.StateValue
	}
	if got["errors"] != types.StateValueAlarm || got["ecs-cpu"] != types.StateValueAlarm {
		t.Fatalf("states = %v", got)
	}
	forMetric, err := b.DescribeAlarmsForMetric(ctx, &cw.DescribeAlarmsForMetricInput{Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"), Dimensions: []types.Dimension{ecs[1], ecs[0]}})
	if err != nil || len(forMetric.MetricAlarms) != 1 || aws.ToString(forMetric.MetricAlarms[0].AlarmName) != "ecs-cpu" {
		t.Fatalf("DescribeAlarmsForMetric = %+v, %v", forMetric, err)
	}
}

// TestActionScopes: an alarm's actions are of its partition and region,
// and its Auto Scaling actions of its account: the hostile review scaled
// another account's service, in another region too, through an alarm
// whose action named that account's policy.
func TestActionScopes(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	b, ctx := testBackend(t, &now) // account 123456789012, eu-west-1
	for _, arn := range []string{
		"arn:aws:autoscaling:eu-west-1:222222222222:scalingPolicy:1:resource/ecs/service/c/s:policyName/up",
		"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/ecs/service/c/s:policyName/up",
		"arn:aws-us-gov:sns:eu-west-1:123456789012:ops",
	} {
		in := cpuAlarm("foreign")
		in.AlarmActions = []string{arn}
		if _, err := b.PutMetricAlarm(ctx, in); code(err) != "ValidationError" {
			t.Errorf("action %s: %v, want ValidationError", arn, err)
		}
	}
	in := cpuAlarm("own")
	in.AlarmActions = []string{"arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:1:resource/ecs/service/c/s:policyName/up", "arn:aws:sns:eu-west-1:999999999999:shared-topic"}
	if _, err := b.PutMetricAlarm(ctx, in); err != nil {
		t.Errorf("own policy and another account's topic: %v", err)
	}
}
