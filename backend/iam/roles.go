package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"berth/backend"
	"berth/sqlite"
)

// role loads a role by name (names are unique regardless of case).
func role(tx *sqlite.Tx, s backend.Scope, name string) (types.Role, error) {
	var r types.Role
	err := tx.Get(s.Key(kindRole, strings.ToLower(name)), &r)
	if isNotFound(err) {
		return r, errNoSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, err
}

func putRole(tx *sqlite.Tx, s backend.Scope, r types.Role) error {
	return tx.Put(s.Row(kindRole, strings.ToLower(*r.RoleName), "", *r.RoleName), r)
}

// described is a role as the API returns it: its trust policy URL-encoded.
func described(r types.Role) *types.Role {
	r.AssumeRolePolicyDocument = encodeDocument(aws.ToString(r.AssumeRolePolicyDocument))
	return &r
}

// CreateRole creates a role that principals its trust policy names may
// assume.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
func (b *Backend) CreateRole(ctx context.Context, in *iamapi.CreateRoleInput) (*iamapi.CreateRoleOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.RoleName)
	if err := validName("roleName", name, 64); err != nil {
		return nil, err
	}
	path, err := validPath(in.Path)
	if err != nil {
		return nil, err
	}
	doc, err := validDocument(in.AssumeRolePolicyDocument)
	if err != nil {
		return nil, err
	}
	if err := validSessionDuration(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	r := types.Role{
		Arn: aws.String(arn(s, "role"+path+name)), RoleName: aws.String(name), Path: aws.String(path), RoleId: aws.String(b.uniqueID("AROA")),
		CreateDate: b.now(), AssumeRolePolicyDocument: aws.String(doc), Description: in.Description,
		MaxSessionDuration: aws.Int32(3600), Tags: in.Tags, RoleLastUsed: &types.RoleLastUsed{},
	}
	if in.MaxSessionDuration != nil {
		r.MaxSessionDuration = in.MaxSessionDuration
	}
	if in.PermissionsBoundary != nil {
		r.PermissionsBoundary = &types.AttachedPermissionsBoundary{PermissionsBoundaryArn: in.PermissionsBoundary, PermissionsBoundaryType: types.PermissionsBoundaryAttachmentTypePolicy}
	}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := role(tx, s, name); err == nil {
			return errExists("Role with name %s already exists.", name)
		}
		return putRole(tx, s, r)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateRoleOutput{Role: described(r)}, nil
}

func validSessionDuration(d *int32) error {
	if d != nil && (*d < 3600 || *d > 43200) {
		return errValidation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", *d)
	}
	return nil
}

// GetRole describes a role.
func (b *Backend) GetRole(ctx context.Context, in *iamapi.GetRoleInput) (*iamapi.GetRoleOutput, error) {
	var r types.Role
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		r, err = role(tx, account(ctx), aws.ToString(in.RoleName))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRoleOutput{Role: described(r)}, nil
}

// ListRoles lists the account's roles by name, optionally under a path.
func (b *Backend) ListRoles(ctx context.Context, in *iamapi.ListRolesInput) (*iamapi.ListRolesOutput, error) {
	var all []types.Role
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[types.Role](tx, account(ctx).Query(kindRole, ""))
		return err
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(r types.Role) bool { return !strings.HasPrefix(*r.Path, aws.ToString(in.PathPrefix)) })
	slices.SortFunc(all, func(a, b types.Role) int {
		return strings.Compare(strings.ToLower(*a.RoleName), strings.ToLower(*b.RoleName))
	})
	roles, marker, truncated, err := page(all, func(r types.Role) string { return strings.ToLower(*r.RoleName) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListRolesOutput{Roles: []types.Role{}, Marker: marker, IsTruncated: truncated}
	for _, r := range roles {
		r.Tags = nil // ListRoles leaves tags out
		out.Roles = append(out.Roles, *described(r))
	}
	return out, nil
}

// changeRole applies change to a stored role.
func (b *Backend) changeRole(ctx context.Context, name string, change func(r *types.Role) error) error {
	s := account(ctx)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, name)
		if err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		return putRole(tx, s, r)
	})
}

// UpdateRole changes a role's description or maximum session duration.
func (b *Backend) UpdateRole(ctx context.Context, in *iamapi.UpdateRoleInput) (*iamapi.UpdateRoleOutput, error) {
	if err := validSessionDuration(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	err := b.changeRole(ctx, aws.ToString(in.RoleName), func(r *types.Role) error {
		if in.Description != nil {
			r.Description = in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = in.MaxSessionDuration
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleOutput{}, nil
}

// UpdateRoleDescription changes a role's description.
func (b *Backend) UpdateRoleDescription(ctx context.Context, in *iamapi.UpdateRoleDescriptionInput) (*iamapi.UpdateRoleDescriptionOutput, error) {
	var out types.Role
	err := b.changeRole(ctx, aws.ToString(in.RoleName), func(r *types.Role) error {
		r.Description = in.Description
		out = *r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleDescriptionOutput{Role: described(out)}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (b *Backend) UpdateAssumeRolePolicy(ctx context.Context, in *iamapi.UpdateAssumeRolePolicyInput) (*iamapi.UpdateAssumeRolePolicyOutput, error) {
	doc, err := validDocument(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = b.changeRole(ctx, aws.ToString(in.RoleName), func(r *types.Role) error {
		r.AssumeRolePolicyDocument = aws.String(doc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateAssumeRolePolicyOutput{}, nil
}

// DeleteRole deletes a role that has no policies and is in no instance
// profile.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
func (b *Backend) DeleteRole(ctx context.Context, in *iamapi.DeleteRoleInput) (*iamapi.DeleteRoleOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.RoleName)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, name)
		if err != nil {
			return err
		}
		for kind, msg := range map[string]string{
			kindAttachment: "Cannot delete entity, must detach all policies first.",
			kindRolePolicy: "Cannot delete entity, must delete policies first.",
		} {
			if n, err := tx.Count(s.Query(kind, *r.RoleName)); err != nil || n > 0 {
				if err != nil {
					return err
				}
				return errConflict("%s", msg)
			}
		}
		profiles, err := profilesOf(tx, s, *r.RoleName)
		if err != nil {
			return err
		}
		if len(profiles) > 0 {
			return errConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(s.Key(kindRole, strings.ToLower(name)))
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteRoleOutput{}, nil
}

// TagRole adds or replaces tags of a role. A role's tag keys are case
// insensitive: department=hr replaces Department=finance
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html).
func (b *Backend) TagRole(ctx context.Context, in *iamapi.TagRoleInput) (*iamapi.TagRoleOutput, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := b.changeRole(ctx, aws.ToString(in.RoleName), func(r *types.Role) error {
		for _, t := range in.Tags {
			r.Tags = slices.DeleteFunc(r.Tags, func(o types.Tag) bool { return strings.EqualFold(aws.ToString(o.Key), aws.ToString(t.Key)) })
			r.Tags = append(r.Tags, t)
		}
		if len(r.Tags) > 50 {
			return errLimit("The number of tags has reached the maximum limit.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.TagRoleOutput{}, nil
}

// UntagRole removes tags of a role.
func (b *Backend) UntagRole(ctx context.Context, in *iamapi.UntagRoleInput) (*iamapi.UntagRoleOutput, error) {
	err := b.changeRole(ctx, aws.ToString(in.RoleName), func(r *types.Role) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UntagRoleOutput{}, nil
}

// ListRoleTags lists a role's tags.
func (b *Backend) ListRoleTags(ctx context.Context, in *iamapi.ListRoleTagsInput) (*iamapi.ListRoleTagsOutput, error) {
	out, err := b.GetRole(ctx, &iamapi.GetRoleInput{RoleName: in.RoleName})
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRoleTagsOutput{Tags: backend.OrEmpty(out.Role.Tags)}, nil
}

// inlinePolicy is a policy embedded in a role.
type inlinePolicy struct {
	RoleName, PolicyName, Document string
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (b *Backend) PutRolePolicy(ctx context.Context, in *iamapi.PutRolePolicyInput) (*iamapi.PutRolePolicyOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.PolicyName)
	if err := validName("policyName", name, 128); err != nil {
		return nil, err
	}
	doc, err := validDocument(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		p := inlinePolicy{RoleName: *r.RoleName, PolicyName: name, Document: doc}
		return tx.Put(s.Row(kindRolePolicy, *r.RoleName+"/"+name, *r.RoleName, name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.PutRolePolicyOutput{}, nil
}

// GetRolePolicy returns an inline policy of a role.
func (b *Backend) GetRolePolicy(ctx context.Context, in *iamapi.GetRolePolicyInput) (*iamapi.GetRolePolicyOutput, error) {
	s := account(ctx)
	var p inlinePolicy
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		err = tx.Get(s.Key(kindRolePolicy, *r.RoleName+"/"+aws.ToString(in.PolicyName)), &p)
		if isNotFound(err) {
			return errNoSuchEntity("The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRolePolicyOutput{RoleName: aws.String(p.RoleName), PolicyName: aws.String(p.PolicyName), PolicyDocument: encodeDocument(p.Document)}, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (b *Backend) DeleteRolePolicy(ctx context.Context, in *iamapi.DeleteRolePolicyInput) (*iamapi.DeleteRolePolicyOutput, error) {
	s := account(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		key := s.Key(kindRolePolicy, *r.RoleName+"/"+aws.ToString(in.PolicyName))
		if ok, err := tx.Exists(key); err != nil || !ok {
			if err != nil {
				return err
			}
			return errNoSuchEntity("The role policy with name %s cannot be found.", aws.ToString(in.PolicyName))
		}
		return tx.Delete(key)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteRolePolicyOutput{}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (b *Backend) ListRolePolicies(ctx context.Context, in *iamapi.ListRolePoliciesInput) (*iamapi.ListRolePoliciesOutput, error) {
	s := account(ctx)
	var names []string
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		policies, err := sqlite.ListAll[inlinePolicy](tx, s.Query(kindRolePolicy, *r.RoleName))
		for _, p := range policies {
			names = append(names, p.PolicyName)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	names, marker, truncated, err := page(names, func(n string) string { return n }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRolePoliciesOutput{PolicyNames: backend.OrEmpty(names), Marker: marker, IsTruncated: truncated}, nil
}
