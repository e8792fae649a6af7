package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The AWS managed policies the test attaches, with their facts as the AWS
// Managed Policy Reference gives them.
const (
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html
	readOnlyAccess            = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	readOnlyAccessDescription = "Provides read-only access to AWS services and resources."
	readOnlyAccessVersion     = "v185"
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonEC2ContainerRegistryReadOnly.html
	ecrReadOnly            = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	ecrReadOnlyDescription = "Provides read-only access to Amazon EC2 Container Registry repositories."
	ecrReadOnlyVersion     = "v3"
	// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ViewOnlyAccess.html
	// (a job function policy: its ARN has the path /job-function/)
	viewOnlyAccess = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
)

// TestIAMAWSManagedPolicies: the AWS managed policies Terraform modules
// attach exist, with AWS's names, paths, descriptions, dates and default
// versions; ListPolicies pages through them and filters them by path and
// attachment; GetUser answers for the caller.
func TestIAMAWSManagedPolicies(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"))
	ctx, c := context.Background(), b.clients("us-east-1")

	try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
	for _, arn := range []string{readOnlyAccess, ecrReadOnly} {
		try(c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(arn)})).must(t)
	}

	p := try(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(readOnlyAccess)})).must(t).Policy
	// Creation time: February 06, 2015, 18:39 UTC.
	if aws.ToString(p.PolicyName) != "ReadOnlyAccess" || aws.ToString(p.Path) != "/" ||
		aws.ToString(p.Description) != readOnlyAccessDescription || aws.ToString(p.DefaultVersionId) != readOnlyAccessVersion ||
		!p.CreateDate.Equal(time.Date(2015, 2, 6, 18, 39, 0, 0, time.UTC)) || aws.ToInt32(p.AttachmentCount) != 1 || !p.IsAttachable {
		t.Fatalf("GetPolicy ReadOnlyAccess = %+v", p)
	}
	// A policy id is ANPA and 17 more upper-case letters and digits.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
	if id := aws.ToString(p.PolicyId); len(id) != 21 || !strings.HasPrefix(id, "ANPA") || strings.ToUpper(id) != id {
		t.Fatalf("PolicyId = %q", id)
	}
	p = try(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ecrReadOnly)})).must(t).Policy
	// Creation time: December 21, 2015, 17:04 UTC; edited time: December 10, 2019, 20:56 UTC.
	if aws.ToString(p.Description) != ecrReadOnlyDescription || aws.ToString(p.DefaultVersionId) != ecrReadOnlyVersion ||
		!p.CreateDate.Equal(time.Date(2015, 12, 21, 17, 4, 0, 0, time.UTC)) || !p.UpdateDate.Equal(time.Date(2019, 12, 10, 20, 56, 0, 0, time.UTC)) {
		t.Fatalf("GetPolicy AmazonEC2ContainerRegistryReadOnly = %+v", p)
	}
	v := try(c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ecrReadOnly), VersionId: p.DefaultVersionId})).must(t).PolicyVersion
	if aws.ToString(v.VersionId) != ecrReadOnlyVersion || !v.IsDefaultVersion || policyDocument(t, v.Document)["Version"] != "2012-10-17" {
		t.Fatalf("GetPolicyVersion = %+v", v)
	}
	_, err := c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ecrReadOnly), VersionId: aws.String("v1")})
	wantErr[*types.NoSuchEntityException](t, err)
	if path := aws.ToString(try(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(viewOnlyAccess)})).must(t).Policy.Path); path != "/job-function/" {
		t.Fatalf("ViewOnlyAccess path %q", path)
	}

	// A policy AWS does not have.
	missing := "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
	_, err = c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(missing)})
	wantErr[*types.NoSuchEntityException](t, err)
	_, err = c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(missing)})
	wantErr[*types.NoSuchEntityException](t, err)

	// Scope=AWS, 10 at a time: every page holds at most MaxItems, the
	// Marker leads on without repeating, the last page is not truncated.
	var arns []string
	in := &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(10)}
	for pages := 0; ; pages++ {
		out := try(c.iam.ListPolicies(ctx, in)).must(t)
		if len(out.Policies) > 10 || pages > 20 {
			t.Fatalf("page %d has %d policies", pages, len(out.Policies))
		}
		for _, p := range out.Policies {
			arns = append(arns, aws.ToString(p.Arn))
		}
		if !out.IsTruncated {
			break
		}
		in.Marker = out.Marker
	}
	if len(arns) < 35 || len(slices.Compact(slices.Sorted(slices.Values(arns)))) != len(arns) ||
		!slices.Contains(arns, readOnlyAccess) || !slices.Contains(arns, ecrReadOnly) || !slices.Contains(arns, executionPolicy) {
		t.Fatalf("ListPolicies Scope=AWS = %d policies: %v", len(arns), arns)
	}
	service := try(c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, PathPrefix: aws.String("/service-role/")})).must(t).Policies
	if len(service) == 0 || slices.ContainsFunc(service, func(p types.Policy) bool { return aws.ToString(p.Path) != "/service-role/" }) {
		t.Fatalf("ListPolicies PathPrefix=/service-role/ = %+v", service)
	}
	attached := try(c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})).must(t).Policies
	if len(attached) != 2 || aws.ToString(attached[0].Arn) != ecrReadOnly || aws.ToString(attached[1].Arn) != readOnlyAccess {
		t.Fatalf("ListPolicies OnlyAttached = %+v", attached)
	}

	// With no name, GetUser answers for the caller: berth's access keys
	// are the account's root credentials, as STS GetCallerIdentity says.
	// The root user's ARN is arn:aws:iam::<account>:root.
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
	me := try(c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).must(t)
	user := try(c.iam.GetUser(ctx, &iam.GetUserInput{})).must(t).User
	if aws.ToString(user.Arn) != "arn:aws:iam::000000000000:root" || aws.ToString(user.Arn) != aws.ToString(me.Arn) ||
		aws.ToString(user.UserId) != aws.ToString(me.Account) || user.CreateDate == nil {
		t.Fatalf("GetUser = %+v, caller %+v", user, me)
	}
	again := try(c.iam.GetUser(ctx, &iam.GetUserInput{})).must(t).User
	if !again.CreateDate.Equal(*user.CreateDate) {
		t.Fatalf("the root user's CreateDate moved from %v to %v", user.CreateDate, again.CreateDate)
	}
	_, err = c.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantErr[*types.NoSuchEntityException](t, err)
	// A role session is no user: it must name one.
	cr := try(c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/deployer"), RoleSessionName: aws.String("ci")})).must(t).Credentials
	role := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken))
	_, err = role.iam.GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "ValidationError")

	// The aws CLI pages with --max-items and --starting-token.
	cliIAM := cli{t: t, url: b.url, region: "us-east-1"}
	var first, second struct {
		Policies  []struct{ Arn string }
		NextToken string
	}
	cliIAM.run(&first, "iam", "list-policies", "--scope", "AWS", "--max-items", "5")
	if len(first.Policies) != 5 || first.NextToken == "" {
		t.Fatalf("aws iam list-policies --max-items 5 = %+v", first)
	}
	cliIAM.run(&second, "iam", "list-policies", "--scope", "AWS", "--max-items", "5", "--starting-token", first.NextToken)
	if len(second.Policies) != 5 || second.Policies[0].Arn <= first.Policies[4].Arn {
		t.Fatalf("aws iam list-policies, second page = %+v after %+v", second, first)
	}
}

// policyDocument decodes a policy document as IAM returns it: URL-encoded
// JSON.
func policyDocument(t *testing.T, encoded *string) map[string]any {
	t.Helper()
	var doc map[string]any
	raw, err := url.QueryUnescape(aws.ToString(encoded))
	if err == nil {
		err = json.Unmarshal([]byte(raw), &doc)
	}
	if err != nil {
		t.Fatalf("policy document %q: %v", aws.ToString(encoded), err)
	}
	return doc
}
