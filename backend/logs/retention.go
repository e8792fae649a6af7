package logs

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth/backend"
	"berth/sqlite"
)

// A log group's retention (retentionInDays) deletes its events once they
// are older than that many days, by their timestamps. CloudWatch Logs does
// it some time after, typically within 72 hours; berth every
// retentionEvery.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention

// retentionEvery is how often Run applies retention.
const retentionEvery = 10 * time.Minute

// Run applies every group's retention every retentionEvery until ctx
// ends.
func (b *Backend) Run(ctx context.Context) {
	backend.Every(ctx, retentionEvery, func(ctx context.Context) { b.ApplyRetention(ctx) })
}

// ApplyRetention deletes, in every group with a retention, the events
// older than it, and returns how many it deleted. Each group is one
// transaction.
func (b *Backend) ApplyRetention(ctx context.Context) (int64, error) {
	var groups []sqlite.Keyed[group]
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		groups, err = sqlite.ScanAll[group](tx, kindGroup, "")
		return err
	})
	if err != nil {
		return 0, err
	}
	var deleted int64
	for _, g := range groups {
		days := aws.ToInt32(g.Value.Group.RetentionInDays)
		if days <= 0 {
			continue
		}
		cutoff := b.env.Clock().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
		s := backend.Scope{Account: g.Key.Account, Region: g.Key.Region}
		err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
			streams, err := sqlite.ListAll[types.LogStream](tx, s.Query(kindStream, g.Key.ID))
			if err != nil {
				return err
			}
			for _, st := range streams {
				events := eventsOf(s, g.Key.ID, *st.LogStreamName)
				n, err := tx.DeleteLogEvents(events, cutoff)
				if err != nil || n == 0 {
					if err != nil {
						return err
					}
					continue
				}
				deleted += n
				_, bytes, err := tx.LogStreamSize(events)
				if err != nil {
					return err
				}
				st.StoredBytes = aws.Int64(bytes)
				if err := putStream(tx, s, g.Key.ID, st); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}
