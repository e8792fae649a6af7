package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Metric alarms
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):
// a static threshold on one metric's statistic or on a metric math
// expression, evaluated every minute (RunAlarms), with actions per state.

// kindAlarm is a metric alarm, by name.
const kindAlarm = "cloudwatch/alarm"

// Limits of PutMetricAlarm and DescribeAlarms
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html:
// 5 actions a state, up to 10 metrics in a metric math alarm, and "no
// limit on the total number of alarms per account", so no
// LimitExceeded).
const (
	maxActions      = 5   // actions per state
	maxAlarmTags    = 50  // tags per alarm
	maxAlarmMetrics = 10  // queries of a metric math alarm
	maxAlarmNames   = 100 // AlarmNames of DescribeAlarms and DeleteAlarms
	defaultRecords  = 50  // DescribeAlarms' page without MaxRecords
	maxRecords      = 100
	// Period × EvaluationPeriods may span a day for periods under an
	// hour, a week otherwise.
	maxSpanShort = 86400
	maxSpanLong  = 604800
)

// The reason of a new alarm's state (as DescribeAlarms shows a new alarm
// in AWS).
const reasonCreated = "Unchecked: Initial alarm creation"

// AlarmActions runs alarm actions that name another service's resource.
type AlarmActions interface {
	// RunAlarmAction runs the action arn (an Application Auto Scaling
	// policy ARN, arn:aws:autoscaling:...:scalingPolicy:...) for alarm,
	// whose state is now alarm.StateValue; value is the latest datapoint
	// evaluated. ctx carries the alarm's scope.
	RunAlarmAction(ctx context.Context, arn string, alarm types.MetricAlarm, value float64) error
}

// actionsHolder holds the AlarmActions, which are set after both
// services are built (each calls the other).
type actionsHolder struct{ a AlarmActions }

// SetAlarmActions sets what runs Auto Scaling actions. Without it, they
// fail as actions of an unknown kind do.
func (b *Backend) SetAlarmActions(a AlarmActions) { b.actions.Store(&actionsHolder{a}) }

func (b *Backend) alarmActions() AlarmActions {
	if h := b.actions.Load(); h != nil {
		return h.a
	}
	return nil
}

// alarm is a stored metric alarm.
type alarm struct {
	Alarm types.MetricAlarm
	Tags  []types.Tag
}

func alarmArn(s backend.Scope, name string) string {
	return "arn:aws:cloudwatch:" + s.Region + ":" + s.Account + ":alarm:" + name
}

// errAlarmNotFound is SetAlarmState's refusal of an alarm that does not
// exist.
func errAlarmNotFound(format string, args ...any) error {
	return awsproto.StatusError(404, "ResourceNotFound", format, args...)
}

// errResourceNotFound is the tagging operations' refusal.
func errResourceNotFound(format string, args ...any) error {
	return awsproto.StatusError(404, "ResourceNotFoundException", format, args...)
}

// treatments are the values of TreatMissingData.
var treatments = []string{"breaching", "notBreaching", "ignore", "missing"}

// staticOperators are the comparisons against a static threshold; the
// others compare with an anomaly detection band, which berth does not
// compute.
var staticOperators = []types.ComparisonOperator{
	types.ComparisonOperatorGreaterThanOrEqualToThreshold, types.ComparisonOperatorGreaterThanThreshold,
	types.ComparisonOperatorLessThanThreshold, types.ComparisonOperatorLessThanOrEqualToThreshold,
}

// PutMetricAlarm creates an alarm in INSUFFICIENT_DATA, or replaces the
// configuration of an existing one, keeping its state and tags.
func (b *Backend) PutMetricAlarm(ctx context.Context, in *cw.PutMetricAlarmInput) (*cw.PutMetricAlarmOutput, error) {
	if err := checkAlarm(in); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	if err := checkActionScopes(s, in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AlarmName)
	now := b.now()
	var created bool
	var stored alarm
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var old alarm
		err := tx.Get(s.Key(kindAlarm, name), &old)
		if err != nil && !errors.Is(err, sqlite.ErrNotFound) {
			return err
		}
		created = err != nil
		stored = alarm{Alarm: alarmOf(in, s), Tags: old.Tags}
		a := &stored.Alarm
		a.AlarmConfigurationUpdatedTimestamp = aws.Time(now)
		if created {
			stored.Tags = slices.Clone(in.Tags)
			a.StateValue, a.StateReason = types.StateValueInsufficientData, aws.String(reasonCreated)
			a.StateUpdatedTimestamp, a.StateTransitionedTimestamp = aws.Time(now), aws.Time(now)
		} else {
			a.StateValue, a.StateReason, a.StateReasonData = old.Alarm.StateValue, old.Alarm.StateReason, old.Alarm.StateReasonData
			a.StateUpdatedTimestamp, a.StateTransitionedTimestamp = old.Alarm.StateUpdatedTimestamp, old.Alarm.StateTransitionedTimestamp
		}
		if err := tx.Put(s.Row(kindAlarm, name, "", name), stored); err != nil {
			return err
		}
		return b.record(tx, s, configurationItem(stored.Alarm, old.Alarm, created, now))
	})
	if err != nil {
		return nil, err
	}
	return &cw.PutMetricAlarmOutput{}, nil
}

// alarmOf is the configuration PutMetricAlarm gives, with AWS's defaults.
func alarmOf(in *cw.PutMetricAlarmInput, s backend.Scope) types.MetricAlarm {
	enabled := in.ActionsEnabled == nil || *in.ActionsEnabled
	treat := aws.ToString(in.TreatMissingData)
	if treat == "" {
		treat = "missing"
	}
	a := types.MetricAlarm{
		AlarmName:                        in.AlarmName,
		AlarmArn:                         aws.String(alarmArn(s, aws.ToString(in.AlarmName))),
		AlarmDescription:                 in.AlarmDescription,
		ActionsEnabled:                   aws.Bool(enabled),
		AlarmActions:                     backend.OrEmpty(slices.Clone(in.AlarmActions)),
		OKActions:                        backend.OrEmpty(slices.Clone(in.OKActions)),
		InsufficientDataActions:          backend.OrEmpty(slices.Clone(in.InsufficientDataActions)),
		ComparisonOperator:               in.ComparisonOperator,
		DatapointsToAlarm:                in.DatapointsToAlarm,
		EvaluationPeriods:                in.EvaluationPeriods,
		EvaluateLowSampleCountPercentile: in.EvaluateLowSampleCountPercentile,
		Threshold:                        in.Threshold,
		ThresholdMetricId:                in.ThresholdMetricId,
		TreatMissingData:                 aws.String(treat),
		Unit:                             in.Unit,
	}
	if len(in.Metrics) > 0 {
		a.Metrics = slices.Clone(in.Metrics)
		return a
	}
	a.Namespace, a.MetricName, a.Period = in.Namespace, in.MetricName, in.Period
	a.Dimensions = backend.OrEmpty(sortedDimensions(in.Dimensions))
	a.Statistic, a.ExtendedStatistic = in.Statistic, in.ExtendedStatistic
	return a
}

// checkActionScopes refuses actions outside the alarm's partition and
// region, as CloudWatch does ("Invalid partition aws specified. Only
// aws-us-gov is supported.", ValidationError,
// https://github.com/aws-samples/amazon-cloudwatch-auto-alarms/issues/61;
// the region's answer in the same words), and Auto Scaling actions of
// another account, whose policies an alarm cannot run (berth's words).
func checkActionScopes(s backend.Scope, in *cw.PutMetricAlarmInput) error {
	for _, list := range [][]string{in.AlarmActions, in.OKActions, in.InsufficientDataActions} {
		for _, a := range list {
			parts := strings.SplitN(a, ":", 6) // checked: at least six parts
			partition, region, account := parts[1], parts[3], parts[4]
			switch {
			case partition != "aws":
				return awsproto.ClientError("ValidationError", "Invalid partition %s specified. Only aws is supported.", partition)
			case region != "" && region != s.Region:
				return awsproto.ClientError("ValidationError", "Invalid region %s specified. Only %s is supported.", region, s.Region)
			case isAutoScaling(a) && account != s.Account:
				return awsproto.ClientError("ValidationError", "Invalid account %s specified in %s: an alarm runs the scaling policies of its own account only.", account, a)
			}
		}
	}
	return nil
}

// checkAlarm validates a PutMetricAlarm request.
func checkAlarm(in *cw.PutMetricAlarmInput) error {
	name := aws.ToString(in.AlarmName)
	switch {
	case name == "":
		return errMissing("AlarmName")
	case len(name) > 255:
		return errInvalid("The parameter AlarmName must not be longer than 255 characters.")
	case in.EvaluationCriteria != nil || in.EvaluationInterval != nil:
		return errInvalid("berth evaluates alarms on a metric or metric math, not PromQL queries (EvaluationCriteria).")
	case in.ThresholdMetricId != nil:
		return errInvalid("berth does not evaluate anomaly detection bands (ThresholdMetricId).")
	case len(aws.ToString(in.AlarmDescription)) > 1024:
		return errInvalid("The parameter AlarmDescription must not be longer than 1024 characters.")
	case in.EvaluationPeriods == nil:
		return errMissing("EvaluationPeriods")
	case *in.EvaluationPeriods < 1:
		return errInvalid("The parameter EvaluationPeriods must be greater than or equal to 1.")
	case in.ComparisonOperator == "":
		return errMissing("ComparisonOperator")
	case !slices.Contains(staticOperators, in.ComparisonOperator):
		return errCombination("The comparison operator %s compares with an anomaly detection band (ThresholdMetricId), which berth does not evaluate.", in.ComparisonOperator)
	case in.Threshold == nil:
		return errMissing("Threshold")
	}
	if err := checkValue(*in.Threshold, "Threshold"); err != nil {
		return err
	}
	if m := in.DatapointsToAlarm; m != nil && (*m < 1 || *m > *in.EvaluationPeriods) {
		return errInvalid("The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods (%d).", *in.EvaluationPeriods)
	}
	if t := in.TreatMissingData; t != nil && !slices.Contains(treatments, *t) {
		return errInvalid("The value %s for parameter TreatMissingData is invalid. Valid values are breaching, notBreaching, ignore and missing.", *t)
	}
	if e := in.EvaluateLowSampleCountPercentile; e != nil && *e != "evaluate" && *e != "ignore" {
		return errInvalid("The value %s for parameter EvaluateLowSampleCountPercentile is invalid. Valid values are evaluate and ignore.", *e)
	}
	for _, list := range []struct {
		name    string
		actions []string
	}{{"AlarmActions", in.AlarmActions}, {"OKActions", in.OKActions}, {"InsufficientDataActions", in.InsufficientDataActions}} {
		if len(list.actions) > maxActions {
			return errInvalid("The collection %s must not have a size greater than %d.", list.name, maxActions)
		}
		for i, a := range list.actions {
			if !strings.HasPrefix(a, "arn:") || strings.Count(a, ":") < 5 || len(a) > 1024 {
				return errInvalid("Invalid arn syntax: %s (%s.member.%d)", a, list.name, i+1)
			}
		}
	}
	if err := checkAlarmTags(in.Tags); err != nil {
		return err
	}
	period := int32(0)
	if len(in.Metrics) > 0 {
		if in.MetricName != nil || in.Namespace != nil || len(in.Dimensions) > 0 || in.Statistic != "" || in.ExtendedStatistic != nil || in.Period != nil || in.Unit != "" {
			return errCombination("The parameters MetricName, Namespace, Dimensions, Statistic, ExtendedStatistic, Period and Unit must not be specified with Metrics.")
		}
		p, err := checkAlarmMetrics(in.Metrics)
		if err != nil {
			return err
		}
		period = p
	} else {
		switch {
		case aws.ToString(in.MetricName) == "":
			return errMissing("MetricName")
		case aws.ToString(in.Namespace) == "":
			return errMissing("Namespace")
		case in.Statistic == "" && in.ExtendedStatistic == nil:
			return errMissing("Statistic")
		case in.Statistic != "" && in.ExtendedStatistic != nil:
			return errCombination("Must specify either Statistic or ExtendedStatistic, but not both.")
		case in.ExtendedStatistic != nil && !percentileStat.MatchString(*in.ExtendedStatistic):
			return errInvalid("The value %s for parameter ExtendedStatistic is invalid.", *in.ExtendedStatistic)
		case in.EvaluateLowSampleCountPercentile != nil && in.ExtendedStatistic == nil:
			return errCombination("The parameter EvaluateLowSampleCountPercentile is used only with a percentile (ExtendedStatistic).")
		}
		if err := checkNamespace(*in.Namespace, false); err != nil {
			return err
		}
		if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
			return err
		}
		if err := checkAlarmPeriod(in.Period, "Period"); err != nil {
			return err
		}
		period = *in.Period
	}
	span, limit := int64(period)*int64(*in.EvaluationPeriods), int64(maxSpanLong)
	if period < 3600 {
		limit = maxSpanShort
	}
	if span > limit {
		return errInvalid("The evaluation period (Period × EvaluationPeriods, %d seconds) must not be longer than %d seconds.", span, limit)
	}
	return nil
}

// checkAlarmPeriod checks an alarm's period: 10, 20, 30 or a multiple of
// 60 seconds (PutMetricAlarm's Period).
func checkAlarmPeriod(period *int32, param string) error {
	if period == nil {
		return errMissing(param)
	}
	switch p := *period; {
	case p <= 0:
		return errInvalid("The parameter %s must be greater than 0.", param)
	case p < 60 && p != 10 && p != 20 && p != 30:
		return errInvalid("The parameter %s must be 10, 20, 30, or a multiple of 60.", param)
	case p >= 60 && p%60 != 0:
		return errInvalid("The parameter %s must be a multiple of 60.", param)
	}
	return nil
}

// checkAlarmMetrics checks the queries of a metric math alarm: those of
// GetMetricData, exactly one of which returns data (the alarm's value),
// all metrics of one period. It returns that period.
func checkAlarmMetrics(qs []types.MetricDataQuery) (int32, error) {
	if len(qs) > maxAlarmMetrics {
		return 0, errInvalid("The collection Metrics must not have a size greater than %d.", maxAlarmMetrics)
	}
	if err := checkQueries(qs); err != nil {
		return 0, err
	}
	returned, period := 0, int32(0)
	for i, q := range qs {
		if q.ReturnData == nil || *q.ReturnData {
			returned++
		}
		var p *int32
		switch {
		case q.MetricStat != nil:
			p = q.MetricStat.Period
		case q.Period != nil:
			p = q.Period
		default:
			continue
		}
		if err := checkAlarmPeriod(p, fmt.Sprintf("Metrics.member.%d.Period", i+1)); err != nil {
			return 0, err
		}
		if period != 0 && *p != period {
			return 0, errInvalid("All metrics of an alarm must have the same period.")
		}
		period = *p
	}
	if returned != 1 {
		return 0, errInvalid("Exactly one element of the metrics list must return data.")
	}
	// Expressions may use the metrics and the expressions before them,
	// as they are evaluated (alarmSlots).
	known := map[string]bool{}
	for _, q := range qs {
		if q.MetricStat != nil {
			known[aws.ToString(q.Id)] = true
		}
	}
	for _, q := range qs {
		if q.Expression == nil {
			continue
		}
		node, _ := parseExpr(*q.Expression) // checked by checkQueries
		if _, err := node.eval(func(id string) (mathValue, bool) {
			return mathValue{series: map[int64]float64{}, isSeries: true}, known[id]
		}); err != nil {
			return 0, errInvalid("Error in expression '%s': %v", aws.ToString(q.Id), err)
		}
		known[aws.ToString(q.Id)] = true
	}
	if period == 0 {
		return 0, errMissing("Metrics.member.N.MetricStat.Period")
	}
	return period, nil
}

func checkAlarmTags(tags []types.Tag) error {
	if len(tags) > maxAlarmTags {
		return errInvalid("The collection Tags must not have a size greater than %d.", maxAlarmTags)
	}
	for i, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		switch {
		case t.Key == nil:
			return errMissing(fmt.Sprintf("Tags.member.%d.Key", i+1))
		case t.Value == nil:
			return errMissing(fmt.Sprintf("Tags.member.%d.Value", i+1))
		case k == "" || len(k) > 128:
			return errInvalid("The parameter Tags.member.%d.Key must be a value between 1 and 128 characters long.", i+1)
		case len(v) > 256:
			return errInvalid("The parameter Tags.member.%d.Value must not be longer than 256 characters.", i+1)
		}
	}
	return nil
}

// DescribeAlarms lists alarms by name, name prefix, state or action
// prefix, in name order.
func (b *Backend) DescribeAlarms(ctx context.Context, in *cw.DescribeAlarmsInput) (*cw.DescribeAlarmsOutput, error) {
	switch {
	case len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil:
		return nil, errCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
	case len(in.AlarmNames) > maxAlarmNames:
		return nil, errInvalid("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	case in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > maxRecords):
		return nil, errInvalid("The parameter MaxRecords must be between 1 and %d.", maxRecords)
	case (in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil) && (len(in.AlarmNames) > 0 || in.AlarmNamePrefix != nil || in.StateValue != "" || in.ActionPrefix != nil || len(in.AlarmTypes) > 0):
		return nil, errCombination("The parameters ChildrenOfAlarmName and ParentsOfAlarmName take only MaxRecords and NextToken besides.")
	}
	out := &cw.DescribeAlarmsOutput{MetricAlarms: []types.MetricAlarm{}, CompositeAlarms: []types.CompositeAlarm{}}
	// berth has no composite alarms: they have no children, and metric
	// alarms no parents.
	if in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil {
		return out, nil
	}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, types.AlarmTypeMetricAlarm) {
		return out, nil
	}
	all, err := b.alarms(ctx, backend.ScopeFrom(ctx), in.AlarmNames...)
	if err != nil {
		return nil, err
	}
	keep := all[:0]
	for _, a := range all {
		m := a.Alarm
		name := aws.ToString(m.AlarmName)
		switch {
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name),
			in.AlarmNamePrefix != nil && !strings.HasPrefix(name, *in.AlarmNamePrefix),
			in.StateValue != "" && m.StateValue != in.StateValue,
			in.ActionPrefix != nil && !hasActionPrefix(m, *in.ActionPrefix):
			continue
		}
		keep = append(keep, a)
	}
	page, next, err := backend.PageOf(keep, func(a alarm) string { return aws.ToString(a.Alarm.AlarmName) }, in.NextToken, in.MaxRecords, defaultRecords)
	if err != nil {
		return nil, errNextToken()
	}
	for _, a := range page {
		out.MetricAlarms = append(out.MetricAlarms, a.Alarm)
	}
	out.NextToken = next
	return out, nil
}

func hasActionPrefix(m types.MetricAlarm, prefix string) bool {
	for _, list := range [][]string{m.AlarmActions, m.OKActions, m.InsufficientDataActions} {
		for _, a := range list {
			if strings.HasPrefix(a, prefix) {
				return true
			}
		}
	}
	return false
}

// alarms returns the alarms of scope s in name order.
func (b *Backend) alarms(ctx context.Context, s backend.Scope, names ...string) ([]alarm, error) {
	var all []alarm
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if len(names) == 0 {
			all, err = sqlite.ListAll[alarm](tx, s.Query(kindAlarm, ""))
			return err
		}
		// Named alarms are read by their keys, not found among all.
		for _, name := range names {
			var a alarm
			switch err := tx.Get(s.Key(kindAlarm, name), &a); {
			case err == nil:
				if !slices.ContainsFunc(all, func(x alarm) bool { return aws.ToString(x.Alarm.AlarmName) == name }) {
					all = append(all, a)
				}
			case !errors.Is(err, sqlite.ErrNotFound):
				return err
			}
		}
		return nil
	})
	slices.SortFunc(all, func(x, y alarm) int {
		return strings.Compare(aws.ToString(x.Alarm.AlarmName), aws.ToString(y.Alarm.AlarmName))
	})
	return all, err
}

// DescribeAlarmsForMetric lists the alarms on one metric, narrowed by
// statistic, period and unit when given.
func (b *Backend) DescribeAlarmsForMetric(ctx context.Context, in *cw.DescribeAlarmsForMetricInput) (*cw.DescribeAlarmsForMetricOutput, error) {
	switch {
	case aws.ToString(in.MetricName) == "":
		return nil, errMissing("MetricName")
	case aws.ToString(in.Namespace) == "":
		return nil, errMissing("Namespace")
	}
	if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	all, err := b.alarms(ctx, backend.ScopeFrom(ctx))
	if err != nil {
		return nil, err
	}
	want := Identity{*in.Namespace, *in.MetricName, in.Dimensions}.key()
	out := &cw.DescribeAlarmsForMetricOutput{MetricAlarms: []types.MetricAlarm{}}
	for _, a := range all {
		m := a.Alarm
		switch {
		case m.MetricName == nil || identityOf(&types.Metric{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions}).key() != want,
			in.Statistic != "" && m.Statistic != in.Statistic,
			in.ExtendedStatistic != nil && aws.ToString(m.ExtendedStatistic) != *in.ExtendedStatistic,
			in.Period != nil && aws.ToInt32(m.Period) != *in.Period,
			in.Unit != "" && m.Unit != in.Unit:
			continue
		}
		out.MetricAlarms = append(out.MetricAlarms, m)
	}
	return out, nil
}

// DeleteAlarms deletes alarms by name; their history stays. Names of no
// alarm are passed over: "If you specify any incorrect alarm names, the
// alarms you specify with correct names are still deleted"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html),
// and the call succeeds, as AWS's own alarm resource handler found
// (https://github.com/aws-cloudformation/cloudformation-cli/issues/456).
func (b *Backend) DeleteAlarms(ctx context.Context, in *cw.DeleteAlarmsInput) (*cw.DeleteAlarmsOutput, error) {
	switch {
	case len(in.AlarmNames) == 0:
		return nil, errMissing("AlarmNames")
	case len(in.AlarmNames) > maxAlarmNames:
		return nil, errInvalid("The collection AlarmNames must not have a size greater than %d.", maxAlarmNames)
	}
	s := backend.ScopeFrom(ctx)
	now := b.now()
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, name := range in.AlarmNames {
			var a alarm
			err := tx.Get(s.Key(kindAlarm, name), &a)
			switch {
			case errors.Is(err, sqlite.ErrNotFound):
				continue
			case err != nil:
				return err
			}
			if err := tx.Delete(s.Key(kindAlarm, name)); err != nil {
				return err
			}
			if err := b.record(tx, s, deletionItem(a.Alarm, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cw.DeleteAlarmsOutput{}, nil
}

// now is the clock's time at millisecond precision, in UTC, as the API
// gives timestamps.
func (b *Backend) now() time.Time { return b.env.Clock().UTC().Truncate(time.Millisecond) }
