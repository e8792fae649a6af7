package route53

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/sqlite"
)

// maxTags is the number of tags a zone or health check may have.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeTagsForResource.html
const maxTags = 50

// merge adds and removes tags, keeping their order.
func merge(tags, add []types.Tag, remove []string) ([]types.Tag, error) {
	for _, t := range add {
		if aws.ToString(t.Key) == "" {
			return nil, errInvalidInput("A tag key must have 1 to 128 characters.")
		}
		i := slices.IndexFunc(tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
		if i >= 0 {
			tags[i] = t
		} else {
			tags = append(tags, t)
		}
	}
	tags = slices.DeleteFunc(tags, func(t types.Tag) bool { return slices.Contains(remove, aws.ToString(t.Key)) })
	if len(tags) > maxTags {
		return nil, errInvalidInput("A resource can have at most %d tags.", maxTags)
	}
	return tags, nil
}

// ChangeTagsForResource adds, changes and removes the tags of a zone or a
// health check.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeTagsForResource.html
func (b *Backend) ChangeTagsForResource(ctx context.Context, in *r53.ChangeTagsForResourceInput) (*r53.ChangeTagsForResourceOutput, error) {
	id := bareID(aws.ToString(in.ResourceId))
	switch in.ResourceType {
	case types.TagResourceTypeHostedzone:
		err := b.changeZone(ctx, id, func(z *zone) (err error) {
			z.Tags, err = merge(z.Tags, in.AddTags, in.RemoveTagKeys)
			return err
		})
		if err != nil {
			return nil, err
		}
	case types.TagResourceTypeHealthcheck:
		s := scopeOf(ctx)
		err := b.update(ctx, func(tx *sqlite.Tx) error {
			h, err := loadHealthCheck(tx, s, id)
			if err != nil {
				return err
			}
			if h.Tags, err = merge(h.Tags, in.AddTags, in.RemoveTagKeys); err != nil {
				return err
			}
			return tx.Put(s.Row(kindHealthCheck, h.ID, "", h.CallerReference), h)
		})
		if err != nil {
			return nil, err
		}
	default:
		return nil, errInvalidInput("The resource type %s is not valid: hostedzone or healthcheck.", in.ResourceType)
	}
	return &r53.ChangeTagsForResourceOutput{}, nil
}

// ListTagsForResource lists the tags of a zone or a health check.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListTagsForResource.html
func (b *Backend) ListTagsForResource(ctx context.Context, in *r53.ListTagsForResourceInput) (*r53.ListTagsForResourceOutput, error) {
	id := bareID(aws.ToString(in.ResourceId))
	s := scopeOf(ctx)
	var tags []types.Tag
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		switch in.ResourceType {
		case types.TagResourceTypeHostedzone:
			z, err := loadZone(tx, s, id)
			if err != nil {
				return err
			}
			tags = z.Tags
		case types.TagResourceTypeHealthcheck:
			h, err := loadHealthCheck(tx, s, id)
			if err != nil {
				return err
			}
			tags = h.Tags
		default:
			return errInvalidInput("The resource type %s is not valid: hostedzone or healthcheck.", in.ResourceType)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []types.Tag{}
	}
	return &r53.ListTagsForResourceOutput{ResourceTagSet: &types.ResourceTagSet{ResourceId: aws.String(id), ResourceType: in.ResourceType, Tags: tags}}, nil
}
