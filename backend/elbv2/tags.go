package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/sqlite"
)

func validTags(ts []types.Tag) error {
	seen := map[string]bool{}
	for _, t := range ts {
		k := aws.ToString(t.Key)
		if k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256 {
			return errValidation("Tag keys must have 1 to 128 characters and tag values at most 256.")
		}
		if strings.HasPrefix(k, "aws:") {
			return errValidation("Tag keys starting with 'aws:' are reserved.")
		}
		if seen[k] {
			return awsproto.Modeled(&types.DuplicateTagKeysException{}, "Tag key '%s' is specified more than once", k)
		}
		seen[k] = true
	}
	return nil
}

func tags(tx *sqlite.Tx, s scope, arn string) ([]types.Tag, error) {
	var t []types.Tag
	err := tx.Get(s.Key(kindTags, arn), &t)
	if isNotFound(err) {
		return []types.Tag{}, nil
	}
	return t, err
}

// setTags merges add into the tags stored for arn (at most 50).
func setTags(tx *sqlite.Tx, s scope, arn string, add []types.Tag) error {
	if err := validTags(add); err != nil {
		return err
	}
	have, err := tags(tx, s, arn)
	if err != nil {
		return err
	}
	for _, t := range add {
		i := slices.IndexFunc(have, func(h types.Tag) bool { return *h.Key == *t.Key })
		if t.Value == nil {
			t.Value = aws.String("")
		}
		if i >= 0 {
			have[i] = t
		} else {
			have = append(have, t)
		}
	}
	if len(have) > 50 {
		return awsproto.Modeled(&types.TooManyTagsException{}, "The quota for the number of tags that can be assigned to a load balancer has been reached")
	}
	return tx.Put(s.Row(kindTags, arn, "", ""), have)
}

// requireResource checks that arn names a stored, taggable resource, with
// the not-found error of its type.
func requireResource(tx *sqlite.Tx, s scope, arn string) error {
	resource := ""
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		resource = parts[5]
	}
	typ, _, _ := strings.Cut(resource, "/")
	var kind string
	var missing func() error
	var form arnKind
	switch typ {
	case "loadbalancer":
		kind, missing, form = kindLoadBalancer, func() error { return errLoadBalancerNotFound() }, loadBalancerArn
	case "targetgroup":
		kind, missing, form = kindTargetGroup, func() error { return errTargetGroupNotFound(arn) }, targetGroupArn
	case "listener":
		kind, missing, form = kindListener, errListenerNotFound, listenerArn
	case "listener-rule":
		kind, missing, form = kindRule, errRuleNotFound, ruleArn
	case "truststore":
		kind, missing, form = kindTrustStore, errTrustStoreNotFound, trustStoreArn
	default:
		return errValidation("'%s' is not a valid ELBv2 resource ARN", arn)
	}
	if err := form.check(arn); err != nil {
		return err
	}
	ok, err := tx.Exists(s.Key(kind, arn))
	if err != nil {
		return err
	}
	if !ok {
		return missing()
	}
	return nil
}

// AddTags adds or replaces tags on up to 20 resources.
func (b *Backend) AddTags(ctx context.Context, in *elbv2api.AddTagsInput) (*elbv2api.AddTagsOutput, error) {
	s := scopeOf(ctx)
	if len(in.ResourceArns) == 0 || len(in.ResourceArns) > 20 || len(in.Tags) == 0 {
		return nil, errValidation("ResourceArns (1 to 20) and Tags must be specified.")
	}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		for _, arn := range in.ResourceArns {
			if err := requireResource(tx, s, arn); err != nil {
				return err
			}
			if err := setTags(tx, s, arn, in.Tags); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.AddTagsOutput{}, nil
}

// RemoveTags removes tags by key from up to 20 resources.
func (b *Backend) RemoveTags(ctx context.Context, in *elbv2api.RemoveTagsInput) (*elbv2api.RemoveTagsOutput, error) {
	s := scopeOf(ctx)
	if len(in.ResourceArns) == 0 || len(in.ResourceArns) > 20 || len(in.TagKeys) == 0 {
		return nil, errValidation("ResourceArns (1 to 20) and TagKeys must be specified.")
	}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		for _, arn := range in.ResourceArns {
			if err := requireResource(tx, s, arn); err != nil {
				return err
			}
			have, err := tags(tx, s, arn)
			if err != nil {
				return err
			}
			have = slices.DeleteFunc(have, func(t types.Tag) bool { return slices.Contains(in.TagKeys, *t.Key) })
			if err := tx.Put(s.Row(kindTags, arn, "", ""), have); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveTagsOutput{}, nil
}

// DescribeTags returns the tags of up to 20 resources.
func (b *Backend) DescribeTags(ctx context.Context, in *elbv2api.DescribeTagsInput) (*elbv2api.DescribeTagsOutput, error) {
	s := scopeOf(ctx)
	if len(in.ResourceArns) == 0 || len(in.ResourceArns) > 20 {
		return nil, errValidation("ResourceArns must have 1 to 20 items.")
	}
	out := &elbv2api.DescribeTagsOutput{TagDescriptions: []types.TagDescription{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		for _, arn := range in.ResourceArns {
			if err := requireResource(tx, s, arn); err != nil {
				return err
			}
			t, err := tags(tx, s, arn)
			if err != nil {
				return err
			}
			out.TagDescriptions = append(out.TagDescriptions, types.TagDescription{ResourceArn: aws.String(arn), Tags: t})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
