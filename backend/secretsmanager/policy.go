package secretsmanager

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// A secret's resource policy is stored and answered as given; berth does
// not evaluate it (nor any IAM policy).
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html

// validPolicy checks that a resource policy is a JSON object of at most
// 20 KB.
func validPolicy(policy string) error {
	var doc map[string]any
	if len(policy) > 20480 || json.Unmarshal([]byte(policy), &doc) != nil {
		return errMalformedPolicy("This resource policy contains a syntax error.")
	}
	return nil
}

// PutResourcePolicy attaches a resource policy to a secret, replacing any.
// BlockPublicPolicy is accepted; berth has no public principals to block.
func (b *Backend) PutResourcePolicy(ctx context.Context, in *sm.PutResourcePolicyInput) (*sm.PutResourcePolicyOutput, error) {
	policy := aws.ToString(in.ResourcePolicy)
	if err := validPolicy(policy); err != nil {
		return nil, err
	}
	sec, err := b.change(ctx, aws.ToString(in.SecretId), func(sec *secret, now time.Time) error {
		sec.Policy = policy
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sm.PutResourcePolicyOutput{ARN: &sec.ARN, Name: &sec.Name}, nil
}

// GetResourcePolicy answers a secret's resource policy, omitted when it has
// none.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html
func (b *Backend) GetResourcePolicy(ctx context.Context, in *sm.GetResourcePolicyInput) (*sm.GetResourcePolicyOutput, error) {
	sec, err := b.read(ctx, aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	out := &sm.GetResourcePolicyOutput{ARN: &sec.ARN, Name: &sec.Name}
	if sec.Policy != "" {
		out.ResourcePolicy = aws.String(sec.Policy)
	}
	return out, nil
}

// DeleteResourcePolicy removes a secret's resource policy.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteResourcePolicy.html
func (b *Backend) DeleteResourcePolicy(ctx context.Context, in *sm.DeleteResourcePolicyInput) (*sm.DeleteResourcePolicyOutput, error) {
	sec, err := b.change(ctx, aws.ToString(in.SecretId), func(sec *secret, now time.Time) error {
		sec.Policy = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sm.DeleteResourcePolicyOutput{ARN: &sec.ARN, Name: &sec.Name}, nil
}

// ValidateResourcePolicy checks a policy's syntax; with SecretId the secret
// must exist. berth runs no further checks, so a policy that parses passes.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ValidateResourcePolicy.html
func (b *Backend) ValidateResourcePolicy(ctx context.Context, in *sm.ValidateResourcePolicyInput) (*sm.ValidateResourcePolicyOutput, error) {
	if err := validPolicy(aws.ToString(in.ResourcePolicy)); err != nil {
		return nil, err
	}
	if in.SecretId != nil {
		if _, err := b.read(ctx, *in.SecretId); err != nil {
			return nil, err
		}
	}
	return &sm.ValidateResourcePolicyOutput{PolicyValidationPassed: true}, nil
}
