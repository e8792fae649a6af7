package appautoscaling

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// activityRetention is how long activities are kept: "You can look up
// scaling activities from the last six weeks."
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html
const activityRetention = 6 * 7 * 24 * time.Hour

// maxActivities bounds the activities kept per target, so that a policy
// that scales every minute for six weeks cannot grow the store without
// bound; the oldest go first.
const maxActivities = 1000

// activity is a new activity of the target, started at start.
func activity(t types.ScalableTarget, start time.Time) types.ScalingActivity {
	return types.ScalingActivity{
		ServiceNamespace: t.ServiceNamespace, ResourceId: t.ResourceId, ScalableDimension: t.ScalableDimension,
		StartTime: &start,
	}
}

// record stores an activity (with a new id) and drops those past
// retention.
func (b *Backend) record(ctx context.Context, a types.ScalingActivity) error {
	s := backend.ScopeFrom(ctx)
	a.ActivityId = aws.String(backend.NewUUID(b.env.IDs))
	tkey := targetKey(string(a.ServiceNamespace), aws.ToString(a.ResourceId), string(a.ScalableDimension))
	now := b.env.Clock()
	// Ids sort by start time, so that listing is in time order.
	id := fmt.Sprintf("%s|%020d|%s", tkey, a.StartTime.UnixNano(), *a.ActivityId)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Put(s.Row(kindActivity, id, tkey, ""), a); err != nil {
			return err
		}
		ids, _, err := tx.ListIDs(s.Query(kindActivity, tkey))
		if err != nil {
			return err
		}
		slices.Sort(ids)
		for i, old := range ids {
			var ac types.ScalingActivity
			if err := tx.Get(s.Key(kindActivity, old), &ac); err != nil {
				return err
			}
			if len(ids)-i <= maxActivities && ac.StartTime != nil && now.Sub(*ac.StartTime) < activityRetention {
				break
			}
			if err := tx.Delete(s.Key(kindActivity, old)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DescribeScalingActivities lists the activities of a namespace, of one
// target, newest first.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalingActivities.html
func (b *Backend) DescribeScalingActivities(ctx context.Context, in *aas.DescribeScalingActivitiesInput) (*aas.DescribeScalingActivitiesOutput, error) {
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if in.ScalableDimension != "" && in.ResourceId == nil {
		return nil, errValidation("ResourceId is required when ScalableDimension is given.")
	}
	s := backend.ScopeFrom(ctx)
	type keyed struct {
		id string
		a  types.ScalingActivity
	}
	var all []keyed
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ids, _, err := tx.ListIDs(s.Query(kindActivity, ""))
		if err != nil {
			return err
		}
		for _, id := range ids {
			var a types.ScalingActivity
			if err := tx.Get(s.Key(kindActivity, id), &a); err != nil {
				return err
			}
			all = append(all, keyed{id, a})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(k keyed) bool {
		return k.a.ServiceNamespace != in.ServiceNamespace ||
			in.ResourceId != nil && aws.ToString(k.a.ResourceId) != *in.ResourceId ||
			in.ScalableDimension != "" && k.a.ScalableDimension != in.ScalableDimension
	})
	// Newest first; the page key inverts the time so that pages follow.
	slices.SortFunc(all, func(x, y keyed) int { return y.a.StartTime.Compare(*x.a.StartTime) })
	page, next, err := backend.PageOf(all, func(k keyed) string {
		return fmt.Sprintf("%020d|%s", int64(1<<62)-k.a.StartTime.UnixNano(), aws.ToString(k.a.ActivityId))
	}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, errInvalidToken()
	}
	out := &aas.DescribeScalingActivitiesOutput{ScalingActivities: []types.ScalingActivity{}, NextToken: next}
	for _, k := range page {
		out.ScalingActivities = append(out.ScalingActivities, k.a)
	}
	return out, nil
}
