package cloudwatch

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// Tags of alarms
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html):
// the only CloudWatch resources berth has.

// alarmOfArn returns the name of the alarm arn names in scope s.
func alarmOfArn(s backend.Scope, arn string) (string, error) {
	if arn == "" {
		return "", errMissing("ResourceARN")
	}
	prefix := "arn:aws:cloudwatch:" + s.Region + ":" + s.Account + ":alarm:"
	if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
		return "", errInvalid("The value %s for parameter ResourceARN is invalid.", arn)
	}
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || name == "" {
		return "", errResourceNotFound("The resource %s does not exist.", arn)
	}
	return name, nil
}

// retag applies fn to the tags of the alarm arn names.
func (b *Backend) retag(ctx context.Context, arn string, fn func([]types.Tag) ([]types.Tag, error)) ([]types.Tag, error) {
	s := backend.ScopeFrom(ctx)
	name, err := alarmOfArn(s, arn)
	if err != nil {
		return nil, err
	}
	var tags []types.Tag
	run := b.store.Update
	if fn == nil {
		run = b.store.View
	}
	err = run(ctx, func(tx *sqlite.Tx) error {
		var a alarm
		if err := tx.Get(s.Key(kindAlarm, name), &a); errors.Is(err, sqlite.ErrNotFound) {
			return errResourceNotFound("The resource %s does not exist.", arn)
		} else if err != nil {
			return err
		}
		if fn == nil {
			tags = a.Tags
			return nil
		}
		if a.Tags, err = fn(a.Tags); err != nil {
			return err
		}
		tags = a.Tags
		return tx.Put(s.Row(kindAlarm, name, "", name), a)
	})
	return tags, err
}

// TagResource adds tags to an alarm, replacing the values of keys it has.
func (b *Backend) TagResource(ctx context.Context, in *cw.TagResourceInput) (*cw.TagResourceOutput, error) {
	if in.Tags == nil {
		return nil, errMissing("Tags")
	}
	if err := checkAlarmTags(in.Tags); err != nil {
		return nil, err
	}
	_, err := b.retag(ctx, aws.ToString(in.ResourceARN), func(tags []types.Tag) ([]types.Tag, error) {
		for _, t := range in.Tags {
			tags = slices.DeleteFunc(tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			tags = append(tags, t)
		}
		return tags, checkAlarmTags(tags)
	})
	if err != nil {
		return nil, err
	}
	return &cw.TagResourceOutput{}, nil
}

// UntagResource removes tags of an alarm by key.
func (b *Backend) UntagResource(ctx context.Context, in *cw.UntagResourceInput) (*cw.UntagResourceOutput, error) {
	if in.TagKeys == nil {
		return nil, errMissing("TagKeys")
	}
	_, err := b.retag(ctx, aws.ToString(in.ResourceARN), func(tags []types.Tag) ([]types.Tag, error) {
		return slices.DeleteFunc(tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &cw.UntagResourceOutput{}, nil
}

// ListTagsForResource lists an alarm's tags.
func (b *Backend) ListTagsForResource(ctx context.Context, in *cw.ListTagsForResourceInput) (*cw.ListTagsForResourceOutput, error) {
	tags, err := b.retag(ctx, aws.ToString(in.ResourceARN), nil)
	if err != nil {
		return nil, err
	}
	return &cw.ListTagsForResourceOutput{Tags: backend.OrEmpty(tags)}, nil
}
