package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"berth/backend"
	"berth/sqlite"
)

// Retention
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention):
// datapoints with a period under 60 seconds (high-resolution) are
// available for 3 hours, 60-second datapoints for 15 days.
const (
	hiresRetention = 3 * time.Hour
	retention      = 15 * 24 * time.Hour
	retentionEvery = 5 * time.Minute
)

// Run applies retention every retentionEvery until ctx ends.
func (b *Backend) Run(ctx context.Context) {
	backend.Every(ctx, retentionEvery, func(ctx context.Context) { b.ApplyRetention(ctx) })
}

// ApplyRetention deletes the datapoints CloudWatch no longer keeps and
// returns how many it deleted.
func (b *Backend) ApplyRetention(ctx context.Context) (n int64, err error) {
	now := b.env.Clock()
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		n, err = tx.DeleteMetricPoints(now.Add(-retention).UnixMilli(), now.Add(-hiresRetention).UnixMilli())
		if err != nil {
			return err
		}
		if err := forgetMetrics(tx, now.Add(-retention)); err != nil {
			return err
		}
		return expireHistory(tx, now.Add(-historyRetention))
	})
	return n, err
}

// forgetMetrics deletes the metrics with no data since cutoff: their
// datapoints are gone, and ListMetrics shows no metric without data in
// the last two weeks
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html),
// so that a burst of one-off dimension values leaves nothing behind.
func forgetMetrics(tx *sqlite.Tx, cutoff time.Time) error {
	return tx.DeleteScanned(kindMetric, func(_ sqlite.Key, body []byte) bool {
		var m struct{ LastPut int64 }
		return json.Unmarshal(body, &m) == nil && m.LastPut < cutoff.UnixMilli()
	})
}

// expireHistory deletes the alarm history items from before cutoff.
func expireHistory(tx *sqlite.Tx, cutoff time.Time) error {
	// A history item's id begins with its time (record).
	oldest := fmt.Sprintf("%016d", cutoff.UnixMilli())
	return tx.DeleteScanned(kindHistory, func(k sqlite.Key, _ []byte) bool { return k.ID < oldest })
}

func sortByKey(ms []sqlite.Keyed[metric]) {
	slices.SortFunc(ms, func(a, b sqlite.Keyed[metric]) int { return strings.Compare(a.Key.ID, b.Key.ID) })
}
