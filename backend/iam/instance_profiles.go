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

// storedProfile is an instance profile with the names of its roles (at
// most one, as in AWS); the roles are read when it is described.
type storedProfile struct {
	Profile types.InstanceProfile
	Roles   []string
}

func profile(tx *sqlite.Tx, s backend.Scope, name string) (storedProfile, error) {
	var p storedProfile
	err := tx.Get(s.Key(kindInstanceProfile, strings.ToLower(name)), &p)
	if isNotFound(err) {
		return p, errNoSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return p, err
}

func putProfile(tx *sqlite.Tx, s backend.Scope, p storedProfile) error {
	return tx.Put(s.Row(kindInstanceProfile, strings.ToLower(*p.Profile.InstanceProfileName), "", *p.Profile.InstanceProfileName), p)
}

// describe returns the profile with its roles as they are now.
func (p storedProfile) describe(tx *sqlite.Tx, s backend.Scope) types.InstanceProfile {
	out := p.Profile
	out.Roles = []types.Role{}
	for _, name := range p.Roles {
		r, err := role(tx, s, name)
		if err != nil {
			continue // deleted meanwhile
		}
		out.Roles = append(out.Roles, *described(r))
	}
	return out
}

// profilesOf returns the instance profiles that hold the role.
func profilesOf(tx *sqlite.Tx, s backend.Scope, roleName string) ([]storedProfile, error) {
	all, err := sqlite.ListAll[storedProfile](tx, s.Query(kindInstanceProfile, ""))
	return slices.DeleteFunc(all, func(p storedProfile) bool {
		return !slices.ContainsFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, roleName) })
	}), err
}

// CreateInstanceProfile creates an empty instance profile.
func (b *Backend) CreateInstanceProfile(ctx context.Context, in *iamapi.CreateInstanceProfileInput) (*iamapi.CreateInstanceProfileOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.InstanceProfileName)
	if err := validName("instanceProfileName", name, 128); err != nil {
		return nil, err
	}
	path, err := validPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	p := storedProfile{Profile: types.InstanceProfile{
		Arn: aws.String(arn(s, "instance-profile"+path+name)), InstanceProfileName: aws.String(name), Path: aws.String(path),
		InstanceProfileId: aws.String(b.uniqueID("AIPA")), CreateDate: b.now(), Roles: []types.Role{}, Tags: in.Tags,
	}}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := profile(tx, s, name); err == nil {
			return errExists("Instance Profile %s already exists.", name)
		}
		return putProfile(tx, s, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateInstanceProfileOutput{InstanceProfile: &p.Profile}, nil
}

// GetInstanceProfile describes an instance profile and its role.
func (b *Backend) GetInstanceProfile(ctx context.Context, in *iamapi.GetInstanceProfileInput) (*iamapi.GetInstanceProfileOutput, error) {
	s := account(ctx)
	var out types.InstanceProfile
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		p, err := profile(tx, s, aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		out = p.describe(tx, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetInstanceProfileOutput{InstanceProfile: &out}, nil
}

// DeleteInstanceProfile deletes an instance profile that holds no role.
func (b *Backend) DeleteInstanceProfile(ctx context.Context, in *iamapi.DeleteInstanceProfileInput) (*iamapi.DeleteInstanceProfileOutput, error) {
	s := account(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := profile(tx, s, aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return errConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		return tx.Delete(s.Key(kindInstanceProfile, strings.ToLower(*p.Profile.InstanceProfileName)))
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteInstanceProfileOutput{}, nil
}

// AddRoleToInstanceProfile puts a role in an instance profile, which
// holds one role at most.
func (b *Backend) AddRoleToInstanceProfile(ctx context.Context, in *iamapi.AddRoleToInstanceProfileInput) (*iamapi.AddRoleToInstanceProfileOutput, error) {
	s := account(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := profile(tx, s, aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return errLimit("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		p.Roles = []string{*r.RoleName}
		return putProfile(tx, s, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AddRoleToInstanceProfileOutput{}, nil
}

// RemoveRoleFromInstanceProfile takes a role out of an instance profile.
func (b *Backend) RemoveRoleFromInstanceProfile(ctx context.Context, in *iamapi.RemoveRoleFromInstanceProfileInput) (*iamapi.RemoveRoleFromInstanceProfileOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.RoleName)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := profile(tx, s, aws.ToString(in.InstanceProfileName))
		if err != nil {
			return err
		}
		i := slices.IndexFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, name) })
		if i < 0 {
			return errNoSuchEntity("The role with name %s cannot be found.", name)
		}
		p.Roles = slices.Delete(p.Roles, i, i+1)
		return putProfile(tx, s, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.RemoveRoleFromInstanceProfileOutput{}, nil
}

// ListInstanceProfiles lists the account's instance profiles.
func (b *Backend) ListInstanceProfiles(ctx context.Context, in *iamapi.ListInstanceProfilesInput) (*iamapi.ListInstanceProfilesOutput, error) {
	profiles, marker, truncated, err := b.listProfiles(ctx, "", aws.ToString(in.PathPrefix), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesOutput{InstanceProfiles: profiles, Marker: marker, IsTruncated: truncated}, nil
}

// ListInstanceProfilesForRole lists the instance profiles that hold a role.
func (b *Backend) ListInstanceProfilesForRole(ctx context.Context, in *iamapi.ListInstanceProfilesForRoleInput) (*iamapi.ListInstanceProfilesForRoleOutput, error) {
	profiles, marker, truncated, err := b.listProfiles(ctx, aws.ToString(in.RoleName), "", in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesForRoleOutput{InstanceProfiles: profiles, Marker: marker, IsTruncated: truncated}, nil
}

// listProfiles lists instance profiles under a path, or those that hold
// roleName when it is set (the role must exist).
func (b *Backend) listProfiles(ctx context.Context, roleName, pathPrefix string, marker *string, maxItems *int32) ([]types.InstanceProfile, *string, bool, error) {
	s := account(ctx)
	var all []types.InstanceProfile
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var stored []storedProfile
		var err error
		if roleName != "" {
			if _, err := role(tx, s, roleName); err != nil {
				return err
			}
			stored, err = profilesOf(tx, s, roleName)
		} else {
			stored, err = sqlite.ListAll[storedProfile](tx, s.Query(kindInstanceProfile, ""))
		}
		if err != nil {
			return err
		}
		for _, p := range stored {
			if !strings.HasPrefix(*p.Profile.Path, pathPrefix) {
				continue
			}
			all = append(all, p.describe(tx, s))
		}
		return nil
	})
	if err != nil {
		return nil, nil, false, err
	}
	slices.SortFunc(all, func(a, b types.InstanceProfile) int {
		return strings.Compare(strings.ToLower(*a.InstanceProfileName), strings.ToLower(*b.InstanceProfileName))
	})
	profiles, next, truncated, err := page(all, func(p types.InstanceProfile) string { return strings.ToLower(*p.InstanceProfileName) }, marker, maxItems)
	return backend.OrEmpty(profiles), next, truncated, err
}
