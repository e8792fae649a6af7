package cloudwatch

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// Limits of PutMetricData
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html).
const (
	maxMetricData = 1000 // MetricData members per request
	maxDimensions = 30   // dimensions per metric
	maxValues     = 150  // Values (and Counts) per datum
	// Values must lie within ±2^360 (and not be NaN or infinite).
	maxValueExp = 360
	// A timestamp may be up to two weeks in the past and two hours in
	// the future.
	maxPast   = 14 * 24 * time.Hour
	maxFuture = 2 * time.Hour
)

// PutMetricData stores datapoints, creating their metrics.
func (b *Backend) PutMetricData(ctx context.Context, in *cw.PutMetricDataInput) (*cw.PutMetricDataOutput, error) {
	ns := aws.ToString(in.Namespace)
	if err := checkNamespace(ns, true); err != nil {
		return nil, err
	}
	if len(in.MetricData) == 0 && len(in.EntityMetricData) == 0 {
		return nil, errMissing("MetricData")
	}
	data := in.MetricData
	for _, e := range in.EntityMetricData {
		data = append(data, e.MetricData...)
	}
	if len(data) > maxMetricData {
		return nil, errInvalid("The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	if err := b.put(ctx, ns, data); err != nil {
		return nil, err
	}
	return &cw.PutMetricDataOutput{}, nil
}

// Publish stores datapoints that berth itself publishes for the AWS
// services it runs, in their AWS/ namespaces (AWS/ECS,
// AWS/ApplicationELB, ...), which PutMetricData refuses to its callers.
// The account and region are ctx's scope (backend.WithScope). Data are
// checked as PutMetricData checks them.
func (b *Backend) Publish(ctx context.Context, namespace string, data []types.MetricDatum) error {
	if err := checkNamespace(namespace, false); err != nil {
		return err
	}
	return b.put(ctx, namespace, data)
}

// put validates and stores data in namespace ns, in ctx's scope.
func (b *Backend) put(ctx context.Context, ns string, data []types.MetricDatum) error {
	now := b.env.Clock()
	type batch struct {
		id     Identity
		points []sqlite.MetricPoint
	}
	batches := make([]batch, 0, len(data))
	for i, d := range data {
		path := fmt.Sprintf("MetricData.member.%d", i+1)
		points, err := pointsOf(d, path, now)
		if err != nil {
			return err
		}
		batches = append(batches, batch{Identity{ns, aws.ToString(d.MetricName), d.Dimensions}, points})
	}
	s := backend.ScopeFrom(ctx)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		stored := map[string]bool{} // a metric's row is written once a call
		for _, bt := range batches {
			key := bt.id.key()
			if err := tx.AppendMetricPoints(s.Account, s.Region, key, bt.points); err != nil {
				return err
			}
			if stored[key] {
				continue
			}
			stored[key] = true
			m := metric{Metric: types.Metric{Namespace: aws.String(ns), MetricName: aws.String(bt.id.Name), Dimensions: sortedDimensions(bt.id.Dimensions)}, LastPut: now.UnixMilli()}
			if err := tx.Put(s.Row(kindMetric, key, "", ns), m); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkNamespace checks a namespace: 1 to 255 characters, not in AWS/
// when published to.
func checkNamespace(ns string, publishing bool) error {
	switch {
	case ns == "" && publishing:
		return errMissing("Namespace")
	case len(ns) > 255:
		return errInvalid("The parameter Namespace must not be longer than 255 characters.")
	case publishing && strings.HasPrefix(ns, "AWS/"):
		return errInvalid("The value AWS/ for parameter Namespace is invalid.")
	}
	return nil
}

// pointsOf validates one MetricDatum and returns its stored points.
func pointsOf(d types.MetricDatum, path string, now time.Time) ([]sqlite.MetricPoint, error) {
	name := aws.ToString(d.MetricName)
	switch {
	case name == "":
		return nil, errMissing(path + ".MetricName")
	case len(name) > 255:
		return nil, errInvalid("The parameter %s.MetricName must not be longer than 255 characters.", path)
	}
	if err := checkDimensions(d.Dimensions, path+".Dimensions"); err != nil {
		return nil, err
	}
	hires := false
	if r := d.StorageResolution; r != nil {
		if *r != 1 && *r != 60 {
			return nil, errInvalid("The value %d for parameter %s.StorageResolution is invalid. Valid values are 1 and 60.", *r, path)
		}
		hires = *r == 1
	}
	at := now
	if d.Timestamp != nil {
		at = *d.Timestamp
		// The past's text is AWS's
		// (https://github.com/cloud-custodian/cloud-custodian/issues/2559).
		if at.Before(now.Add(-maxPast)) {
			return nil, errInvalid("The parameter %s.Timestamp must specify a time within the past two weeks.", path)
		}
		if at.After(now.Add(maxFuture)) {
			return nil, errInvalid("The parameter %s.Timestamp must specify a time no more than two hours in the future.", path)
		}
	}
	unit := string(d.Unit)
	if unit == "" {
		unit = string(types.StandardUnitNone)
	}
	base := sqlite.MetricPoint{Timestamp: at.UnixMilli(), HighResolution: hires, Unit: unit}
	// Value, Values and StatisticValues exclude each other; the texts are
	// AWS's, as field reports show them
	// (https://github.com/AdRoll/goamz/issues/355, https://github.com/AdRoll/goamz/pull/301).
	var given []string
	for _, m := range []struct {
		name string
		set  bool
	}{{"Value", d.Value != nil}, {"Values", len(d.Values) > 0}, {"StatisticValues", d.StatisticValues != nil}} {
		if m.set {
			given = append(given, path+"."+m.name)
		}
	}
	if len(given) > 1 {
		return nil, errCombination("The parameters %s and %s are mutually exclusive and you have specified both.", given[0], given[1])
	}
	switch {
	case d.Value != nil:
		if err := checkValue(*d.Value, path+".Value"); err != nil {
			return nil, err
		}
		p := base
		p.Count, p.Sum, p.Min, p.Max, p.Raw = 1, *d.Value, *d.Value, *d.Value, true
		return []sqlite.MetricPoint{p}, nil
	case d.StatisticValues != nil:
		return statisticSet(base, d.StatisticValues, path+".StatisticValues")
	case len(d.Values) > 0:
		return valuesOf(base, d.Values, d.Counts, path)
	}
	if len(d.Counts) > 0 {
		return nil, errCombination("The parameter %s.Counts must be specified with %s.Values.", path, path)
	}
	return nil, errCombination("At least one of the parameters %s.Value and %s.StatisticValues must be specified.", path, path)
}

func checkDimensions(dims []types.Dimension, path string) error {
	if len(dims) > maxDimensions {
		return errInvalid("The collection %s must not have a size greater than %d.", path, maxDimensions)
	}
	seen := map[string]bool{}
	for i, dim := range dims {
		p := fmt.Sprintf("%s.member.%d", path, i+1)
		n, v := aws.ToString(dim.Name), aws.ToString(dim.Value)
		switch {
		case dim.Name == nil:
			return errMissing(p + ".Name")
		case dim.Value == nil:
			return errMissing(p + ".Value")
		case n == "" || len(n) > 255:
			return errInvalid("The parameter %s.Name must be a value between 1 and 255 characters long.", p)
		case v == "" || len(v) > 1024:
			return errInvalid("The parameter %s.Value must be a value between 1 and 1024 characters long.", p)
		case seen[n]:
			return errInvalid("No metric may have duplicate dimensions: %s is specified more than once.", n)
		}
		seen[n] = true
	}
	return nil
}

// checkValue refuses values CloudWatch cannot store: NaN, infinities and
// magnitudes beyond 2^360.
func checkValue(v float64, path string) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errInvalid("The value %v for parameter %s is invalid.", v, path)
	}
	if _, exp := math.Frexp(v); v != 0 && exp > maxValueExp {
		return errInvalid("The value %v for parameter %s is invalid.", v, path)
	}
	return nil
}

func statisticSet(base sqlite.MetricPoint, s *types.StatisticSet, path string) ([]sqlite.MetricPoint, error) {
	for _, m := range []struct {
		name string
		v    *float64
	}{{"SampleCount", s.SampleCount}, {"Sum", s.Sum}, {"Minimum", s.Minimum}, {"Maximum", s.Maximum}} {
		if m.v == nil {
			return nil, errMissing(path + "." + m.name)
		}
		if err := checkValue(*m.v, path+"."+m.name); err != nil {
			return nil, err
		}
	}
	switch {
	case *s.SampleCount <= 0:
		return nil, errInvalid("The parameter %s.SampleCount must be greater than 0.", path)
	case *s.Minimum > *s.Maximum:
		return nil, errInvalid("The parameter %s.Minimum must not be greater than %s.Maximum.", path, path)
	}
	p := base
	p.Count, p.Sum, p.Min, p.Max = *s.SampleCount, *s.Sum, *s.Minimum, *s.Maximum
	// A set of equal values still gives percentiles
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
	p.Raw = *s.Minimum == *s.Maximum
	return []sqlite.MetricPoint{p}, nil
}

// valuesOf stores each of Values once, or as many times as its Counts
// member says.
func valuesOf(base sqlite.MetricPoint, values, counts []float64, path string) ([]sqlite.MetricPoint, error) {
	if len(values) > maxValues {
		return nil, errInvalid("The collection %s.Values must not have a size greater than %d.", path, maxValues)
	}
	if len(counts) > 0 && len(counts) != len(values) {
		return nil, errCombination("The parameters %s.Values and %s.Counts must be of the same size.", path, path)
	}
	out := make([]sqlite.MetricPoint, 0, len(values))
	for i, v := range values {
		if err := checkValue(v, fmt.Sprintf("%s.Values.member.%d", path, i+1)); err != nil {
			return nil, err
		}
		c := 1.0
		if len(counts) > 0 {
			c = counts[i]
			if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
				return nil, errInvalid("The value %v for parameter %s.Counts.member.%d is invalid.", c, path, i+1)
			}
			if c == 0 {
				continue
			}
		}
		p := base
		p.Count, p.Sum, p.Min, p.Max, p.Raw = c, v*c, v, v, true
		out = append(out, p)
	}
	return out, nil
}

func sortedDimensions(dims []types.Dimension) []types.Dimension {
	out := append([]types.Dimension{}, dims...)
	slicesSortDims(out)
	return out
}
