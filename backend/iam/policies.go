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

// managedPolicy is a managed policy with its one version's document.
type managedPolicy struct {
	Policy   types.Policy
	Document string
}

// policy loads a managed policy, the account's or an AWS one, with its
// attachment count.
func policy(tx *sqlite.Tx, s backend.Scope, arn string) (managedPolicy, error) {
	p, ok := awsManaged()[arn]
	if !ok {
		err := tx.Get(s.Key(kindPolicy, arn), &p)
		if isNotFound(err) {
			return p, errNoSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		if err != nil {
			return p, err
		}
	}
	n, err := attachments(tx, s, arn)
	p.Policy.AttachmentCount = aws.Int32(int32(n))
	return p, err
}

// attachments counts the roles a policy is attached to.
func attachments(tx *sqlite.Tx, s backend.Scope, arn string) (int, error) {
	n := 0
	err := tx.Scan(kindAttachment, arn, func(k sqlite.Key, _ []byte) error {
		if k.Account == s.Account {
			n++
		}
		return nil
	})
	return n, err
}

// CreatePolicy creates a customer managed policy.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
func (b *Backend) CreatePolicy(ctx context.Context, in *iamapi.CreatePolicyInput) (*iamapi.CreatePolicyOutput, error) {
	s := account(ctx)
	name := aws.ToString(in.PolicyName)
	if err := validName("policyName", name, 128); err != nil {
		return nil, err
	}
	path, err := validPath(in.Path)
	if err != nil {
		return nil, err
	}
	doc, err := validDocument(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := b.now()
	p := managedPolicy{Document: doc, Policy: types.Policy{
		Arn: aws.String(arn(s, "policy"+path+name)), PolicyName: aws.String(name), Path: aws.String(path), PolicyId: aws.String(b.uniqueID("ANPA")),
		DefaultVersionId: aws.String("v1"), IsAttachable: true, CreateDate: now, UpdateDate: now, Description: in.Description, Tags: in.Tags,
		AttachmentCount: aws.Int32(0), PermissionsBoundaryUsageCount: aws.Int32(0),
	}}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindPolicy, *p.Policy.Arn)); err != nil || ok {
			if err != nil {
				return err
			}
			return errExists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		return tx.Put(s.Row(kindPolicy, *p.Policy.Arn, "", name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyOutput{Policy: &p.Policy}, nil
}

// GetPolicy describes a managed policy.
func (b *Backend) GetPolicy(ctx context.Context, in *iamapi.GetPolicyInput) (*iamapi.GetPolicyOutput, error) {
	var p managedPolicy
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		p, err = policy(tx, account(ctx), aws.ToString(in.PolicyArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyOutput{Policy: &p.Policy}, nil
}

// GetPolicyVersion returns a managed policy's document: berth keeps only
// its default version (v1 for the account's policies).
func (b *Backend) GetPolicyVersion(ctx context.Context, in *iamapi.GetPolicyVersionInput) (*iamapi.GetPolicyVersionOutput, error) {
	out, err := b.ListPolicyVersions(ctx, &iamapi.ListPolicyVersionsInput{PolicyArn: in.PolicyArn})
	if err != nil {
		return nil, err
	}
	if aws.ToString(in.VersionId) != aws.ToString(out.Versions[0].VersionId) {
		return nil, errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", aws.ToString(in.PolicyArn), aws.ToString(in.VersionId))
	}
	return &iamapi.GetPolicyVersionOutput{PolicyVersion: &out.Versions[0]}, nil
}

// ListPolicyVersions lists a managed policy's versions: berth keeps only
// the default one, made when the policy was last updated.
func (b *Backend) ListPolicyVersions(ctx context.Context, in *iamapi.ListPolicyVersionsInput) (*iamapi.ListPolicyVersionsOutput, error) {
	var p managedPolicy
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		p, err = policy(tx, account(ctx), aws.ToString(in.PolicyArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	v := types.PolicyVersion{VersionId: p.Policy.DefaultVersionId, IsDefaultVersion: true, CreateDate: p.Policy.UpdateDate, Document: encodeDocument(p.Document)}
	return &iamapi.ListPolicyVersionsOutput{Versions: []types.PolicyVersion{v}}, nil
}

// ListPolicies lists managed policies: the account's (Local), AWS's, or
// both (All, the default).
func (b *Backend) ListPolicies(ctx context.Context, in *iamapi.ListPoliciesInput) (*iamapi.ListPoliciesOutput, error) {
	s := account(ctx)
	var all []managedPolicy
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var arns []string
		if in.Scope != types.PolicyScopeTypeAws {
			local, err := sqlite.ListAll[managedPolicy](tx, s.Query(kindPolicy, ""))
			if err != nil {
				return err
			}
			for _, p := range local {
				arns = append(arns, *p.Policy.Arn)
			}
		}
		if in.Scope != types.PolicyScopeTypeLocal {
			for arn := range awsManaged() {
				arns = append(arns, arn)
			}
		}
		for _, arn := range arns {
			p, err := policy(tx, s, arn)
			if err != nil {
				return err
			}
			if strings.HasPrefix(*p.Policy.Path, aws.ToString(in.PathPrefix)) && (!in.OnlyAttached || *p.Policy.AttachmentCount > 0) {
				all = append(all, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b managedPolicy) int { return strings.Compare(*a.Policy.Arn, *b.Policy.Arn) })
	policies, marker, truncated, err := page(all, func(p managedPolicy) string { return *p.Policy.Arn }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPoliciesOutput{Policies: []types.Policy{}, Marker: marker, IsTruncated: truncated}
	for _, p := range policies {
		// ListPolicies leaves tags and the description out.
		// https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html
		p.Policy.Tags, p.Policy.Description = nil, nil
		out.Policies = append(out.Policies, p.Policy)
	}
	return out, nil
}

// DeletePolicy deletes a customer managed policy attached to no role.
func (b *Backend) DeletePolicy(ctx context.Context, in *iamapi.DeletePolicyInput) (*iamapi.DeletePolicyOutput, error) {
	s := account(ctx)
	arn := aws.ToString(in.PolicyArn)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		p, err := policy(tx, s, arn)
		if err != nil {
			return err
		}
		if _, ok := awsManaged()[arn]; ok {
			return errInvalidInput("You cannot delete an AWS managed policy.")
		}
		if *p.Policy.AttachmentCount > 0 {
			return errConflict("Cannot delete a policy attached to entities.")
		}
		return tx.Delete(s.Key(kindPolicy, arn))
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeletePolicyOutput{}, nil
}

// AttachRolePolicy attaches a managed policy to a role.
func (b *Backend) AttachRolePolicy(ctx context.Context, in *iamapi.AttachRolePolicyInput) (*iamapi.AttachRolePolicyOutput, error) {
	s := account(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		p, err := policy(tx, s, aws.ToString(in.PolicyArn))
		if err != nil {
			return err
		}
		n, err := tx.Count(s.Query(kindAttachment, *r.RoleName))
		if err != nil {
			return err
		}
		if n >= 20 {
			return errLimit("Cannot exceed quota for PoliciesPerRole: 20")
		}
		ap := types.AttachedPolicy{PolicyArn: p.Policy.Arn, PolicyName: p.Policy.PolicyName}
		return tx.Put(s.Row(kindAttachment, *r.RoleName+" "+*p.Policy.Arn, *r.RoleName, *p.Policy.Arn), ap)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AttachRolePolicyOutput{}, nil
}

// DetachRolePolicy detaches a managed policy from a role.
func (b *Backend) DetachRolePolicy(ctx context.Context, in *iamapi.DetachRolePolicyInput) (*iamapi.DetachRolePolicyOutput, error) {
	s := account(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		key := s.Key(kindAttachment, *r.RoleName+" "+aws.ToString(in.PolicyArn))
		if ok, err := tx.Exists(key); err != nil || !ok {
			if err != nil {
				return err
			}
			return errNoSuchEntity("Policy %s was not found.", aws.ToString(in.PolicyArn))
		}
		return tx.Delete(key)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DetachRolePolicyOutput{}, nil
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (b *Backend) ListAttachedRolePolicies(ctx context.Context, in *iamapi.ListAttachedRolePoliciesInput) (*iamapi.ListAttachedRolePoliciesOutput, error) {
	s := account(ctx)
	var all []types.AttachedPolicy
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		r, err := role(tx, s, aws.ToString(in.RoleName))
		if err != nil {
			return err
		}
		all, err = sqlite.ListAll[types.AttachedPolicy](tx, s.Query(kindAttachment, *r.RoleName))
		return err
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(p types.AttachedPolicy) bool {
		path := strings.TrimPrefix(*p.PolicyArn, (*p.PolicyArn)[:strings.Index(*p.PolicyArn, ":policy")+len(":policy")])
		return !strings.HasPrefix(path, aws.ToString(in.PathPrefix))
	})
	slices.SortFunc(all, func(a, b types.AttachedPolicy) int { return strings.Compare(*a.PolicyArn, *b.PolicyArn) })
	policies, marker, truncated, err := page(all, func(p types.AttachedPolicy) string { return *p.PolicyArn }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedRolePoliciesOutput{AttachedPolicies: backend.OrEmpty(policies), Marker: marker, IsTruncated: truncated}, nil
}
