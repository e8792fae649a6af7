package iam

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

func newTestBackend(t *testing.T) (*Backend, context.Context) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	b := New(store, backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}}, nil)
	return b, backend.WithScope(context.Background(), backend.Scope{Account: "000000000000", Region: "us-east-1"})
}

// TestDuplicateTagKeys: a tag key given twice, in any case, is refused
// with InvalidInput in IAM's words by every call that takes tags (as
// recorded from IAM in
// https://github.com/getmoto/moto/blob/master/tests/test_iam/test_iam.py),
// and a role's tag replaces one whose key differs only in case
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html).
func TestDuplicateTagKeys(t *testing.T) {
	b, ctx := newTestBackend(t)
	const want = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
	doc := aws.String(`{"Version":"2012-10-17","Statement":[]}`)
	dup := []types.Tag{{Key: aws.String("Env"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("b")}}
	exact := []types.Tag{{Key: aws.String("0"), Value: aws.String("")}, {Key: aws.String("0"), Value: aws.String("")}}
	refused := func(what string, err error) {
		t.Helper()
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Code != "InvalidInput" || e.Status != 400 || e.Message != want {
			t.Errorf("%s: err = %v, want InvalidInput %q", what, err, want)
		}
	}
	_, err := b.CreateRole(ctx, &iamapi.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: doc, Tags: dup})
	refused("CreateRole", err)
	_, err = b.CreateRole(ctx, &iamapi.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: doc, Tags: exact})
	refused("CreateRole, exact", err)
	_, err = b.CreateInstanceProfile(ctx, &iamapi.CreateInstanceProfileInput{InstanceProfileName: aws.String("p"), Tags: dup})
	refused("CreateInstanceProfile", err)
	_, err = b.CreatePolicy(ctx, &iamapi.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: doc, Tags: dup})
	refused("CreatePolicy", err)

	if _, err := b.CreateRole(ctx, &iamapi.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: doc, Tags: dup[:1]}); err != nil {
		t.Fatal(err)
	}
	_, err = b.TagRole(ctx, &iamapi.TagRoleInput{RoleName: aws.String("r"), Tags: dup})
	refused("TagRole", err)
	if _, err := b.TagRole(ctx, &iamapi.TagRoleInput{RoleName: aws.String("r"), Tags: dup[1:]}); err != nil {
		t.Fatal(err)
	}
	out, err := b.ListRoleTags(ctx, &iamapi.ListRoleTagsInput{RoleName: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "env" || aws.ToString(out.Tags[0].Value) != "b" {
		t.Errorf("tags = %+v, want env=b alone", out.Tags)
	}
	if _, err := b.GetRole(ctx, &iamapi.GetRoleInput{RoleName: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetInstanceProfile(ctx, &iamapi.GetInstanceProfileInput{InstanceProfileName: aws.String("p")}); err == nil {
		t.Error("a refused instance profile was created")
	}
}
