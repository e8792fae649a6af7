package ecs

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// taggable maps an ECS ARN's resource type to the kind it is stored as.
var taggable = map[string]string{
	"cluster":            kindCluster,
	"service":            kindService,
	"task":               kindTask,
	"task-definition":    kindTaskDefinition,
	"container-instance": kindContainerInstance,
	"capacity-provider":  kindCapacityProvider,
	"task-set":           kindTaskSet,
}

// requireResource checks that the ARN names a stored, taggable resource.
func requireResource(tx *sqlite.Tx, s scope, arn string) error {
	missing := func() error { return errResourceNotFound("The specified resource could not be found.") }
	if !strings.HasPrefix(arn, "arn:aws:ecs:"+s.Region+":"+s.Account+":") {
		return errInvalidParameter("Invalid identifier: the ARN is not an ECS ARN of this account and region.")
	}
	resource := strings.SplitN(arn, ":", 6)[5]
	typ, rest, _ := strings.Cut(resource, "/")
	kind, ok := taggable[typ]
	if !ok {
		return errInvalidParameter("The specified resource type is not taggable.")
	}
	id := arn
	if kind == kindCapacityProvider {
		id = rest
	}
	exists, err := tx.Exists(s.Key(kind, id))
	if err != nil {
		return err
	}
	if !exists {
		if kind == kindCluster {
			return errClusterNotFound()
		}
		return missing()
	}
	return nil
}

// TagResource adds or replaces tags on any taggable ECS resource.
func (b *Backend) TagResource(ctx context.Context, in *ecsapi.TagResourceInput) (*ecsapi.TagResourceOutput, error) {
	s := scopeOf(ctx)
	if in.ResourceArn == nil || len(in.Tags) == 0 {
		return nil, errInvalidParameter("resourceArn and tags must be specified.")
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := requireResource(tx, s, *in.ResourceArn); err != nil {
			return err
		}
		return setTags(tx, s, *in.ResourceArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.TagResourceOutput{}, nil
}

// UntagResource removes tags by key; unknown keys are ignored.
func (b *Backend) UntagResource(ctx context.Context, in *ecsapi.UntagResourceInput) (*ecsapi.UntagResourceOutput, error) {
	s := scopeOf(ctx)
	if in.ResourceArn == nil || len(in.TagKeys) == 0 {
		return nil, errInvalidParameter("resourceArn and tagKeys must be specified.")
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := requireResource(tx, s, *in.ResourceArn); err != nil {
			return err
		}
		have, err := tags(tx, s, *in.ResourceArn)
		if err != nil {
			return err
		}
		have = slices.DeleteFunc(have, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
		return tx.Put(s.Row(kindTags, *in.ResourceArn, "", ""), have)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a resource's tags.
func (b *Backend) ListTagsForResource(ctx context.Context, in *ecsapi.ListTagsForResourceInput) (*ecsapi.ListTagsForResourceOutput, error) {
	s := scopeOf(ctx)
	if in.ResourceArn == nil {
		return nil, errInvalidParameter("resourceArn must be specified.")
	}
	out := &ecsapi.ListTagsForResourceOutput{}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if err := requireResource(tx, s, *in.ResourceArn); err != nil {
			return err
		}
		var err error
		out.Tags, err = tags(tx, s, *in.ResourceArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
