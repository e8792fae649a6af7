package secretsmanager

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// maxTags is how many tags a secret may have.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html
const maxTags = 50

// validTags checks tag keys (1 to 128 characters, not aws:) and values (at
// most 256).
func validTags(tags []types.Tag) error {
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if len(k) < 1 || len(k) > 128 || len(aws.ToString(t.Value)) > 256 {
			return errInvalidParameter("A tag key must be 1 to 128 characters long and a tag value at most 256.")
		}
		if len(k) >= 4 && k[:4] == "aws:" {
			return errInvalidParameter("Tag keys beginning with 'aws:' are reserved for AWS use.")
		}
	}
	if len(tags) > maxTags {
		return errInvalidParameter("A secret can have at most %d tags.", maxTags)
	}
	return nil
}

// TagResource adds tags to a secret, replacing the values of keys it has.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html
func (b *Backend) TagResource(ctx context.Context, in *sm.TagResourceInput) (*sm.TagResourceOutput, error) {
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	_, err := b.change(ctx, aws.ToString(in.SecretId), func(sec *secret, now time.Time) error {
		for _, t := range in.Tags {
			i := slices.IndexFunc(sec.Tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			if i >= 0 {
				sec.Tags[i].Value = t.Value
			} else {
				sec.Tags = append(sec.Tags, t)
			}
		}
		if len(sec.Tags) > maxTags {
			return errInvalidParameter("A secret can have at most %d tags.", maxTags)
		}
		sec.LastChanged = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sm.TagResourceOutput{}, nil
}

// UntagResource removes tags from a secret by key.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UntagResource.html
func (b *Backend) UntagResource(ctx context.Context, in *sm.UntagResourceInput) (*sm.UntagResourceOutput, error) {
	_, err := b.change(ctx, aws.ToString(in.SecretId), func(sec *secret, now time.Time) error {
		sec.Tags = slices.DeleteFunc(sec.Tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
		sec.LastChanged = now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sm.UntagResourceOutput{}, nil
}
