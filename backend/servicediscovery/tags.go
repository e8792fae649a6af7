package servicediscovery

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/backend"
	"berth/sqlite"
)

// maxTags is how many tags a namespace or service may have, a quota of
// Cloud Map's (the model lets a request carry up to 200).
// https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html
const maxTags = 50

// validTags checks a request's tags: at most maxTags, keys of 1 to 128
// characters and values of at most 256 (the model checks those too).
func validTags(resource string, tags []types.Tag) error {
	if len(tags) > maxTags {
		return errTooManyTags(resource)
	}
	for _, t := range tags {
		if k := aws.ToString(t.Key); k == "" || len(k) > 128 || len(aws.ToString(t.Value)) > 256 {
			return errInvalid("A tag key must be 1 to 128 characters long and a tag value at most 256.")
		}
	}
	return nil
}

// tagged runs fn on the tags of the namespace or service arn names,
// storing what it leaves when write is set.
func (b *Backend) tagged(ctx context.Context, resource string, write bool, fn func([]types.Tag) ([]types.Tag, error)) error {
	run := b.view
	if write {
		run = b.update
	}
	return run(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		prefix := arn(s, "")
		rest, ok := strings.CutPrefix(resource, prefix)
		kind, id, _ := strings.Cut(rest, "/")
		if !ok || (kind != "namespace" && kind != "service") {
			return errResourceNotFound(resource)
		}
		if kind == "namespace" {
			n, err := getNamespace(tx, s, id)
			if err != nil {
				return errResourceNotFound(resource)
			}
			if n.Tags, err = fn(n.Tags); err != nil || !write {
				return err
			}
			return tx.Put(s.Row(kindNamespace, n.ID, "", n.Name), n)
		}
		v, err := getService(tx, s, id)
		if err != nil {
			return errResourceNotFound(resource)
		}
		if v.Tags, err = fn(v.Tags); err != nil || !write {
			return err
		}
		return putService(tx, s, v)
	})
}

// TagResource adds tags to a namespace or service, replacing the values
// of keys it has.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_TagResource.html
func (b *Backend) TagResource(ctx context.Context, in *sd.TagResourceInput) (*sd.TagResourceOutput, error) {
	if err := validTags(aws.ToString(in.ResourceARN), in.Tags); err != nil {
		return nil, err
	}
	err := b.tagged(ctx, aws.ToString(in.ResourceARN), true, func(tags []types.Tag) ([]types.Tag, error) {
		for _, t := range in.Tags {
			i := slices.IndexFunc(tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			if i >= 0 {
				tags[i].Value = t.Value
			} else {
				tags = append(tags, t)
			}
		}
		if len(tags) > maxTags {
			return nil, errTooManyTags(aws.ToString(in.ResourceARN))
		}
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.TagResourceOutput{}, nil
}

// UntagResource removes tags from a namespace or service by key.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UntagResource.html
func (b *Backend) UntagResource(ctx context.Context, in *sd.UntagResourceInput) (*sd.UntagResourceOutput, error) {
	err := b.tagged(ctx, aws.ToString(in.ResourceARN), true, func(tags []types.Tag) ([]types.Tag, error) {
		return slices.DeleteFunc(tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a namespace's or service's tags.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ListTagsForResource.html
func (b *Backend) ListTagsForResource(ctx context.Context, in *sd.ListTagsForResourceInput) (*sd.ListTagsForResourceOutput, error) {
	var out []types.Tag
	err := b.tagged(ctx, aws.ToString(in.ResourceARN), false, func(tags []types.Tag) ([]types.Tag, error) {
		out = tags
		return tags, nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.ListTagsForResourceOutput{Tags: backend.OrEmpty(out)}, nil
}
