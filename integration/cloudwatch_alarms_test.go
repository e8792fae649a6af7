package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestCloudWatchAlarmsSDK drives the alarm API with aws-sdk-go-v2 (Smithy
// RPC v2 CBOR): create with tags, read back, update, tags, SetAlarmState
// and its history, paging, and the modelled errors.
func TestCloudWatchAlarmsSDK(t *testing.T) {
	ctx, c := setup(t)
	cw := cloudWatch(c.region)
	dims := []types.Dimension{{Name: aws.String("ServiceName"), Value: aws.String("web")}, {Name: aws.String("ClusterName"), Value: aws.String("prod")}}
	alarm := func(name string) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), AlarmDescription: aws.String("CPU of web"),
			Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"), Dimensions: dims, Statistic: types.StatisticAverage,
			Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(75),
			ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
			AlarmActions: []string{"arn:aws:sns:" + c.region + ":000000000000:ops"}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}}
	}
	for _, n := range []string{"web-cpu-high", "web-cpu-low", "api-cpu-high"} {
		try(cw.PutMetricAlarm(ctx, alarm(n))).must(t)
	}
	out := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-cpu-high"}})).must(t)
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms = %+v", out)
	}
	a := out.MetricAlarms[0]
	arn := "arn:aws:cloudwatch:" + c.region + ":000000000000:alarm:web-cpu-high"
	if aws.ToString(a.AlarmArn) != arn || a.StateValue != types.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" ||
		aws.ToInt32(a.DatapointsToAlarm) != 2 || aws.ToString(a.TreatMissingData) != "notBreaching" || len(a.Dimensions) != 2 || !aws.ToBool(a.ActionsEnabled) ||
		a.StateUpdatedTimestamp == nil || a.AlarmConfigurationUpdatedTimestamp == nil {
		t.Fatalf("alarm = %+v", a)
	}
	prefixed := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-"), StateValue: types.StateValueInsufficientData})).must(t)
	if len(prefixed.MetricAlarms) != 2 {
		t.Fatalf("by prefix = %d alarms", len(prefixed.MetricAlarms))
	}
	var names []string
	pages := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	for pages.HasMorePages() {
		for _, a := range try(pages.NextPage(ctx)).must(t).MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	if strings.Join(names, ",") != "api-cpu-high,web-cpu-high,web-cpu-low" {
		t.Fatalf("paged names = %v", names)
	}
	forMetric := try(cw.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{Namespace: aws.String("AWS/ECS"), MetricName: aws.String("CPUUtilization"), Dimensions: dims})).must(t)
	if len(forMetric.MetricAlarms) != 3 {
		t.Fatalf("DescribeAlarmsForMetric = %d alarms", len(forMetric.MetricAlarms))
	}

	// Tags: given at creation, kept by an update, changed by TagResource.
	upd := alarm("web-cpu-high")
	upd.Threshold, upd.Tags = aws.Float64(80), nil
	try(cw.PutMetricAlarm(ctx, upd)).must(t)
	try(cw.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})).must(t)
	try(cw.UntagResource(ctx, &cloudwatch.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"team"}})).must(t)
	tags := try(cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(arn)})).must(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags = %+v", tags.Tags)
	}

	// SetAlarmState: the state, its reason, a StateUpdate and the failed
	// SNS action in the history.
	try(cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("web-cpu-high"), StateValue: types.StateValueAlarm,
		StateReason: aws.String("load test"), StateReasonData: aws.String(`{"recentDatapoints":[91.5]}`)})).must(t)
	a = try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"web-cpu-high"}})).must(t).MetricAlarms[0]
	if a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "load test" || aws.ToFloat64(a.Threshold) != 80 {
		t.Fatalf("after SetAlarmState = %+v", a)
	}
	history := try(cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("web-cpu-high")})).must(t)
	var summaries []string
	for _, h := range history.AlarmHistoryItems {
		summaries = append(summaries, string(h.HistoryItemType)+": "+aws.ToString(h.HistorySummary))
	}
	want := []string{"Action: Failed to execute action arn:aws:sns:" + c.region + `:000000000000:ops. Received error: "berth does not run sns actions"`, "StateUpdate: Alarm updated from INSUFFICIENT_DATA to ALARM",
		`ConfigurationUpdate: Alarm "web-cpu-high" updated`, `ConfigurationUpdate: Alarm "web-cpu-high" created`}
	if strings.Join(summaries, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s", strings.Join(summaries, "\n"))
	}
	var data struct {
		NewState struct{ StateValue, StateReason string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(history.AlarmHistoryItems[1].HistoryData)), &data); err != nil || data.NewState.StateValue != "ALARM" || data.NewState.StateReason != "load test" {
		t.Fatalf("HistoryData = %s", aws.ToString(history.AlarmHistoryItems[1].HistoryData))
	}
	try(cw.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"web-cpu-high"}})).must(t)
	if a := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:"), AlarmNamePrefix: aws.String("web-cpu-h")})).must(t).MetricAlarms; len(a) != 1 || aws.ToBool(a[0].ActionsEnabled) {
		t.Fatalf("after DisableAlarmActions = %+v", a)
	}

	// Errors, as the SDK models them.
	_, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueOk, StateReason: aws.String("x")})
	wantErr[*types.ResourceNotFound](t, err)
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("web-cpu-low"), StateValue: types.StateValueOk, StateReason: aws.String("x"), StateReasonData: aws.String("{not json")})
	wantErr[*types.InvalidFormatFault](t, err)
	_, err = cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:" + c.region + ":000000000000:alarm:nope")})
	wantErr[*types.ResourceNotFoundException](t, err)
	bad := alarm("bad")
	bad.Threshold = nil
	_, err = cw.PutMetricAlarm(ctx, bad)
	wantErr[*types.MissingRequiredParameterException](t, err)
	bad = alarm("bad")
	bad.DatapointsToAlarm = aws.Int32(4)
	_, err = cw.PutMetricAlarm(ctx, bad)
	wantErr[*types.InvalidParameterValueException](t, err)
	_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("a")})
	wantErr[*types.InvalidParameterCombinationException](t, err)
	_, err = cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: aws.String("%%%")})
	wantErr[*types.InvalidNextToken](t, err)

	// Names of no alarm are passed over.
	try(cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-cpu-high", "web-cpu-low", "api-cpu-high", "nope"}})).must(t)
	if left := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})).must(t); len(left.MetricAlarms) != 0 {
		t.Fatalf("after DeleteAlarms = %+v", left.MetricAlarms)
	}
	deleted := try(cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("web-cpu-low"), HistoryItemType: types.HistoryItemTypeConfigurationUpdate})).must(t)
	if len(deleted.AlarmHistoryItems) != 2 || aws.ToString(deleted.AlarmHistoryItems[0].HistorySummary) != `Alarm "web-cpu-low" deleted` {
		t.Fatalf("history of a deleted alarm = %+v", deleted.AlarmHistoryItems)
	}
}

// TestCloudWatchAlarmEvaluation: an alarm on a custom metric goes to
// ALARM while the test puts high values and back to OK when it puts low
// ones, on a berth whose CloudWatch minute lasts two seconds; its
// history tells the story in AWS's words.
func TestCloudWatchAlarmEvaluation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--lb-network", "none", "--cloudwatch-minute", "2s")
	cw := b.clients("us-east-1").cloudwatch
	dims := []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}}
	try(cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("backlog"), Namespace: aws.String("Worker"), MetricName: aws.String("Backlog"),
		Dimensions: dims, Statistic: types.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(10),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:pager"}})).must(t)

	// putWhile puts value every 200 ms until the alarm is in state, and
	// fails the test if it is not within a generous deadline.
	putWhile := func(value float64, state types.StateValue) types.MetricAlarm {
		t.Helper()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Worker"), MetricData: []types.MetricDatum{
					{MetricName: aws.String("Backlog"), Dimensions: dims, Value: aws.Float64(value), Unit: types.StandardUnitCount}}})
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		})
		defer func() { close(stop); wg.Wait() }()
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			a := try(cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"backlog"}})).must(t).MetricAlarms[0]
			if a.StateValue == state {
				return a
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Fatalf("the alarm did not reach %s", state)
		return types.MetricAlarm{}
	}
	a := putWhile(25, types.StateValueAlarm)
	if r := aws.ToString(a.StateReason); !strings.HasPrefix(r, "Threshold Crossed: 2 out of the last 2 datapoints [25.0 (") ||
		!strings.HasSuffix(r, "] were greater than the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition).") {
		t.Fatalf("ALARM reason = %s", r)
	}
	var reasonData struct {
		Statistic        string
		Period           int
		RecentDatapoints []float64
	}
	if err := json.Unmarshal([]byte(aws.ToString(a.StateReasonData)), &reasonData); err != nil || reasonData.Statistic != "Maximum" || reasonData.Period != 60 || len(reasonData.RecentDatapoints) != 2 {
		t.Fatalf("StateReasonData = %s", aws.ToString(a.StateReasonData))
	}
	a = putWhile(2, types.StateValueOk)
	// One low datapoint is enough for OK (two, if an evaluation came
	// late).
	if r := aws.ToString(a.StateReason); !regexp.MustCompile(`^Threshold Crossed: (1 out of the last 2 datapoints \[2\.0 \([^)]+\)\] was|2 out of the last 2 datapoints \[2\.0 \([^)]+\), 2\.0 \([^)]+\)\] were) not greater than the threshold \(10\.0\) \(minimum 1 datapoint for ALARM -> OK transition\)\.$`).MatchString(r) {
		t.Fatalf("OK reason = %s", r)
	}
	history := try(cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("backlog"), ScanBy: types.ScanByTimestampAscending})).must(t)
	var summaries []string
	for _, h := range history.AlarmHistoryItems {
		summaries = append(summaries, aws.ToString(h.HistorySummary))
	}
	// Missing datapoints are not breaching: the first evaluation, with
	// one datapoint at most, is OK.
	want := []string{`Alarm "backlog" created`, "Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM",
		`Failed to execute action arn:aws:sns:us-east-1:000000000000:pager. Received error: "berth does not run sns actions"`, "Alarm updated from ALARM to OK"}
	if got := strings.Join(summaries, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s", got)
	}
}

// TestCloudWatchAlarmsCLI: the aws CLI (AWS JSON 1.0) creates, describes,
// sets the state of and deletes an alarm on metric math.
func TestCloudWatchAlarmsCLI(t *testing.T) {
	t.Parallel()
	aws := cli{t: t, url: shared.url, region: newRegion()}
	aws.run(nil, "cloudwatch", "put-metric-alarm", "--alarm-name", "error-rate", "--evaluation-periods", "3", "--datapoints-to-alarm", "2",
		"--threshold", "5", "--comparison-operator", "GreaterThanThreshold", "--treat-missing-data", "ignore", "--tags", "Key=team,Value=api",
		"--metrics", `[{"Id":"e","MetricStat":{"Metric":{"Namespace":"Api","MetricName":"Errors"},"Period":60,"Stat":"Sum"},"ReturnData":false},`+
			`{"Id":"r","MetricStat":{"Metric":{"Namespace":"Api","MetricName":"Requests"},"Period":60,"Stat":"Sum"},"ReturnData":false},`+
			`{"Id":"rate","Expression":"100 * e / r","Label":"Error rate"}]`)
	var described struct {
		MetricAlarms []struct {
			AlarmName, StateValue, TreatMissingData string
			DatapointsToAlarm                       int
			Metrics                                 []struct {
				Id         string
				Expression string
				ReturnData *bool
			}
		}
	}
	aws.run(&described, "cloudwatch", "describe-alarms", "--alarm-names", "error-rate")
	if len(described.MetricAlarms) != 1 || described.MetricAlarms[0].StateValue != "INSUFFICIENT_DATA" || len(described.MetricAlarms[0].Metrics) != 3 ||
		described.MetricAlarms[0].Metrics[2].Expression != "100 * e / r" || described.MetricAlarms[0].DatapointsToAlarm != 2 {
		t.Fatalf("describe-alarms = %+v", described)
	}
	aws.run(nil, "cloudwatch", "set-alarm-state", "--alarm-name", "error-rate", "--state-value", "ALARM", "--state-reason", "drill")
	aws.run(&described, "cloudwatch", "describe-alarms", "--state-value", "ALARM")
	if len(described.MetricAlarms) != 1 || described.MetricAlarms[0].AlarmName != "error-rate" {
		t.Fatalf("describe-alarms --state-value ALARM = %+v", described)
	}
	var history struct {
		AlarmHistoryItems []struct{ HistoryItemType, HistorySummary string }
	}
	aws.run(&history, "cloudwatch", "describe-alarm-history", "--alarm-name", "error-rate", "--history-item-type", "StateUpdate")
	if len(history.AlarmHistoryItems) != 1 || history.AlarmHistoryItems[0].HistorySummary != "Alarm updated from INSUFFICIENT_DATA to ALARM" {
		t.Fatalf("describe-alarm-history = %+v", history)
	}
	aws.fails("ResourceNotFound", "cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "OK", "--state-reason", "x")
	aws.fails("InvalidParameterCombination", "cloudwatch", "describe-alarms", "--alarm-names", "a", "--alarm-name-prefix", "a")
	aws.fails("InvalidParameterValue", "cloudwatch", "put-metric-alarm", "--alarm-name", "x", "--namespace", "Api", "--metric-name", "Errors",
		"--statistic", "Sum", "--period", "45", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold")
	aws.run(nil, "cloudwatch", "delete-alarms", "--alarm-names", "error-rate")
	aws.run(&described, "cloudwatch", "describe-alarms")
	if len(described.MetricAlarms) != 0 {
		t.Fatalf("describe-alarms after delete-alarms = %+v", described)
	}
}

// TestCloudWatchAlarmsQueryProtocol: the query protocol (the Terraform
// provider's, older SDKs') serves the alarm operations, with XML answers
// and the query error codes.
func TestCloudWatchAlarmsQueryProtocol(t *testing.T) {
	t.Parallel()
	post := func(form url.Values) (int, string) {
		resp, err := http.Post(shared.url, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	name := "query-" + newRegion()
	status, body := post(url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}, "AlarmName": {name}, "Namespace": {"Q"}, "MetricName": {"M"},
		"Statistic": {"Sum"}, "Period": {"60"}, "EvaluationPeriods": {"1"}, "Threshold": {"3"}, "ComparisonOperator": {"LessThanThreshold"},
		"Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}})
	if status != 200 || !strings.Contains(body, "<PutMetricAlarmResponse") {
		t.Fatalf("PutMetricAlarm = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}, "AlarmNames.member.1": {name}})
	if status != 200 || !strings.Contains(body, "<AlarmName>"+name+"</AlarmName>") || !strings.Contains(body, "<StateValue>INSUFFICIENT_DATA</StateValue>") ||
		!strings.Contains(body, "<ComparisonOperator>LessThanThreshold</ComparisonOperator>") {
		t.Fatalf("DescribeAlarms = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"SetAlarmState"}, "Version": {"2010-08-01"}, "AlarmName": {name + "-nope"}, "StateValue": {"OK"}, "StateReason": {"x"}})
	if status != 404 || !strings.Contains(body, "<Code>ResourceNotFound</Code>") {
		t.Fatalf("SetAlarmState of a missing alarm = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"DeleteAlarms"}, "Version": {"2010-08-01"}, "AlarmNames.member.1": {name}})
	if status != 200 || !strings.Contains(body, "<DeleteAlarmsResponse") {
		t.Fatalf("DeleteAlarms = %d %s", status, body)
	}
}
