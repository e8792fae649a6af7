package cloudwatch

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// ListMetrics pages lists 500 metrics at a time, and lists only metrics
// with data in the last two weeks; RecentlyActive PT3H only those with
// data in the last three hours
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html).
const (
	listPage     = 500
	listedFor    = 14 * 24 * time.Hour
	recentWindow = 3 * time.Hour
)

// ListMetrics lists the metrics that have had data, filtered by
// namespace, name and dimensions.
func (b *Backend) ListMetrics(ctx context.Context, in *cw.ListMetricsInput) (*cw.ListMetricsOutput, error) {
	if err := checkNamespace(aws.ToString(in.Namespace), false); err != nil {
		return nil, err
	}
	if len(in.Dimensions) > 10 {
		return nil, errInvalid("The collection Dimensions must not have a size greater than 10.")
	}
	for _, d := range in.Dimensions {
		if aws.ToString(d.Name) == "" {
			return nil, errMissing("Dimensions.member.N.Name")
		}
	}
	if in.RecentlyActive != "" && in.RecentlyActive != types.RecentlyActivePt3h {
		return nil, errInvalid("The value %s for parameter RecentlyActive is invalid.", in.RecentlyActive)
	}
	since := b.env.Clock().Add(-listedFor)
	if in.RecentlyActive == types.RecentlyActivePt3h {
		since = b.env.Clock().Add(-recentWindow)
	}
	s := backend.ScopeFrom(ctx)
	q := s.Query(kindMetric, "")
	q.Name = aws.ToString(in.Namespace)
	var all []sqlite.Keyed[metric]
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ms, err := sqlite.ListAll[metric](tx, q)
		for _, m := range ms {
			all = append(all, sqlite.Keyed[metric]{Key: s.Key(kindMetric, Identity{aws.ToString(m.Metric.Namespace), aws.ToString(m.Metric.MetricName), m.Metric.Dimensions}.key()), Value: m})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var kept []sqlite.Keyed[metric]
	for _, m := range all {
		if m.Value.LastPut >= since.UnixMilli() && matches(m.Value.Metric, in) {
			kept = append(kept, m)
		}
	}
	sortByKey(kept)
	page, next, err := backend.PageOf(kept, func(m sqlite.Keyed[metric]) string { return m.Key.ID }, in.NextToken, nil, listPage)
	if err != nil {
		return nil, errNextToken()
	}
	out := &cw.ListMetricsOutput{Metrics: []types.Metric{}, NextToken: next}
	for _, m := range page {
		out.Metrics = append(out.Metrics, m.Value.Metric)
	}
	return out, nil
}

// matches reports whether a metric passes ListMetrics' filters: its name,
// and each filter dimension among its own (with the value, when given).
func matches(m types.Metric, in *cw.ListMetricsInput) bool {
	if in.MetricName != nil && aws.ToString(m.MetricName) != *in.MetricName {
		return false
	}
	for _, f := range in.Dimensions {
		found := false
		for _, d := range m.Dimensions {
			if aws.ToString(d.Name) == aws.ToString(f.Name) && (f.Value == nil || aws.ToString(d.Value) == *f.Value) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
