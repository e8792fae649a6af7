package autoscaling

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// Tags belong to groups: each says whether it propagates to the
// instances the group launches.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html

// maxTags is how many tags a group may have.
const maxTags = 50

// groupTags merges tags into a group's, keyed by tag key, as the group
// named stores them.
func groupTags(name string, have []types.TagDescription, tags []types.Tag) ([]types.TagDescription, error) {
	out := slices.Clone(backend.OrEmpty(have))
	for _, t := range tags {
		key := aws.ToString(t.Key)
		if len(key) < 1 || len(key) > 128 {
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", key)
		}
		if strings.HasPrefix(strings.ToLower(key), "aws:") {
			return nil, errValidation("Tag keys starting with 'aws:' are reserved for internal use")
		}
		if len(aws.ToString(t.Value)) > 256 {
			return nil, errValidation("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		d := types.TagDescription{Key: t.Key, Value: aws.String(aws.ToString(t.Value)), PropagateAtLaunch: aws.Bool(aws.ToBool(t.PropagateAtLaunch)),
			ResourceId: aws.String(name), ResourceType: aws.String("auto-scaling-group")}
		if i := slices.IndexFunc(out, func(o types.TagDescription) bool { return *o.Key == key }); i >= 0 {
			out[i] = d
		} else {
			out = append(out, d)
		}
	}
	if len(out) > maxTags {
		return nil, errLimit("The quota for tags per group is %d; this request would make %d.", maxTags, len(out))
	}
	slices.SortFunc(out, func(a, b types.TagDescription) int { return strings.Compare(*a.Key, *b.Key) })
	return out, nil
}

// retag applies change to the tags of each group the tags name.
func (b *Backend) retag(ctx context.Context, tags []types.Tag, change func(g *types.AutoScalingGroup, tags []types.Tag) error) error {
	s := backend.ScopeFrom(ctx)
	byGroup := map[string][]types.Tag{}
	var names []string
	for _, t := range tags {
		if aws.ToString(t.ResourceType) != "auto-scaling-group" {
			return errValidation("1 validation error detected: Value '%s' at 'tags.member.resourceType' failed to satisfy constraint: the only supported resource type is auto-scaling-group", aws.ToString(t.ResourceType))
		}
		name := aws.ToString(t.ResourceId)
		if _, ok := byGroup[name]; !ok {
			names = append(names, name)
		}
		byGroup[name] = append(byGroup[name], t)
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, name := range names {
			g, err := loadGroup(tx, s, name)
			if err != nil {
				return err
			}
			if err := change(&g, byGroup[name]); err != nil {
				return err
			}
			if err := putGroup(tx, s, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateOrUpdateTags adds tags to groups or replaces them.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html
func (b *Backend) CreateOrUpdateTags(ctx context.Context, in *asapi.CreateOrUpdateTagsInput) (*asapi.CreateOrUpdateTagsOutput, error) {
	if err := required(in, "Tags"); err != nil {
		return nil, err
	}
	err := b.retag(ctx, in.Tags, func(g *types.AutoScalingGroup, tags []types.Tag) (err error) {
		g.Tags, err = groupTags(*g.AutoScalingGroupName, g.Tags, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &asapi.CreateOrUpdateTagsOutput{}, nil
}

// DeleteTags removes tags from groups, by key.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteTags.html
func (b *Backend) DeleteTags(ctx context.Context, in *asapi.DeleteTagsInput) (*asapi.DeleteTagsOutput, error) {
	if err := required(in, "Tags"); err != nil {
		return nil, err
	}
	err := b.retag(ctx, in.Tags, func(g *types.AutoScalingGroup, tags []types.Tag) error {
		g.Tags = slices.DeleteFunc(g.Tags, func(d types.TagDescription) bool {
			return slices.ContainsFunc(tags, func(t types.Tag) bool { return aws.ToString(t.Key) == *d.Key })
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteTagsOutput{}, nil
}

// tagFilters are DescribeTags' filters and the tag's values for each.
var tagFilters = map[string]func(types.TagDescription) string{
	"auto-scaling-group": func(t types.TagDescription) string { return aws.ToString(t.ResourceId) },
	"key":                func(t types.TagDescription) string { return aws.ToString(t.Key) },
	"value":              func(t types.TagDescription) string { return aws.ToString(t.Value) },
	"propagate-at-launch": func(t types.TagDescription) string {
		if aws.ToBool(t.PropagateAtLaunch) {
			return "true"
		}
		return "false"
	},
}

// DescribeTags lists the tags of the scope's groups that pass every
// filter (one of each filter's values matching).
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeTags.html
func (b *Backend) DescribeTags(ctx context.Context, in *asapi.DescribeTagsInput) (*asapi.DescribeTagsOutput, error) {
	s := backend.ScopeFrom(ctx)
	max, err := maxRecords(in.MaxRecords, 50, 100)
	if err != nil {
		return nil, err
	}
	for _, f := range in.Filters {
		if _, ok := tagFilters[aws.ToString(f.Name)]; !ok {
			return nil, errValidation("Filter type %s is not correct. Allowed Filter types are: auto-scaling-group key value propagate-at-launch", aws.ToString(f.Name))
		}
	}
	groups, err := b.viewGroups(ctx, s)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(groups, func(a, b types.AutoScalingGroup) int {
		return strings.Compare(*a.AutoScalingGroupName, *b.AutoScalingGroupName)
	})
	var all []types.TagDescription
	for _, g := range groups {
	tags:
		for _, t := range g.Tags {
			for _, f := range in.Filters {
				if !slices.Contains(f.Values, tagFilters[*f.Name](t)) {
					continue tags
				}
			}
			all = append(all, t)
		}
	}
	out, next, err := page(all, func(t types.TagDescription) string { return *t.ResourceId + "\x00" + *t.Key }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeTagsOutput{Tags: backend.OrEmpty(out), NextToken: next}, nil
}
