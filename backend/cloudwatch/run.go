package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// RunAlarms evaluates every alarm once per minute until ctx ends, minute
// being how long one CloudWatch minute lasts on berth's clock (a minute,
// unless tests and demos shorten it): an alarm of Period P seconds reads
// periods of P/60 × minute.
func (b *Backend) RunAlarms(ctx context.Context, minute time.Duration) {
	backend.Every(ctx, minute, func(ctx context.Context) { b.EvaluateAlarms(ctx, minute) })
}

// EvaluateAlarms evaluates every alarm of every scope once, moves those
// whose state changes and runs their actions. It returns the first error
// met; the other alarms are evaluated all the same.
func (b *Backend) EvaluateAlarms(ctx context.Context, minute time.Duration) error {
	var all []sqlite.Keyed[alarm]
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ScanAll[alarm](tx, kindAlarm, "")
		return err
	})
	if err != nil {
		return err
	}
	var first error
	for _, a := range all {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s := backend.Scope{Account: a.Key.Account, Region: a.Key.Region}
		if err := b.evaluateAlarm(ctx, s, a.Value.Alarm, minute); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ruleOf is an alarm's comparison.
func ruleOf(a types.MetricAlarm) rule {
	n := int(aws.ToInt32(a.EvaluationPeriods))
	m := n
	if a.DatapointsToAlarm != nil {
		m = int(*a.DatapointsToAlarm)
	}
	treat := aws.ToString(a.TreatMissingData)
	// "Alarms that evaluate metrics in the AWS/DynamoDB namespace always
	// ignore missing data even if you choose a different option"
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
	if aws.ToString(a.Namespace) == "AWS/DynamoDB" {
		treat = "ignore"
	}
	return rule{op: a.ComparisonOperator, threshold: aws.ToFloat64(a.Threshold), n: n, m: m, treat: treat, mOfN: a.DatapointsToAlarm != nil}
}

// tooFewSamples reports whether a percentile alarm that ignores low
// sample counts has too few samples in its evaluation range: fewer than
// 10/(1-p) for percentiles p from 0.5 up to 1 (exclusive), 10/p below 0.5
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html).
func tooFewSamples(a types.MetricAlarm, samples float64) bool {
	stat := aws.ToString(a.ExtendedStatistic)
	if aws.ToString(a.EvaluateLowSampleCountPercentile) != "ignore" || !percentileStat.MatchString(stat) {
		return false
	}
	p, err := strconv.ParseFloat(strings.TrimPrefix(stat, "p"), 64)
	if err != nil || p <= 0 || p >= 100 {
		return false
	}
	p /= 100
	need := 10 / p
	if p >= 0.5 {
		need = 10 / (1 - p)
	}
	return samples < need
}

// alarmPeriod is an alarm's period in seconds: its metric's, or its
// metric math's.
func alarmPeriod(a types.MetricAlarm) int32 {
	if a.Period != nil {
		return *a.Period
	}
	for _, q := range a.Metrics {
		if q.MetricStat != nil && q.MetricStat.Period != nil {
			return *q.MetricStat.Period
		}
		if q.Period != nil {
			return *q.Period
		}
	}
	return 60
}

func (b *Backend) evaluateAlarm(ctx context.Context, s backend.Scope, a types.MetricAlarm, minute time.Duration) error {
	now := b.now()
	period := alarmPeriod(a)
	r := ruleOf(a)
	length, start, n := alarmWindow(now, minute, period, r.n)
	slots, err := b.alarmSlots(ctx, s, a, start, length, n)
	if err != nil {
		return err
	}
	v := r.evaluate(slots)
	var samples float64
	for _, d := range slots {
		if d != nil {
			samples += d.SampleCount
		}
	}
	if tooFewSamples(a, samples) {
		v.state = "" // the state does not change
	}
	latest := math.NaN()
	if len(v.used) > 0 {
		latest = v.used[0].Value
	}
	if v.state == "" || v.state == a.StateValue {
		return b.runActions(ctx, s, a, latest, true)
	}
	stat := string(a.Statistic)
	if stat == "" {
		stat = aws.ToString(a.ExtendedStatistic)
	}
	moved, err := b.transition(ctx, s, a, v.state, r.reason(v, a.StateValue), r.reasonData(v, now, stat, string(a.Unit), period), now)
	if moved == nil {
		return err
	}
	return b.runActions(ctx, s, *moved, latest, false)
}

// alarmSlots reads an alarm's datapoints over n periods of length from
// start, oldest first, nil where a period has none.
func (b *Backend) alarmSlots(ctx context.Context, s backend.Scope, a types.MetricAlarm, start time.Time, length time.Duration, n int) ([]*datapoint, error) {
	slots := make([]*datapoint, n)
	put := func(at time.Time, v, count float64) {
		if i := int(at.Sub(start) / length); i >= 0 && i < n {
			slots[i] = &datapoint{At: at.UTC(), Value: v, SampleCount: count}
		}
	}
	if len(a.Metrics) == 0 {
		stat := string(a.Statistic)
		if stat == "" {
			stat = aws.ToString(a.ExtendedStatistic)
		}
		periods, err := b.Periods(ctx, s, Identity{aws.ToString(a.Namespace), aws.ToString(a.MetricName), a.Dimensions}, string(a.Unit), start, length, n)
		if err != nil {
			return nil, err
		}
		for _, p := range periods {
			if v, ok := p.Value(stat); ok {
				put(p.Start, v, p.Count)
			}
		}
		return slots, nil
	}
	values := map[string]mathValue{}
	for _, q := range a.Metrics {
		if q.MetricStat == nil {
			continue
		}
		periods, err := b.Periods(ctx, s, identityOf(q.MetricStat.Metric), string(q.MetricStat.Unit), start, length, n)
		if err != nil {
			return nil, err
		}
		v := mathValue{series: map[int64]float64{}, isSeries: true}
		for _, p := range periods {
			if x, ok := p.Value(aws.ToString(q.MetricStat.Stat)); ok {
				v.series[p.Start.UnixMilli()] = x
			}
		}
		values[aws.ToString(q.Id)] = v
	}
	for _, q := range a.Metrics {
		if q.Expression == nil {
			continue
		}
		node, err := parseExpr(*q.Expression)
		if err != nil {
			return slots, nil // checked when stored: no data
		}
		v, err := node.eval(func(id string) (mathValue, bool) { x, ok := values[id]; return x, ok })
		if err != nil {
			return slots, nil
		}
		values[aws.ToString(q.Id)] = v
	}
	for _, q := range a.Metrics {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		v := values[aws.ToString(q.Id)]
		if !v.isSeries {
			for i := range n {
				put(start.Add(time.Duration(i)*length), v.scalar, 0)
			}
			break
		}
		for ts, x := range v.series {
			put(time.UnixMilli(ts), x, 0)
		}
		break
	}
	return slots, nil
}

// transition moves the alarm from the state it had when read (a) to
// state, with its reason, and records it. It returns the alarm moved, or
// nil when it is gone or something else moved it meanwhile.
func (b *Backend) transition(ctx context.Context, s backend.Scope, a types.MetricAlarm, state types.StateValue, reason, data string, now time.Time) (*types.MetricAlarm, error) {
	name := aws.ToString(a.AlarmName)
	var moved *types.MetricAlarm
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var cur alarm
		if err := tx.Get(s.Key(kindAlarm, name), &cur); errors.Is(err, sqlite.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if cur.Alarm.StateValue != a.StateValue {
			return nil
		}
		old, oldReason := cur.Alarm.StateValue, aws.ToString(cur.Alarm.StateReason)
		m := &cur.Alarm
		m.StateValue, m.StateReason = state, aws.String(reason)
		m.StateReasonData = nil
		if data != "" {
			m.StateReasonData = aws.String(data)
		}
		m.StateUpdatedTimestamp = aws.Time(now)
		if state != old {
			m.StateTransitionedTimestamp = aws.Time(now)
		}
		if err := tx.Put(s.Row(kindAlarm, name, "", name), cur); err != nil {
			return err
		}
		moved = m
		return b.record(tx, s, stateItem(*m, old, oldReason, now))
	})
	return moved, err
}

// isAutoScaling reports whether an action is an Auto Scaling policy's
// (EC2 or Application Auto Scaling): those keep being run while the
// alarm stays in the state
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-actions),
// "once each minute ..., regardless of the configured time period"
// (https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm).
func isAutoScaling(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:autoscaling:")
}

// runActions runs the actions of alarm a's state, or, for an alarm that
// stayed in it (repeat), only its Auto Scaling actions; each run at a
// state change is an Action history item, a repeat only when it failed
// (a successful one would be an item a minute for as long as the alarm
// stays; the scaling activities tell what they did). value is the latest
// datapoint evaluated.
func (b *Backend) runActions(ctx context.Context, s backend.Scope, a types.MetricAlarm, value float64, repeat bool) error {
	if !aws.ToBool(a.ActionsEnabled) {
		return nil
	}
	var arns []string
	switch a.StateValue {
	case types.StateValueAlarm:
		arns = a.AlarmActions
	case types.StateValueOk:
		arns = a.OKActions
	case types.StateValueInsufficientData:
		arns = a.InsufficientDataActions
	}
	for _, arn := range arns {
		if repeat && !isAutoScaling(arn) {
			continue
		}
		runErr := b.runAction(ctx, s, arn, a, value)
		if repeat && runErr == nil {
			continue
		}
		err := b.store.Update(ctx, func(tx *sqlite.Tx) error { return b.record(tx, s, actionItem(a, arn, runErr, b.now())) })
		if err != nil {
			return err
		}
	}
	return nil
}

// runAction runs one action: Auto Scaling policies through AlarmActions;
// berth runs no other kind (SNS topics, EC2 actions, Lambda functions,
// ...), and says so as a failure.
func (b *Backend) runAction(ctx context.Context, s backend.Scope, arn string, a types.MetricAlarm, value float64) (err error) {
	runner := b.alarmActions()
	if !isAutoScaling(arn) || runner == nil {
		service := arn
		if parts := strings.SplitN(arn, ":", 4); len(parts) == 4 {
			service = parts[2]
		}
		return fmt.Errorf("berth does not run %s actions", service)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the action failed: %v", p)
		}
	}()
	return runner.RunAlarmAction(backend.WithScope(ctx, s), arn, a, value)
}

// Limits of SetAlarmState
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html).
const (
	maxStateReason     = 1023
	maxStateReasonData = 4000
)

// SetAlarmState sets an alarm's state until its next evaluation, running
// the new state's actions when it changes. Auto Scaling actions take
// their value from StateReasonData's recentDatapoints (the newest), or
// the threshold.
func (b *Backend) SetAlarmState(ctx context.Context, in *cw.SetAlarmStateInput) (*cw.SetAlarmStateOutput, error) {
	name, reason, data := aws.ToString(in.AlarmName), aws.ToString(in.StateReason), aws.ToString(in.StateReasonData)
	switch {
	case name == "":
		return nil, errMissing("AlarmName")
	case in.StateValue == "":
		return nil, errMissing("StateValue")
	case in.StateValue != types.StateValueOk && in.StateValue != types.StateValueAlarm && in.StateValue != types.StateValueInsufficientData:
		return nil, errInvalid("The value %s for parameter StateValue is invalid.", in.StateValue)
	case in.StateReason == nil:
		return nil, errMissing("StateReason")
	case len(reason) > maxStateReason:
		return nil, errInvalid("The parameter StateReason must not be longer than %d characters.", maxStateReason)
	case len(data) > maxStateReasonData:
		return nil, errInvalid("The parameter StateReasonData must not be longer than %d characters.", maxStateReasonData)
	}
	var parsed struct {
		RecentDatapoints []float64 `json:"recentDatapoints"`
	}
	if in.StateReasonData != nil && json.Unmarshal([]byte(data), &parsed) != nil {
		return nil, errFormat("Unrecognized JSON in StateReasonData.")
	}
	s := backend.ScopeFrom(ctx)
	var cur alarm
	err := b.store.View(ctx, func(tx *sqlite.Tx) error { return tx.Get(s.Key(kindAlarm, name), &cur) })
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, errAlarmNotFound("The alarm %s does not exist.", name)
	} else if err != nil {
		return nil, err
	}
	moved, err := b.transition(ctx, s, cur.Alarm, in.StateValue, reason, data, b.now())
	if err != nil {
		return nil, err
	}
	if moved != nil && cur.Alarm.StateValue != in.StateValue {
		value := aws.ToFloat64(moved.Threshold)
		if n := len(parsed.RecentDatapoints); n > 0 {
			value = parsed.RecentDatapoints[n-1]
		}
		if err := b.runActions(ctx, s, *moved, value, false); err != nil {
			return nil, err
		}
	}
	return &cw.SetAlarmStateOutput{}, nil
}

// EnableAlarmActions turns the actions of alarms on.
func (b *Backend) EnableAlarmActions(ctx context.Context, in *cw.EnableAlarmActionsInput) (*cw.EnableAlarmActionsOutput, error) {
	if err := b.setActionsEnabled(ctx, in.AlarmNames, true); err != nil {
		return nil, err
	}
	return &cw.EnableAlarmActionsOutput{}, nil
}

// DisableAlarmActions turns the actions of alarms off: their states still
// change.
func (b *Backend) DisableAlarmActions(ctx context.Context, in *cw.DisableAlarmActionsInput) (*cw.DisableAlarmActionsOutput, error) {
	if err := b.setActionsEnabled(ctx, in.AlarmNames, false); err != nil {
		return nil, err
	}
	return &cw.DisableAlarmActionsOutput{}, nil
}

// setActionsEnabled sets ActionsEnabled of the named alarms; names of no
// alarm are passed over.
func (b *Backend) setActionsEnabled(ctx context.Context, names []string, enabled bool) error {
	switch {
	case len(names) == 0:
		return errMissing("AlarmNames")
	case len(names) > maxAlarmNames:
		return errInvalid("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	}
	s := backend.ScopeFrom(ctx)
	now := b.now()
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, name := range names {
			var a alarm
			if err := tx.Get(s.Key(kindAlarm, name), &a); errors.Is(err, sqlite.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if aws.ToBool(a.Alarm.ActionsEnabled) == enabled {
				continue
			}
			old := a.Alarm
			a.Alarm.ActionsEnabled = aws.Bool(enabled)
			a.Alarm.AlarmConfigurationUpdatedTimestamp = aws.Time(now)
			if err := tx.Put(s.Row(kindAlarm, name, "", name), a); err != nil {
				return err
			}
			if err := b.record(tx, s, configurationItem(a.Alarm, old, false, now)); err != nil {
				return err
			}
		}
		return nil
	})
}
