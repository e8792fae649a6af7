package cloudwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Alarm evaluation
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation):
// each minute an alarm reads its metric over an evaluation range a little
// longer than its EvaluationPeriods (N) and compares the datapoints with
// its threshold. When the range holds at least N datapoints, the most
// recent N decide and missing data does not matter; with fewer, the
// missing ones are treated as TreatMissingData says, as few of them as
// needed to make N. DatapointsToAlarm (M) breaching datapoints of N move
// the alarm to ALARM; otherwise it is OK.

// extraPeriods is how many periods the evaluation range reaches back
// beyond EvaluationPeriods, for datapoints to stand in for missing ones
// (the AWS page's table shows a range of 5 periods for N = 3).
const extraPeriods = 2

// alarmWindow is the evaluation range of an alarm of period seconds and
// evaluationPeriods at now, when one CloudWatch minute lasts minute on
// berth's clock: the length of one period (period/60 × minute), the start
// of the range, and how many periods it spans. The range ends with the
// last complete period.
func alarmWindow(now time.Time, minute time.Duration, period int32, evaluationPeriods int) (length time.Duration, start time.Time, n int) {
	length = time.Duration(int64(minute) * int64(period) / 60)
	if length < time.Millisecond {
		length = time.Millisecond
	}
	n = evaluationPeriods + extraPeriods
	end := now.Truncate(length)
	return length, end.Add(-time.Duration(n) * length), n
}

// datapoint is one period's value of an alarm's metric.
type datapoint struct {
	At          time.Time
	Value       float64
	SampleCount float64
}

// rule is what an alarm compares: threshold, operator, N, M and the
// treatment of missing data.
type rule struct {
	op        types.ComparisonOperator
	threshold float64
	n, m      int
	treat     string
	// mOfN: DatapointsToAlarm was given, and reasons always say "M out
	// of the last N".
	mOfN bool
}

// breaches reports whether v is on the alarming side of the threshold.
func (r rule) breaches(v float64) bool {
	switch r.op {
	case types.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return v >= r.threshold
	case types.ComparisonOperatorGreaterThanThreshold:
		return v > r.threshold
	case types.ComparisonOperatorLessThanThreshold:
		return v < r.threshold
	case types.ComparisonOperatorLessThanOrEqualToThreshold:
		return v <= r.threshold
	}
	return false
}

// verdict is the result of one evaluation.
type verdict struct {
	// state is the alarm's state; "" keeps the current one (ignore).
	state types.StateValue
	// used are the real datapoints evaluated, newest first.
	used []datapoint
	// of is how many datapoints were evaluated (real and filled),
	// breaching how many of them breach.
	of, breaching int
	// filled is how many missing datapoints stood in, and as what.
	filled       int
	filledBreach bool
}

// evaluate decides an alarm's state from the datapoints of its
// evaluation range, oldest first (nil where a period has none), as the
// tables of
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
// show. With fewer than N real datapoints, missing and ignore fill in as
// few missing ones as needed, from the most recent periods: M breaching
// datapoints still mean ALARM and a non-breaching one OK; otherwise
// ignore keeps the state, and missing goes to ALARM when the oldest
// datapoint evaluated is a real (breaching) one ("X - - - -" in the
// table) and to INSUFFICIENT_DATA when it is a missing one ("- - - - X").
func (r rule) evaluate(slots []*datapoint) verdict {
	var real []datapoint
	oldestReal := -1
	for i := len(slots) - 1; i >= 0; i-- {
		if slots[i] != nil {
			real = append(real, *slots[i])
			oldestReal = i
		}
	}
	v := verdict{used: real[:min(len(real), r.n)]}
	for _, d := range v.used {
		if r.breaches(d.Value) {
			v.breaching++
		}
	}
	v.of = len(v.used)
	good := v.of - v.breaching
	if len(real) >= r.n {
		v.state = r.decide(v.breaching)
		return v
	}
	fill := r.n - v.of
	switch r.treat {
	case "breaching":
		v.filled, v.filledBreach = fill, true
		v.of, v.breaching = r.n, v.breaching+fill
		v.state = r.decide(v.breaching)
		return v
	case "notBreaching":
		v.filled, v.of = fill, r.n
		v.state = r.decide(v.breaching)
		return v
	}
	switch {
	case v.breaching >= r.m:
		v.state = types.StateValueAlarm
	case good > 0:
		v.state = types.StateValueOk
	case r.treat == "ignore":
		// the state stays
	case v.of > 0 && oldestReal < oldestFilled(slots, fill):
		v.state = types.StateValueAlarm
	default:
		v.state = types.StateValueInsufficientData
	}
	return v
}

// oldestFilled is the position of the oldest of the fill most recent
// missing periods of slots: the missing datapoints that stand in.
func oldestFilled(slots []*datapoint, fill int) int {
	pos := len(slots)
	for i := len(slots) - 1; i >= 0 && fill > 0; i-- {
		if slots[i] == nil {
			pos, fill = i, fill-1
		}
	}
	return pos
}

func (r rule) decide(breaching int) types.StateValue {
	if breaching >= r.m {
		return types.StateValueAlarm
	}
	return types.StateValueOk
}

// operatorWords are the comparisons as StateReason words them.
var operatorWords = map[types.ComparisonOperator]string{
	types.ComparisonOperatorGreaterThanOrEqualToThreshold: "greater than or equal to",
	types.ComparisonOperatorGreaterThanThreshold:          "greater than",
	types.ComparisonOperatorLessThanThreshold:             "less than",
	types.ComparisonOperatorLessThanOrEqualToThreshold:    "less than or equal to",
}

// reason is the StateReason of a move from one state to v's, in AWS's
// words. An alarm given DatapointsToAlarm says "Threshold Crossed: 3 out
// of the last 3 datapoints [12.0 (29/11/26 10:01:00), ...] were greater
// than the threshold (10.0) (minimum 3 datapoints for OK -> ALARM
// transition)."; one without, such as Application Auto Scaling's target
// tracking alarms, "Threshold Crossed: 2 datapoints [0.0 (09/01/23
// 14:02:00), 1.0 (09/01/23 14:01:00)] were not greater than the threshold
// (42.0)." (a DescribeAlarms answer recorded in
// https://github.com/overmindtech/aws-source/blob/main/sources/cloudwatch/alarm_test.go).
func (r rule) reason(v verdict, from types.StateValue) string {
	if v.state == types.StateValueInsufficientData {
		return "Insufficient Data: " + plural(r.n, "datapoint") + " " + wasWere(r.n) + " unknown."
	}
	alarming := v.state == types.StateValueAlarm
	if len(v.used) == 0 && v.filled > 0 {
		as := "NonBreaching"
		if v.filledBreach {
			as = "Breaching"
		}
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s %s treated as [%s].",
			plural(v.filled, "period"), plural(v.filled, "missing datapoint"), wasWere(v.filled), as)
	}
	var listed []string
	for _, d := range v.used {
		if r.breaches(d.Value) == alarming {
			listed = append(listed, javaDouble(d.Value)+" ("+d.At.UTC().Format("02/01/06 15:04:05")+")")
		}
	}
	words := operatorWords[r.op]
	if !alarming {
		words = "not " + words
	}
	if !r.mOfN {
		return fmt.Sprintf("Threshold Crossed: %s [%s] %s %s the threshold (%s).",
			plural(len(listed), "datapoint"), strings.Join(listed, ", "), wasWere(len(listed)), words, javaDouble(r.threshold))
	}
	count, minimum := v.breaching, r.m
	if !alarming {
		count, minimum = v.of-v.breaching, r.n-r.m+1
	}
	return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for %s -> %s transition).",
		count, v.of, strings.Join(listed, ", "), wasWere(count), words, javaDouble(r.threshold), plural(minimum, "datapoint"), from, v.state)
}

// javaNumber is a number that JSON shows as CloudWatch's StateReasonData
// does (1.0, not 1).
type javaNumber float64

// MarshalJSON implements json.Marshaler.
func (n javaNumber) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return []byte(javaDouble(float64(n))), nil
}

// reasonData is the StateReasonData JSON of an evaluation at now, as AWS
// writes it: the statistic ("" for metric math), unit, period, the
// datapoints evaluated (recentDatapoints oldest first,
// evaluatedDatapoints newest first) and startDate, the oldest one's time.
func (r rule) reasonData(v verdict, now time.Time, stat, unit string, period int32) string {
	type evaluated struct {
		Timestamp   string      `json:"timestamp"`
		SampleCount *javaNumber `json:"sampleCount,omitempty"`
		Value       javaNumber  `json:"value"`
	}
	data := struct {
		Version             string       `json:"version"`
		QueryDate           string       `json:"queryDate"`
		StartDate           string       `json:"startDate,omitempty"`
		Unit                string       `json:"unit,omitempty"`
		Statistic           string       `json:"statistic,omitempty"`
		Period              int32        `json:"period"`
		RecentDatapoints    []javaNumber `json:"recentDatapoints"`
		Threshold           javaNumber   `json:"threshold"`
		EvaluatedDatapoints []evaluated  `json:"evaluatedDatapoints,omitempty"`
	}{Version: "1.0", QueryDate: now.UTC().Format(historyTime), Unit: unit, Statistic: stat,
		Period: period, RecentDatapoints: []javaNumber{}, Threshold: javaNumber(r.threshold)}
	for i := len(v.used) - 1; i >= 0; i-- {
		data.RecentDatapoints = append(data.RecentDatapoints, javaNumber(v.used[i].Value))
	}
	for _, d := range v.used {
		e := evaluated{Timestamp: d.At.UTC().Format(historyTime), Value: javaNumber(d.Value)}
		if d.SampleCount > 0 {
			c := javaNumber(d.SampleCount)
			e.SampleCount = &c
		}
		data.EvaluatedDatapoints = append(data.EvaluatedDatapoints, e)
	}
	if n := len(v.used); n > 0 {
		data.StartDate = v.used[n-1].At.UTC().Format(historyTime)
	}
	b, _ := json.Marshal(data)
	return string(b)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// javaDouble writes v as Java's Double.toString does, as CloudWatch's
// reasons show numbers: 12.0, 0.5, 1.0E7, 1.0E-4.
func javaDouble(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(v, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
