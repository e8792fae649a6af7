package ecs

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// Custom attributes live on the container instances they describe.

// changeAttributes applies change to the attributes of each target named.
func (b *Backend) changeAttributes(ctx context.Context, cluster *string, attrs []types.Attribute, change func(have []types.Attribute, a types.Attribute) ([]types.Attribute, error)) error {
	s := scopeOf(ctx)
	if len(attrs) == 0 {
		return errInvalidParameter("attributes must be specified.")
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, cluster)
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if a.Name == nil || *a.Name == "" {
				return errInvalidParameter("Attribute name must be specified.")
			}
			if a.TargetType != "" && a.TargetType != types.TargetTypeContainerInstance {
				return errInvalidParameter("Invalid target type: %s", a.TargetType)
			}
			if a.TargetId == nil {
				return errInvalidParameter("A target id is required for the attribute %s.", *a.Name)
			}
			ci, err := b.containerInstance(tx, s, c, *a.TargetId)
			if err != nil {
				return errTargetNotFound("Could not find the target %s.", *a.TargetId)
			}
			if ci.Attributes, err = change(ci.Attributes, a); err != nil {
				return err
			}
			if err := tx.Put(s.Row(kindContainerInstance, *ci.ContainerInstanceArn, *c.ClusterArn, *ci.Ec2InstanceId), ci); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutAttributes adds or replaces custom attributes on container instances;
// each may carry at most 10.
func (b *Backend) PutAttributes(ctx context.Context, in *ecsapi.PutAttributesInput) (*ecsapi.PutAttributesOutput, error) {
	for _, a := range in.Attributes {
		if err := validAttribute(a); err != nil {
			return nil, err
		}
	}
	err := b.changeAttributes(ctx, in.Cluster, in.Attributes, func(have []types.Attribute, a types.Attribute) ([]types.Attribute, error) {
		a.TargetId, a.TargetType = nil, ""
		i := slices.IndexFunc(have, func(h types.Attribute) bool { return aws.ToString(h.Name) == *a.Name })
		if i >= 0 {
			have[i] = a
			return have, nil
		}
		custom := 0
		for _, h := range have {
			if !strings.HasPrefix(aws.ToString(h.Name), "ecs.") && !strings.HasPrefix(aws.ToString(h.Name), "com.amazonaws.ecs.") {
				custom++
			}
		}
		if custom >= 10 {
			return nil, errAttributeLimit()
		}
		return append(have, a), nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutAttributesOutput{Attributes: in.Attributes}, nil
}

// Custom attribute names and values, as API_Attribute gives them: a name
// of 1 to 128 letters, digits, hyphens, underscores, forward and back
// slashes or periods; a value of 1 to 128 of those, at signs, colons or
// spaces, with no leading or trailing space.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attribute.html
var (
	attributeName  = regexp.MustCompile(`^[A-Za-z0-9_./\\-]{1,128}$`)
	attributeValue = regexp.MustCompile(`^[A-Za-z0-9_./\\:@ -]{1,128}$`)
)

// ValidHostAttribute checks a fleet host's attribute (its --engine
// type=, attribute:NAME=VALUE), as PutAttributes checks a client's.
func ValidHostAttribute(name, value string) error {
	if name == "" {
		return errors.New("an attribute needs a name")
	}
	return validAttribute(types.Attribute{Name: &name, Value: &value})
}

// validAttribute checks a custom attribute's name and value (a missing
// name is answered where the attribute is applied). The messages are
// berth's: ECS's are not on record.
func validAttribute(a types.Attribute) error {
	if a.Name != nil && *a.Name != "" && !attributeName.MatchString(*a.Name) {
		return errInvalidParameter("Invalid attribute name %q: a name has 1 to 128 letters, numbers, hyphens, underscores, forward slashes, back slashes or periods.", *a.Name)
	}
	if v := a.Value; v != nil && (!attributeValue.MatchString(*v) || strings.TrimSpace(*v) != *v) {
		return errInvalidParameter("Invalid attribute value %q for %s: a value has 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, forward slashes, back slashes, colons or spaces, and no leading or trailing whitespace.", *v, aws.ToString(a.Name))
	}
	return nil
}

// DeleteAttributes removes custom attributes from container instances.
func (b *Backend) DeleteAttributes(ctx context.Context, in *ecsapi.DeleteAttributesInput) (*ecsapi.DeleteAttributesOutput, error) {
	err := b.changeAttributes(ctx, in.Cluster, in.Attributes, func(have []types.Attribute, a types.Attribute) ([]types.Attribute, error) {
		return slices.DeleteFunc(have, func(h types.Attribute) bool { return aws.ToString(h.Name) == *a.Name }), nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteAttributesOutput{Attributes: in.Attributes}, nil
}

// ListAttributes lists the attributes of a cluster's container instances,
// optionally by name and value.
func (b *Backend) ListAttributes(ctx context.Context, in *ecsapi.ListAttributesInput) (*ecsapi.ListAttributesOutput, error) {
	s := scopeOf(ctx)
	if in.TargetType != types.TargetTypeContainerInstance {
		return nil, errInvalidParameter("targetType must be container-instance.")
	}
	if in.AttributeValue != nil && in.AttributeName == nil {
		return nil, errInvalidParameter("attributeValue can only be specified with attributeName.")
	}
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	var all []types.Attribute
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		instances, err := sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, *c.ClusterArn))
		for _, ci := range instances {
			for _, a := range ci.Attributes {
				if (in.AttributeName == nil || aws.ToString(a.Name) == *in.AttributeName) && (in.AttributeValue == nil || aws.ToString(a.Value) == *in.AttributeValue) {
					a.TargetId, a.TargetType = ci.ContainerInstanceArn, types.TargetTypeContainerInstance
					all = append(all, a)
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(all))
	for i, a := range all {
		keys[i] = aws.ToString(a.TargetId) + " " + aws.ToString(a.Name)
	}
	page, next, err := pageStrings(keys, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListAttributesOutput{Attributes: []types.Attribute{}, NextToken: next}
	for _, k := range page {
		out.Attributes = append(out.Attributes, all[slices.Index(keys, k)])
	}
	return out, nil
}
