package appautoscaling

import (
	"context"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"

	"berth/backend"
	"berth/sqlite"
)

// maxTags is how many tags a scalable target may have.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TagResource.html
const maxTags = 50

// validTags checks tag keys (1 to 128 characters, not aws:) and values
// (at most 256), and their number.
func validTags(tags map[string]string) error {
	for k, v := range tags {
		if len(k) < 1 || len(k) > 128 || len(v) > 256 {
			return errValidation("A tag key must be 1 to 128 characters long and a tag value at most 256.")
		}
		if strings.HasPrefix(k, "aws:") {
			return errValidation("Tag keys beginning with 'aws:' are reserved for AWS use.")
		}
	}
	if len(tags) > maxTags {
		return errTooManyTags("A scalable target can have at most %d tags.", maxTags)
	}
	return nil
}

// changeTags applies fn to the tags of the target with the ARN.
func (b *Backend) changeTags(ctx context.Context, arn string, fn func(map[string]string) error) (map[string]string, error) {
	s := backend.ScopeFrom(ctx)
	var tags map[string]string
	write := fn != nil
	run := b.store.View
	if write {
		run = b.store.Update
	}
	err := run(ctx, func(tx *sqlite.Tx) error {
		q := s.Query(kindTarget, "")
		q.Name = arn
		found, err := sqlite.ListAll[target](tx, q)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return errResourceNotFound("No scalable target found for ARN %s.", arn)
		}
		t := found[0]
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		if !write {
			tags = t.Tags
			return nil
		}
		if err := fn(t.Tags); err != nil {
			return err
		}
		tags = t.Tags
		return tx.Put(s.Row(kindTarget, targetKey(string(t.ServiceNamespace), aws.ToString(t.ResourceId), string(t.ScalableDimension)), "", arn), t)
	})
	return tags, err
}

// TagResource adds tags to a scalable target, replacing the values of
// keys it has.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TagResource.html
func (b *Backend) TagResource(ctx context.Context, in *aas.TagResourceInput) (*aas.TagResourceOutput, error) {
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	_, err := b.changeTags(ctx, aws.ToString(in.ResourceARN), func(tags map[string]string) error {
		maps.Copy(tags, in.Tags)
		if len(tags) > maxTags {
			return errTooManyTags("A scalable target can have at most %d tags.", maxTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &aas.TagResourceOutput{}, nil
}

// UntagResource removes tags from a scalable target by key.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_UntagResource.html
func (b *Backend) UntagResource(ctx context.Context, in *aas.UntagResourceInput) (*aas.UntagResourceOutput, error) {
	_, err := b.changeTags(ctx, aws.ToString(in.ResourceARN), func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &aas.UntagResourceOutput{}, nil
}

// ListTagsForResource returns the tags of a scalable target.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html
func (b *Backend) ListTagsForResource(ctx context.Context, in *aas.ListTagsForResourceInput) (*aas.ListTagsForResourceOutput, error) {
	tags, err := b.changeTags(ctx, aws.ToString(in.ResourceARN), nil)
	if err != nil {
		return nil, err
	}
	return &aas.ListTagsForResourceOutput{Tags: tags}, nil
}
