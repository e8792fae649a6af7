package cloudwatch

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/awsproto"
	"berth/backend"
)

// Limits of GetMetricData
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
const (
	maxQueries           = 500
	defaultMaxDatapoints = 100800
)

// queryID is the form of a MetricDataQuery Id
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
var queryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// GetMetricData evaluates metric statistics and metric math expressions.
func (b *Backend) GetMetricData(ctx context.Context, in *cw.GetMetricDataInput) (*cw.GetMetricDataOutput, error) {
	if err := checkQueries(in.MetricDataQueries); err != nil {
		return nil, err
	}
	if in.StartTime == nil {
		return nil, errMissing("StartTime")
	}
	if in.EndTime == nil {
		return nil, errMissing("EndTime")
	}
	if !in.StartTime.Before(*in.EndTime) {
		return nil, errInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	if in.ScanBy != "" && !slices.Contains(in.ScanBy.Values(), in.ScanBy) {
		return nil, errInvalid("The value %s for parameter ScanBy is invalid.", in.ScanBy)
	}
	offset := 0
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, convErr := strconv.Atoi(string(raw))
		if err != nil || convErr != nil || n < 0 || n > 1<<40 {
			return nil, errNextToken()
		}
		offset = n
	}
	// A call returns at most 100,800 datapoints, the default, and pages
	// the rest.
	limit := defaultMaxDatapoints
	if in.MaxDatapoints != nil && *in.MaxDatapoints > 0 {
		limit = min(int(*in.MaxDatapoints), defaultMaxDatapoints)
	}

	s := backend.ScopeFrom(ctx)
	values := map[string]mathValue{}
	constants := map[string]constant{} // scalar expressions, by query id
	var results []result
	// Metric statistics first, then expressions in order, each of which
	// may use any result before it.
	var windowStart time.Time
	var windowPeriod time.Duration
	// Queries of one metric, unit and period (several statistics of it,
	// say) read and aggregate its datapoints once.
	read := map[string][]Period{}
	for _, q := range in.MetricDataQueries {
		if q.MetricStat == nil {
			continue
		}
		period := time.Duration(*q.MetricStat.Period) * time.Second
		start, n, _ := window(in.StartTime, in.EndTime, period)
		if windowPeriod == 0 || period < windowPeriod {
			windowStart, windowPeriod = start, period
		}
		id := identityOf(q.MetricStat.Metric)
		key := fmt.Sprint(id.key(), "|", q.MetricStat.Unit, "|", period)
		periods, ok := read[key]
		if !ok {
			var err error
			if periods, err = b.Periods(ctx, s, id, string(q.MetricStat.Unit), start, period, n); err != nil {
				return nil, err
			}
			read[key] = periods
		}
		v := mathValue{series: map[int64]float64{}, isSeries: true}
		for _, p := range periods {
			if x, ok := p.Value(*q.MetricStat.Stat); ok {
				v.series[p.Start.UnixMilli()] = x
			}
		}
		values[*q.Id] = v
	}
	for _, q := range in.MetricDataQueries {
		if q.Expression == nil {
			continue
		}
		node, _ := parseExpr(*q.Expression) // checked by checkQueries
		v, err := node.eval(func(id string) (mathValue, bool) { x, ok := values[id]; return x, ok })
		if err != nil {
			return nil, errInvalid("Error in expression '%s': %v", *q.Id, err)
		}
		if !v.isSeries { // a scalar holds at every period of the range
			period := windowPeriod
			if q.Period != nil && *q.Period > 0 {
				period = time.Duration(*q.Period) * time.Second
			}
			if period == 0 {
				period = time.Minute
			}
			start, n, _ := window(in.StartTime, in.EndTime, period)
			if windowStart.IsZero() {
				windowStart = start
			}
			constants[*q.Id] = constant{v.scalar, start, period, n}
		}
		values[*q.Id] = v
	}
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		label := aws.ToString(q.Label)
		if label == "" {
			if q.MetricStat != nil && q.MetricStat.Metric != nil {
				label = aws.ToString(q.MetricStat.Metric.MetricName)
			} else {
				label = *q.Id
			}
		}
		r := result{MetricDataResult: types.MetricDataResult{Id: q.Id, Label: aws.String(label), StatusCode: types.StatusCodeComplete, Timestamps: []time.Time{}, Values: []float64{}, Messages: []types.MessageData{}},
			ascending: in.ScanBy == types.ScanByTimestampAscending}
		if c, ok := constants[*q.Id]; ok {
			r.constant = &c
			results = append(results, r)
			continue
		}
		stamps := make([]int64, 0, len(values[*q.Id].series))
		for ts := range values[*q.Id].series {
			stamps = append(stamps, ts)
		}
		slices.Sort(stamps)
		if in.ScanBy != types.ScanByTimestampAscending {
			slices.Reverse(stamps)
		}
		for _, ts := range stamps {
			r.Timestamps = append(r.Timestamps, time.UnixMilli(ts).UTC())
			r.Values = append(r.Values, values[*q.Id].series[ts])
		}
		results = append(results, r)
	}
	return page(results, offset, limit), nil
}

// constant is a scalar expression's result: value at each of n periods
// from start. Its datapoints are made for the page that shows them only,
// so that a long range at a short period costs one page, not the range.
type constant struct {
	value  float64
	start  time.Time
	period time.Duration
	n      int
}

// result is a query's result before paging: its datapoints, or a
// constant's.
type result struct {
	types.MetricDataResult
	constant  *constant
	ascending bool
}

// len is how many datapoints the result has.
func (r result) len() int {
	if r.constant != nil {
		return r.constant.n
	}
	return len(r.Values)
}

// slice returns the result with its datapoints from..to only.
func (r result) slice(from, to int) types.MetricDataResult {
	out := r.MetricDataResult
	c := r.constant
	if c == nil {
		out.Timestamps, out.Values = out.Timestamps[from:to], out.Values[from:to]
		return out
	}
	out.Timestamps, out.Values = make([]time.Time, 0, to-from), make([]float64, 0, to-from)
	for i := from; i < to; i++ {
		k := i
		if !r.ascending {
			k = c.n - 1 - i // newest first
		}
		out.Timestamps = append(out.Timestamps, time.UnixMilli(c.start.UnixMilli()+int64(k)*c.period.Milliseconds()).UTC())
		out.Values = append(out.Values, c.value)
	}
	return out
}

// page returns the datapoints of results from offset on, at most limit of
// them, with the token of the rest. A result cut short is PartialData.
func page(results []result, offset, limit int) *cw.GetMetricDataOutput {
	out := &cw.GetMetricDataOutput{MetricDataResults: []types.MetricDataResult{}, Messages: []types.MessageData{}}
	skip, room := offset, limit
	for _, r := range results {
		n := r.len()
		from := min(skip, n)
		skip -= from
		to := min(n, from+room)
		room -= to - from
		if from > 0 && from == n {
			continue // delivered on an earlier page
		}
		sliced := r.slice(from, to)
		if to < n {
			sliced.StatusCode = types.StatusCodePartialData
		}
		out.MetricDataResults = append(out.MetricDataResults, sliced)
		if room == 0 && to < n {
			break
		}
	}
	total := 0
	for _, r := range results {
		total += r.len()
	}
	if offset+limit < total {
		out.NextToken = aws.String(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset + limit))))
	}
	return out
}

// checkQueries validates MetricDataQueries before anything is read.
func checkQueries(qs []types.MetricDataQuery) error {
	switch {
	case len(qs) == 0:
		return errMissing("MetricDataQueries")
	case len(qs) > maxQueries:
		return errInvalid("The collection MetricDataQueries must not have a size greater than %d.", maxQueries)
	}
	ids := map[string]bool{}
	returned := 0
	for i, q := range qs {
		path := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		id := aws.ToString(q.Id)
		switch {
		case q.Id == nil:
			return errMissing(path + ".Id")
		case !queryID.MatchString(id) || len(id) > 255:
			return errInvalid("The value %s for parameter %s.Id is invalid. It must start with a lowercase letter and contain only letters, numbers and underscores.", id, path)
		case ids[id]:
			return errInvalid("The value %s for parameter MetricDataQueries is invalid: the Id must be unique.", id)
		case (q.MetricStat == nil) == (q.Expression == nil):
			return errCombination("The parameters %s.MetricStat and %s.Expression are mutually exclusive and you must specify exactly one.", path, path)
		}
		ids[id] = true
		if q.ReturnData == nil || *q.ReturnData {
			returned++
		}
		if q.Expression != nil && q.Period != nil {
			if err := checkPeriod(q.Period, path+".Period"); err != nil {
				return err
			}
		}
		if st := q.MetricStat; st != nil {
			switch {
			case st.Metric == nil:
				return errMissing(path + ".MetricStat.Metric")
			case aws.ToString(st.Metric.Namespace) == "":
				return errMissing(path + ".MetricStat.Metric.Namespace")
			case aws.ToString(st.Metric.MetricName) == "":
				return errMissing(path + ".MetricStat.Metric.MetricName")
			case st.Stat == nil:
				return errMissing(path + ".MetricStat.Stat")
			case !validStat(*st.Stat):
				// ValidationError, unmodelled, as field reports show it
				// (https://github.com/prometheus-community/yet-another-cloudwatch-exporter/issues/1435).
				return awsproto.ClientError("ValidationError", "The value %s for parameter %s.MetricStat.Stat is not a valid statistic.", *st.Stat, path)
			}
			if err := checkPeriod(st.Period, path+".MetricStat.Period"); err != nil {
				return err
			}
			if err := checkDimensions(st.Metric.Dimensions, path+".MetricStat.Metric.Dimensions"); err != nil {
				return err
			}
			continue
		}
		if _, err := parseExpr(*q.Expression); err != nil {
			return errInvalid("Error in expression '%s': %v", id, err)
		}
	}
	if returned == 0 {
		return errInvalid("At least one MetricDataQuery must have ReturnData set to true.")
	}
	return nil
}
