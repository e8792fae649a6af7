package route53

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/backend"
	"berth/sqlite"
)

// kindChange is a submitted change, by change id.
const kindChange = "route53/change"

// change is a stored change: PENDING until it is INSYNC.
type change struct {
	ID        string
	Submitted time.Time
	Comment   string `json:",omitempty"`
}

// api is the SDK's view of c at now: INSYNC once insync has passed.
func (c *change) api(now time.Time, insync time.Duration) *types.ChangeInfo {
	status := types.ChangeStatusPending
	if insync == 0 && now.After(c.Submitted) || insync > 0 && !now.Before(c.Submitted.Add(insync)) {
		status = types.ChangeStatusInsync
	}
	info := &types.ChangeInfo{Id: aws.String("/change/" + c.ID), Status: status, SubmittedAt: aws.Time(c.Submitted)}
	if c.Comment != "" {
		info.Comment = aws.String(c.Comment)
	}
	return info
}

// submit records a new change submitted at now.
func (b *Backend) submit(tx *sqlite.Tx, s backend.Scope, now time.Time, comment string) (*change, error) {
	c := &change{ID: b.newID("C"), Submitted: now, Comment: comment}
	return c, tx.Put(s.Row(kindChange, c.ID, "", ""), c)
}

// GetChange reports whether a change is INSYNC: the response to the
// request that submitted it says PENDING; afterwards it is INSYNC once
// the backend's insync delay has passed (at once when it is 0).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html
func (b *Backend) GetChange(ctx context.Context, in *r53.GetChangeInput) (*r53.GetChangeOutput, error) {
	id := bareID(aws.ToString(in.Id))
	var c change
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		return tx.Get(scopeOf(ctx).Key(kindChange, id), &c)
	})
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, errNoSuchChange(id)
	}
	if err != nil {
		return nil, err
	}
	info := c.api(b.env.Clock(), b.insync)
	if b.insync == 0 {
		info.Status = types.ChangeStatusInsync
	}
	return &r53.GetChangeOutput{ChangeInfo: info}, nil
}
