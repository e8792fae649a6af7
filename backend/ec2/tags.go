package ec2

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/backend"
	"berth/sqlite"
)

// tagged is a kind of resource that has tags.
type tagged struct {
	kind, resourceType string
	open               func(body []byte) (taggedResource, error)
}

// taggedResource is one stored resource with tags: its id, its tags (to
// read or change) and how it is stored back.
type taggedResource struct {
	id    string
	tags  *[]types.Tag
	row   func(backend.Scope) sqlite.Row
	value any
}

// taggable lists the resources tags can be put on.
func taggable() []tagged {
	return []tagged{
		tagger(kindVpc, "vpc", func(v *vpc) (*[]types.Tag, string, string, string) { return &v.Vpc.Tags, *v.Vpc.VpcId, "", "" }),
		tagger(kindSubnet, "subnet", func(sn *types.Subnet) (*[]types.Tag, string, string, string) {
			return &sn.Tags, *sn.SubnetId, *sn.VpcId, ""
		}),
		tagger(kindSecurityGroup, "security-group", func(g *types.SecurityGroup) (*[]types.Tag, string, string, string) {
			return &g.Tags, *g.GroupId, *g.VpcId, *g.GroupName
		}),
		tagger(kindRule, "security-group-rule", func(r *types.SecurityGroupRule) (*[]types.Tag, string, string, string) {
			return &r.Tags, *r.SecurityGroupRuleId, *r.GroupId, ""
		}),
		tagger(kindInternetGateway, "internet-gateway", func(g *types.InternetGateway) (*[]types.Tag, string, string, string) {
			return &g.Tags, *g.InternetGatewayId, "", ""
		}),
		tagger(kindRouteTable, "route-table", func(rt *types.RouteTable) (*[]types.Tag, string, string, string) {
			return &rt.Tags, *rt.RouteTableId, *rt.VpcId, ""
		}),
		tagger(kindNetworkACL, "network-acl", func(a *types.NetworkAcl) (*[]types.Tag, string, string, string) {
			return &a.Tags, *a.NetworkAclId, *a.VpcId, ""
		}),
		tagger(kindAddress, "elastic-ip", func(a *types.Address) (*[]types.Tag, string, string, string) {
			return &a.Tags, *a.AllocationId, "", ""
		}),
		tagger(kindNatGateway, "natgateway", func(n *types.NatGateway) (*[]types.Tag, string, string, string) {
			return &n.Tags, *n.NatGatewayId, *n.VpcId, ""
		}),
		tagger(kindInstance, "instance", func(i *instance) (*[]types.Tag, string, string, string) {
			return &i.Instance.Tags, *i.Instance.InstanceId, *i.Instance.VpcId, ""
		}),
		tagger(kindVolume, "volume", func(v *types.Volume) (*[]types.Tag, string, string, string) {
			parent := ""
			if len(v.Attachments) > 0 {
				parent = *v.Attachments[0].InstanceId
			}
			return &v.Tags, *v.VolumeId, parent, ""
		}),
		tagger(kindLaunchTemplate, "launch-template", func(t *types.LaunchTemplate) (*[]types.Tag, string, string, string) {
			return &t.Tags, *t.LaunchTemplateId, "", *t.LaunchTemplateName
		}),
	}
}

// tagger makes the tagged of a stored type T from where its tags, id,
// parent and name are.
func tagger[T any](kind, resourceType string, at func(*T) (tags *[]types.Tag, id, parent, name string)) tagged {
	return tagged{kind: kind, resourceType: resourceType, open: func(body []byte) (taggedResource, error) {
		v := new(T)
		if err := json.Unmarshal(body, v); err != nil {
			return taggedResource{}, err
		}
		tags, id, parent, name := at(v)
		return taggedResource{id: id, tags: tags, value: v, row: func(s backend.Scope) sqlite.Row { return s.Row(kind, id, parent, name) }}, nil
	}}
}

// retag changes the tags of the resources ids name.
func (b *Backend) retag(ctx context.Context, ids []string, change func(*[]types.Tag)) error {
	kinds := taggable()
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		for _, id := range ids {
			i := slices.IndexFunc(kinds, func(t tagged) bool { return t.kind == kindOf(id) })
			if i < 0 {
				return notFound(id)
			}
			var body json.RawMessage
			if err := get(tx, s, kindOf(id), id, &body); err != nil {
				return err
			}
			r, err := kinds[i].open(body)
			if err != nil {
				return err
			}
			change(r.tags)
			if err := tx.Put(r.row(s), r.value); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateTags adds or overwrites tags on resources.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html
func (b *Backend) CreateTags(ctx context.Context, in *ec2api.CreateTagsInput) (*ec2api.CreateTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errMissing("ResourceId")
	}
	err := b.retag(ctx, in.Resources, func(tags *[]types.Tag) {
		for _, t := range in.Tags {
			*tags = slices.DeleteFunc(*tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			*tags = append(*tags, types.Tag{Key: t.Key, Value: aws.String(aws.ToString(t.Value))})
		}
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateTagsOutput{}, nil
}

// DeleteTags removes tags from resources: by key, or by key and value when
// a value is given; no tags removes them all.
func (b *Backend) DeleteTags(ctx context.Context, in *ec2api.DeleteTagsInput) (*ec2api.DeleteTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errMissing("ResourceId")
	}
	err := b.retag(ctx, in.Resources, func(tags *[]types.Tag) {
		*tags = slices.DeleteFunc(*tags, func(o types.Tag) bool {
			return len(in.Tags) == 0 || slices.ContainsFunc(in.Tags, func(t types.Tag) bool {
				return aws.ToString(t.Key) == aws.ToString(o.Key) && (t.Value == nil || *t.Value == aws.ToString(o.Value))
			})
		})
		*tags = backend.OrEmpty(*tags)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteTagsOutput{}, nil
}

var tagFilter = filter[types.TagDescription]{
	id:   func(t types.TagDescription) string { return *t.ResourceId + "\x00" + *t.Key },
	tags: func(types.TagDescription) []types.Tag { return nil },
	fields: map[string]func(types.TagDescription) []string{
		"resource-id":   func(t types.TagDescription) []string { return str(t.ResourceId) },
		"resource-type": func(t types.TagDescription) []string { return []string{string(t.ResourceType)} },
		"key":           func(t types.TagDescription) []string { return str(t.Key) },
		"value":         func(t types.TagDescription) []string { return str(t.Value) },
	},
}

// DescribeTags lists the tags of every resource, by filters.
func (b *Backend) DescribeTags(ctx context.Context, in *ec2api.DescribeTagsInput) (*ec2api.DescribeTagsOutput, error) {
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.TagDescription, error) {
		var all []types.TagDescription
		for _, t := range taggable() {
			q := s.Query(t.kind, "")
			q.Limit = 1 << 30
			_, err := tx.List(q, func(body []byte) (bool, error) {
				r, err := t.open(body)
				if err != nil {
					return false, err
				}
				for _, tag := range *r.tags {
					all = append(all, types.TagDescription{Key: tag.Key, Value: tag.Value, ResourceId: aws.String(r.id), ResourceType: types.ResourceType(t.resourceType)})
				}
				return true, nil
			})
			if err != nil {
				return nil, err
			}
		}
		return all, nil
	}
	out, next, err := describe(ctx, b, load, tagFilter, nil, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeTagsOutput{Tags: backend.OrEmpty(out), NextToken: next}, err
}
