package cloudwatch

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// maxDatapoints is the most datapoints one GetMetricStatistics call may
// ask for
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
const maxDatapoints = 1440

// Periods returns the metric's periods that have data, from start on, n
// periods of length period, of the points in unit ("" for any unit). It
// is how the API operations, and alarms, read a metric.
func (b *Backend) Periods(ctx context.Context, s backend.Scope, id Identity, unit string, start time.Time, period time.Duration, n int) ([]Period, error) {
	var points []sqlite.MetricPoint
	end := start.UnixMilli() + int64(n)*period.Milliseconds()
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		points, err = tx.MetricPoints(s.Account, s.Region, id.key(), start.UnixMilli(), end)
		return err
	})
	if err != nil {
		return nil, err
	}
	if unit != "" {
		kept := points[:0]
		for _, p := range points {
			if p.Unit == unit {
				kept = append(kept, p)
			}
		}
		points = kept
	}
	return aggregate(points, start, period, n), nil
}

// window checks a query's time range and period and returns its aligned
// start and how many periods it spans.
func window(start, end *time.Time, period time.Duration) (time.Time, int, error) {
	switch {
	case start == nil:
		return time.Time{}, 0, errMissing("StartTime")
	case end == nil:
		return time.Time{}, 0, errMissing("EndTime")
	case !start.Before(*end):
		return time.Time{}, 0, errInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	from := alignStart(*start, period)
	// In milliseconds, not a time.Duration, which ends at 292 years.
	span, step := end.UnixMilli()-from.UnixMilli(), period.Milliseconds()
	n := int((span + step - 1) / step)
	return from, n, nil
}

// GetMetricStatistics returns a metric's statistics per period.
func (b *Backend) GetMetricStatistics(ctx context.Context, in *cw.GetMetricStatisticsInput) (*cw.GetMetricStatisticsOutput, error) {
	ns, name := aws.ToString(in.Namespace), aws.ToString(in.MetricName)
	switch {
	case ns == "":
		return nil, errMissing("Namespace")
	case name == "":
		return nil, errMissing("MetricName")
	}
	if err := checkNamespace(ns, false); err != nil {
		return nil, err
	}
	if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	if err := checkPeriod(in.Period, "Period"); err != nil {
		return nil, err
	}
	switch {
	case len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0:
		return nil, errMissing("Statistics")
	case len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0:
		return nil, errCombination("Must specify either Statistics or ExtendedStatistics, but not both.")
	case len(in.Statistics) > 5:
		return nil, errInvalid("The collection Statistics must not have a size greater than 5.")
	case len(in.ExtendedStatistics) > 10:
		return nil, errInvalid("The collection ExtendedStatistics must not have a size greater than 10.")
	}
	for i, p := range in.ExtendedStatistics {
		if !percentileStat.MatchString(p) {
			return nil, errInvalid("The value %s for parameter ExtendedStatistics.member.%d is invalid.", p, i+1)
		}
	}
	period := time.Duration(*in.Period) * time.Second
	start, n, err := window(in.StartTime, in.EndTime, period)
	if err != nil {
		return nil, err
	}
	if n > maxDatapoints {
		return nil, errCombination("You have requested up to %s datapoints, which exceeds the limit of %s. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", thousands(n), thousands(maxDatapoints))
	}
	periods, err := b.Periods(ctx, backend.ScopeFrom(ctx), Identity{ns, name, in.Dimensions}, string(in.Unit), start, period, n)
	if err != nil {
		return nil, err
	}
	out := &cw.GetMetricStatisticsOutput{Label: aws.String(name), Datapoints: []types.Datapoint{}}
	for _, p := range periods {
		dp := types.Datapoint{Timestamp: aws.Time(p.Start), Unit: types.StandardUnit(p.Unit)}
		for _, st := range in.Statistics {
			v, _ := p.Value(string(st))
			switch st {
			case types.StatisticSampleCount:
				dp.SampleCount = aws.Float64(v)
			case types.StatisticAverage:
				dp.Average = aws.Float64(v)
			case types.StatisticSum:
				dp.Sum = aws.Float64(v)
			case types.StatisticMinimum:
				dp.Minimum = aws.Float64(v)
			case types.StatisticMaximum:
				dp.Maximum = aws.Float64(v)
			}
		}
		for _, st := range in.ExtendedStatistics {
			if v, ok := p.Value(st); ok {
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]float64{}
				}
				dp.ExtendedStatistics[st] = v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

// thousands writes n with comma separators, as CloudWatch's messages do.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
