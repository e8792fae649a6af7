package ssm

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmapi "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// maxTags is how many tags a parameter may have.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html
const maxTags = 50

// validTags checks tags as the API's input validation does: keys of 1 to
// 128 characters, values of at most 256, no reserved aws: prefix.
func validTags(tags []types.Tag) error {
	for _, t := range tags {
		k, v := aws.ToString(t.Key), aws.ToString(t.Value)
		if k == "" || len(k) > 128 {
			return errValidation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 1", k)
		}
		if len(v) > 256 {
			return errValidation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return errValidation("Tag keys beginning with aws: are reserved for AWS use.")
		}
	}
	if len(tags) > maxTags {
		return errTooManyTags()
	}
	return nil
}

// tagged applies fn to the tags of the parameter a tagging request names.
func (b *Backend) tagged(ctx context.Context, kind types.ResourceTypeForTagging, id string, fn func(p *parameter) error) error {
	if kind != types.ResourceTypeForTaggingParameter {
		return errResourceType()
	}
	err := b.change(ctx, id, fn)
	if awsproto.HasCode(err, &types.ParameterNotFound{}) {
		return errResourceID()
	}
	return err
}

// AddTagsToResource adds tags to a parameter, replacing the values of
// keys it has.
func (b *Backend) AddTagsToResource(ctx context.Context, in *ssmapi.AddTagsToResourceInput) (*ssmapi.AddTagsToResourceOutput, error) {
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	err := b.tagged(ctx, in.ResourceType, aws.ToString(in.ResourceId), func(p *parameter) error {
		for _, t := range in.Tags {
			p.Tags = slices.DeleteFunc(p.Tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			p.Tags = append(p.Tags, types.Tag{Key: t.Key, Value: aws.String(aws.ToString(t.Value))})
		}
		return validTags(p.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.AddTagsToResourceOutput{}, nil
}

// RemoveTagsFromResource removes tags of a parameter by key.
func (b *Backend) RemoveTagsFromResource(ctx context.Context, in *ssmapi.RemoveTagsFromResourceInput) (*ssmapi.RemoveTagsFromResourceOutput, error) {
	err := b.tagged(ctx, in.ResourceType, aws.ToString(in.ResourceId), func(p *parameter) error {
		p.Tags = slices.DeleteFunc(p.Tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.RemoveTagsFromResourceOutput{}, nil
}

// ListTagsForResource lists a parameter's tags.
func (b *Backend) ListTagsForResource(ctx context.Context, in *ssmapi.ListTagsForResourceInput) (*ssmapi.ListTagsForResourceOutput, error) {
	if in.ResourceType != types.ResourceTypeForTaggingParameter {
		return nil, errResourceType()
	}
	var p *parameter
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		p, err = load(tx, backend.ScopeFrom(ctx), aws.ToString(in.ResourceId))
		return err
	})
	if awsproto.HasCode(err, &types.ParameterNotFound{}) {
		return nil, errResourceID()
	}
	if err != nil {
		return nil, err
	}
	return &ssmapi.ListTagsForResourceOutput{TagList: backend.OrEmpty(p.Tags)}, nil
}
