package cloudwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// slotsOf reads a row of the AWS table: oldest first, 0 a datapoint
// within the threshold, X one breaching it, - a missing one.
func slotsOf(row string, at time.Time, r rule) []*datapoint {
	slots := make([]*datapoint, len(row))
	for i, c := range row {
		ts := at.Add(time.Duration(i) * time.Minute)
		switch c {
		case '0':
			slots[i] = &datapoint{At: ts, Value: r.threshold - 1, SampleCount: 1}
		case 'X':
			slots[i] = &datapoint{At: ts, Value: r.threshold + 1, SampleCount: 1}
		}
	}
	return slots
}

// TestMissingDataTable: the two tables of
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
// (an evaluation range of 5 periods, oldest first; 3 out of 3, then 2 out
// of 3), row by row, for each TreatMissingData; "" is "Retain current
// state".
func TestMissingDataTable(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	const (
		ok   = types.StateValueOk
		al   = types.StateValueAlarm
		none = types.StateValueInsufficientData
	)
	for _, c := range []struct {
		m                                        int
		row                                      string
		missing, ignore, breaching, notBreaching types.StateValue
	}{
		{3, "0-X-X", ok, ok, ok, ok},
		{3, "0----", ok, ok, ok, ok},
		{3, "-----", none, "", al, ok},
		{3, "0XX-X", al, al, al, al},
		{3, "----X", none, "", al, ok},
		{3, "X----", al, "", al, ok},
		{2, "0-X-X", al, al, al, al},
		{2, "00X0X", al, al, al, al},
		{2, "0-X--", ok, ok, al, ok},
		{2, "----0", ok, ok, al, ok},
		{2, "----X", none, "", al, ok},
	} {
		for treat, want := range map[string]types.StateValue{"missing": c.missing, "ignore": c.ignore, "breaching": c.breaching, "notBreaching": c.notBreaching} {
			r := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 10, n: 3, m: c.m, treat: treat}
			if got := r.evaluate(slotsOf(c.row, at, r)).state; got != want {
				t.Errorf("%d of 3, %s, %s: %q, want %q", c.m, c.row, treat, got, want)
			}
		}
	}
}

// TestMOutOfN: an M out of N alarm goes to ALARM when M of the last N
// datapoints breach, not necessarily consecutive
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation:
// "3 out of 5").
func TestMOutOfN(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	r := rule{op: types.ComparisonOperatorGreaterThanOrEqualToThreshold, threshold: 50, n: 5, m: 3, treat: "missing"}
	for row, want := range map[string]types.StateValue{
		"--X0X0X": types.StateValueAlarm,
		"--XX00X": types.StateValueAlarm,
		"--X000X": types.StateValueOk,
		"XXX0000": types.StateValueOk, // the breaching ones are older than the last 5
		"-XX0X0X": types.StateValueAlarm,
	} {
		if got := r.evaluate(slotsOf(row, at, r)).state; got != want {
			t.Errorf("%s: %s, want %s", row, got, want)
		}
	}
	// A datapoint equal to the threshold breaches GreaterThanOrEqualTo,
	// not GreaterThan.
	eq := []*datapoint{{At: at, Value: 50}}
	if s := (rule{op: types.ComparisonOperatorGreaterThanOrEqualToThreshold, threshold: 50, n: 1, m: 1}).evaluate(eq).state; s != types.StateValueAlarm {
		t.Errorf(">= at the threshold: %s", s)
	}
	if s := (rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 50, n: 1, m: 1}).evaluate(eq).state; s != types.StateValueOk {
		t.Errorf("> at the threshold: %s", s)
	}
	if s := (rule{op: types.ComparisonOperatorLessThanOrEqualToThreshold, threshold: 50, n: 1, m: 1}).evaluate(eq).state; s != types.StateValueAlarm {
		t.Errorf("<= at the threshold: %s", s)
	}
}

// TestStateReasons: the reasons and reason data in AWS's words. With
// DatapointsToAlarm, as in the brief's example and AWS notifications
// ("Threshold Crossed: 1 out of the last 1 datapoints [3.0 (05/09/18
// 07:09:00)] was greater than the threshold (0.0) (minimum 1 datapoint for
// OK -> ALARM transition)."); without, as a target tracking alarm's
// DescribeAlarms answer recorded in
// https://github.com/overmindtech/aws-source/blob/main/sources/cloudwatch/alarm_test.go
// shows it; with no data, as alarm notifications quote them ("Insufficient
// Data: 5 datapoints were unknown.", "Threshold Crossed: no datapoints
// were received for 2 periods and 2 missing datapoints were treated as
// [Breaching].").
func TestStateReasons(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 1, 0, 0, time.UTC)
	r := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 10, n: 3, m: 3, treat: "missing", mOfN: true}
	slots := []*datapoint{nil, nil, {At: at, Value: 12}, {At: at.Add(time.Minute), Value: 11}, {At: at.Add(2 * time.Minute), Value: 15}}
	v := r.evaluate(slots)
	want := "Threshold Crossed: 3 out of the last 3 datapoints [15.0 (29/11/26 10:03:00), 11.0 (29/11/26 10:02:00), 12.0 (29/11/26 10:01:00)] were greater than the threshold (10.0) (minimum 3 datapoints for OK -> ALARM transition)."
	if got := r.reason(v, types.StateValueOk); got != want {
		t.Errorf("ALARM reason:\n got %s\nwant %s", got, want)
	}
	slots[4].Value = 5
	v = r.evaluate(slots)
	want = "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (29/11/26 10:03:00)] was not greater than the threshold (10.0) (minimum 1 datapoint for ALARM -> OK transition)."
	if got := r.reason(v, types.StateValueAlarm); v.state != types.StateValueOk || got != want {
		t.Errorf("OK reason:\n got %s %s\nwant %s", v.state, got, want)
	}
	one := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 0, n: 1, m: 1, treat: "missing", mOfN: true}
	v = one.evaluate([]*datapoint{{At: time.Date(2018, 9, 5, 7, 9, 0, 0, time.UTC), Value: 3}})
	if got := one.reason(v, types.StateValueOk); got != "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (05/09/18 07:09:00)] was greater than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)." {
		t.Errorf("1 of 1: %s", got)
	}

	// The target tracking alarm: Sum, 60 s, 2 periods, > 42.
	tt := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 42, n: 2, m: 2, treat: "missing"}
	at = time.Date(2023, 1, 9, 14, 1, 0, 0, time.UTC)
	v = tt.evaluate([]*datapoint{nil, nil, {At: at, Value: 1, SampleCount: 1}, {At: at.Add(time.Minute), Value: 0, SampleCount: 1}})
	if got := tt.reason(v, types.StateValueInsufficientData); v.state != types.StateValueOk || got != "Threshold Crossed: 2 datapoints [0.0 (09/01/23 14:02:00), 1.0 (09/01/23 14:01:00)] were not greater than the threshold (42.0)." {
		t.Errorf("without DatapointsToAlarm: %s %s", v.state, got)
	}
	data := tt.reasonData(v, time.Date(2023, 1, 9, 14, 7, 25, 504e6, time.UTC), "Sum", "", 60)
	if want := `{"version":"1.0","queryDate":"2023-01-09T14:07:25.504+0000","startDate":"2023-01-09T14:01:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[1.0,0.0],"threshold":42.0,"evaluatedDatapoints":[{"timestamp":"2023-01-09T14:02:00.000+0000","sampleCount":1.0,"value":0.0}`; !strings.HasPrefix(data, want) {
		t.Errorf("StateReasonData:\n got %s\nwant %s...", data, want)
	}

	five := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 1, n: 5, m: 5, treat: "missing"}
	v = five.evaluate(make([]*datapoint, 7))
	if got := five.reason(v, types.StateValueOk); v.state != types.StateValueInsufficientData || got != "Insufficient Data: 5 datapoints were unknown." {
		t.Errorf("no data: %s %s", v.state, got)
	}
	br := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 1, n: 2, m: 2, treat: "breaching"}
	v = br.evaluate(make([]*datapoint, 4))
	if got := br.reason(v, types.StateValueOk); got != "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]." {
		t.Errorf("breaching fill: %s", got)
	}
	nb := rule{op: types.ComparisonOperatorGreaterThanThreshold, threshold: 1, n: 1, m: 1, treat: "notBreaching"}
	v = nb.evaluate(make([]*datapoint, 3))
	if got := nb.reason(v, types.StateValueAlarm); got != "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]." {
		t.Errorf("not breaching fill: %s", got)
	}
	if data := nb.reasonData(v, at, "Sum", "Count", 60); data != `{"version":"1.0","queryDate":"2023-01-09T14:01:00.000+0000","unit":"Count","statistic":"Sum","period":60,"recentDatapoints":[],"threshold":1.0}` {
		t.Errorf("StateReasonData without datapoints: %s", data)
	}
}

// TestAlarmWindow: a Period of P seconds lasts P/60 × minute of berth's
// clock; the range is EvaluationPeriods and two more periods ending at
// the last complete one.
func TestAlarmWindow(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 5, 30, 0, time.UTC)
	for _, c := range []struct {
		minute    time.Duration
		period    int32
		n         int
		length    time.Duration
		start     time.Time
		spanCount int
	}{
		{time.Minute, 60, 3, time.Minute, time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), 5},
		{time.Minute, 300, 1, 5 * time.Minute, time.Date(2026, 11, 29, 9, 50, 0, 0, time.UTC), 3},
		{time.Minute, 10, 6, 10 * time.Second, time.Date(2026, 11, 29, 10, 4, 10, 0, time.UTC), 8},
		{2 * time.Second, 60, 3, 2 * time.Second, time.Date(2026, 11, 29, 10, 5, 20, 0, time.UTC), 5},
		{2 * time.Second, 300, 2, 10 * time.Second, time.Date(2026, 11, 29, 10, 4, 50, 0, time.UTC), 4},
	} {
		length, start, n := alarmWindow(now, c.minute, c.period, c.n)
		if length != c.length || !start.Equal(c.start) || n != c.spanCount {
			t.Errorf("minute %v, period %d, N %d: %v from %v × %d, want %v from %v × %d", c.minute, c.period, c.n, length, start, n, c.length, c.start, c.spanCount)
		}
	}
}

// TestJavaDouble: numbers as Java's Double.toString writes them
// (https://docs.oracle.com/javase/8/docs/api/java/lang/Double.html#toString-double-).
func TestJavaDouble(t *testing.T) {
	for v, want := range map[float64]string{12: "12.0", 0.5: "0.5", -3: "-3.0", 1e7: "1.0E7", 0.0001: "1.0E-4", 123.456: "123.456", 0: "0.0", 1.5e10: "1.5E10"} {
		if got := javaDouble(v); got != want {
			t.Errorf("%v: %s, want %s", v, got, want)
		}
	}
}

// TestTooFewSamples: with EvaluateLowSampleCountPercentile ignore, a p99
// alarm waits for 1,000 samples, a p10 one for 100
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html).
func TestTooFewSamples(t *testing.T) {
	alarm := func(stat, low string) types.MetricAlarm {
		a := types.MetricAlarm{ExtendedStatistic: &stat}
		if low != "" {
			a.EvaluateLowSampleCountPercentile = &low
		}
		return a
	}
	for _, c := range []struct {
		a       types.MetricAlarm
		samples float64
		want    bool
	}{
		{alarm("p99", "ignore"), 999, true},
		{alarm("p99", "ignore"), 1000, false},
		{alarm("p99", "evaluate"), 1, false},
		{alarm("p99", ""), 1, false},
		{alarm("p50", "ignore"), 19, true},
		{alarm("p10", "ignore"), 99, true},
		{alarm("p10", "ignore"), 100, false},
		{alarm("p100", "ignore"), 1, false},
	} {
		if got := tooFewSamples(c.a, c.samples); got != c.want {
			t.Errorf("%s %v, %v samples: %v", *c.a.ExtendedStatistic, c.a.EvaluateLowSampleCountPercentile, c.samples, got)
		}
	}
}
