package cloudwatch

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/sqlite"
)

// Period is the aggregate of a metric's points in one period.
type Period struct {
	Start                time.Time
	Count, Sum, Min, Max float64
	// Unit is the points' unit when they share one, else None.
	Unit string
	// raw are the published values and their counts, for percentiles;
	// sets is whether a statistic set of several values is in the period,
	// which leaves it no percentiles: CloudWatch computes them from
	// statistic sets only when each holds one value (SampleCount 1,
	// Minimum = Maximum = Sum).
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles
	raw  []weighted
	sets bool
}

type weighted struct{ value, count float64 }

// aggregate groups points into periods of length period from start on,
// at most n of them, and returns the periods that have data, in time
// order.
func aggregate(points []sqlite.MetricPoint, start time.Time, period time.Duration, n int) []Period {
	byIndex := map[int]*Period{}
	var order []int
	from := start.UnixMilli()
	for _, p := range points {
		i := int((p.Timestamp - from) / period.Milliseconds())
		if p.Timestamp < from || i >= n {
			continue
		}
		agg, ok := byIndex[i]
		if !ok {
			agg = &Period{Start: time.UnixMilli(from + int64(i)*period.Milliseconds()).UTC(), Min: p.Min, Max: p.Max, Unit: p.Unit}
			byIndex[i] = agg
			order = append(order, i)
		}
		agg.Count += p.Count
		agg.Sum += p.Sum
		agg.Min, agg.Max = min(agg.Min, p.Min), max(agg.Max, p.Max)
		if agg.Unit != p.Unit {
			agg.Unit = string(types.StandardUnitNone)
		}
		switch {
		case p.Raw:
			agg.raw = append(agg.raw, weighted{p.Min, p.Count})
		case p.Count == 1 && p.Min == p.Max:
			agg.raw = append(agg.raw, weighted{p.Min, 1})
		default:
			agg.sets = true
		}
	}
	slices.Sort(order)
	out := make([]Period, len(order))
	for k, i := range order {
		out[k] = *byIndex[i]
		slices.SortFunc(out[k].raw, byValue) // once, for every percentile asked
	}
	return out
}

// percentileStat matches an extended statistic pNN or pNN.NN
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
var percentileStat = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$`)

// validStat reports whether stat is a statistic berth computes: one of
// the five basic statistics or a percentile.
func validStat(stat string) bool {
	return slices.Contains(types.Statistic("").Values(), types.Statistic(stat)) || percentileStat.MatchString(stat)
}

// Value returns the period's value of the statistic, and false when the
// period cannot give it (a percentile of statistic sets only).
func (p Period) Value(stat string) (float64, bool) {
	switch types.Statistic(stat) {
	case types.StatisticSampleCount:
		return p.Count, true
	case types.StatisticSum:
		return p.Sum, true
	case types.StatisticMinimum:
		return p.Min, true
	case types.StatisticMaximum:
		return p.Max, true
	case types.StatisticAverage:
		if p.Count == 0 {
			return 0, false
		}
		return p.Sum / p.Count, true
	}
	if !percentileStat.MatchString(stat) {
		return 0, false
	}
	if p.sets {
		return 0, false
	}
	pct, _ := strconv.ParseFloat(strings.TrimPrefix(stat, "p"), 64)
	return percentile(p.raw, pct)
}

// percentile is the smallest value at or below which pct percent of the
// weighted values lie (nearest rank). There is none when a value is
// negative, as in CloudWatch
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
func byValue(a, b weighted) int {
	switch {
	case a.value < b.value:
		return -1
	case a.value > b.value:
		return 1
	}
	return 0
}

func percentile(values []weighted, pct float64) (float64, bool) {
	var total float64
	for _, w := range values {
		if w.value < 0 {
			return 0, false
		}
		total += w.count
	}
	if total == 0 {
		return 0, false
	}
	sorted := values
	if !slices.IsSortedFunc(values, byValue) { // aggregate sorted them once
		sorted = slices.Clone(values)
		slices.SortFunc(sorted, byValue)
	}
	target := pct / 100 * total
	var seen float64
	for _, w := range sorted {
		seen += w.count
		if seen >= target {
			return w.value, true
		}
	}
	return sorted[len(sorted)-1].value, true
}

// checkPeriod checks a period in seconds: 1, 5, 10, 30 or a multiple of
// 60 (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
func checkPeriod(period *int32, param string) error {
	if period == nil {
		return errMissing(param)
	}
	switch p := *period; {
	case p <= 0:
		return errInvalid("The parameter %s must be greater than 0.", param)
	case p < 60 && p != 1 && p != 5 && p != 10 && p != 30:
		return errInvalid("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", param)
	case p >= 60 && p%60 != 0:
		return errInvalid("The parameter %s must be a multiple of 60.", param)
	}
	return nil
}

// alignStart rounds a query's start down as CloudWatch does: to the whole
// minute, or to the period for periods under a minute.
func alignStart(t time.Time, period time.Duration) time.Time {
	if period < time.Minute {
		return t.Truncate(period)
	}
	return t.Truncate(time.Minute)
}

func dimensionsLess(a, b types.Dimension) int {
	return strings.Compare(aws.ToString(a.Name), aws.ToString(b.Name))
}

func slicesSortDims(d []types.Dimension) { slices.SortFunc(d, dimensionsLess) }
