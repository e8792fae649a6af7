package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// trust is the trust policy of an ECS task execution role.
const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const executionPolicy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

// sameJSON reports whether a URL-encoded policy document, as IAM returns
// it, is the JSON document want.
func sameJSON(t *testing.T, encoded *string, want string) bool {
	t.Helper()
	doc, err := url.QueryUnescape(aws.ToString(encoded))
	var a, b any
	return err == nil && json.Unmarshal([]byte(doc), &a) == nil && json.Unmarshal([]byte(want), &b) == nil && jsonEqual(a, b)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestIAMRolesAndPolicies walks a task execution role's life with the SDK
// and the aws CLI: trust policy, the AWS managed execution policy, an
// inline policy, an instance profile, the conflicts that keep a role in
// use, and its deletion.
func TestIAMRolesAndPolicies(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"))
	ctx, c := context.Background(), b.clients("us-east-1")

	role := try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("ecsTaskExecutionRole"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})).must(t).Role
	if aws.ToString(role.Arn) != "arn:aws:iam::000000000000:role/ecsTaskExecutionRole" || aws.ToInt32(role.MaxSessionDuration) != 3600 {
		t.Fatalf("CreateRole = %+v", role)
	}
	_, err := c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ECSTASKEXECUTIONROLE"), AssumeRolePolicyDocument: aws.String(trust)})
	wantErr[*types.EntityAlreadyExistsException](t, err)
	_, err = c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String("{not json")})
	wantErr[*types.MalformedPolicyDocumentException](t, err)
	got := try(c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ecsTaskExecutionRole")})).must(t).Role
	if !sameJSON(t, got.AssumeRolePolicyDocument, trust) || len(got.Tags) != 1 {
		t.Fatalf("GetRole = %+v", got)
	}

	try(c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"), PolicyArn: aws.String(executionPolicy)})).must(t)
	attached := try(c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ecsTaskExecutionRole")})).must(t).AttachedPolicies
	if len(attached) != 1 || aws.ToString(attached[0].PolicyName) != "AmazonECSTaskExecutionRolePolicy" {
		t.Fatalf("ListAttachedRolePolicies = %+v", attached)
	}
	p := try(c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(executionPolicy)})).must(t).Policy
	v := try(c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(executionPolicy), VersionId: p.DefaultVersionId})).must(t).PolicyVersion
	if aws.ToInt32(p.AttachmentCount) != 1 || !v.IsDefaultVersion || !sameJSON(t, v.Document, awsManagedExecutionDoc) {
		t.Fatalf("GetPolicy = %+v, version %+v", p, v)
	}
	_, err = c.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ghost"), PolicyArn: aws.String(executionPolicy)})
	wantErr[*types.NoSuchEntityException](t, err)

	logs := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*"}]}`
	try(c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"), PolicyName: aws.String("logs"), PolicyDocument: aws.String(logs)})).must(t)
	inline := try(c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"), PolicyName: aws.String("logs")})).must(t)
	if !sameJSON(t, inline.PolicyDocument, logs) {
		t.Fatalf("GetRolePolicy = %+v", inline)
	}
	try(c.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ecs-instance")})).must(t)
	try(c.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ecs-instance"), RoleName: aws.String("ecsTaskExecutionRole")})).must(t)
	profiles := try(c.iam.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ecsTaskExecutionRole")})).must(t).InstanceProfiles
	if len(profiles) != 1 || len(profiles[0].Roles) != 1 {
		t.Fatalf("ListInstanceProfilesForRole = %+v", profiles)
	}

	// The aws CLI decodes the documents IAM returns URL-encoded.
	cliRole := cli{t: t, url: b.url, region: "us-east-1"}
	var described struct {
		Role struct{ AssumeRolePolicyDocument map[string]any }
	}
	cliRole.run(&described, "iam", "get-role", "--role-name", "ecsTaskExecutionRole")
	if described.Role.AssumeRolePolicyDocument["Version"] != "2012-10-17" {
		t.Fatalf("aws iam get-role = %+v", described)
	}

	// A role in use cannot go.
	for _, step := range []func() error{
		func() error {
			_, err := c.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ecs-instance"), RoleName: aws.String("ecsTaskExecutionRole")})
			return err
		},
		func() error {
			_, err := c.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"), PolicyName: aws.String("logs")})
			return err
		},
		func() error {
			_, err := c.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ecsTaskExecutionRole"), PolicyArn: aws.String(executionPolicy)})
			return err
		},
	} {
		_, err := c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ecsTaskExecutionRole")})
		wantErr[*types.DeleteConflictException](t, err)
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	try(c.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ecsTaskExecutionRole")})).must(t)
	_, err = c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ecsTaskExecutionRole")})
	wantErr[*types.NoSuchEntityException](t, err)
	try(c.iam.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("ecs-instance")})).must(t)

	// Customer managed policies, listed apart from AWS's.
	mine := try(c.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(logs)})).must(t).Policy
	local := try(c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})).must(t).Policies
	all := try(c.iam.ListPolicies(ctx, &iam.ListPoliciesInput{})).must(t).Policies
	if len(local) != 1 || aws.ToString(local[0].Arn) != aws.ToString(mine.Arn) || len(all) <= len(local) {
		t.Fatalf("ListPolicies local %d, all %d", len(local), len(all))
	}
	try(c.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: mine.Arn})).must(t)
	roles := try(c.iam.ListRoles(ctx, &iam.ListRolesInput{})).must(t).Roles
	if len(roles) != 0 {
		t.Fatalf("roles left: %+v", roles)
	}
}

// awsManagedExecutionDoc is AmazonECSTaskExecutionRolePolicy's document.
const awsManagedExecutionDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`

// TestSTSCredentials: GetCallerIdentity names the account of the access
// key; AssumeRole's temporary credentials work on every API, in the
// role's account, even with signatures verified.
func TestSTSCredentials(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--accounts", "AKIDTEST=000000000000,AKIDOTHER=111111111111",
		"--secrets", "AKIDTEST=secret,AKIDOTHER=secret", "--verify-signatures")
	ctx, c := context.Background(), b.clients("us-east-1")

	me := try(c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).must(t)
	if aws.ToString(me.Account) != "000000000000" || aws.ToString(me.Arn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("GetCallerIdentity = %+v", me)
	}
	_, err := c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deployer"), RoleSessionName: aws.String("ci"), DurationSeconds: aws.Int32(60)})
	wantCode(t, err, "ValidationError")
	assumed := try(c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deployer"), RoleSessionName: aws.String("ci")})).must(t)
	cr := assumed.Credentials
	temp := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken))
	who := try(temp.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).must(t)
	if aws.ToString(who.Account) != "111111111111" || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:assumed-role/deployer/ci" {
		t.Fatalf("GetCallerIdentity as the role = %+v", who)
	}
	try(temp.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("assumed")})).must(t)
	other := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider("AKIDOTHER", "secret", ""))
	if arns := try(other.ecs.ListClusters(ctx, &ecs.ListClustersInput{})).must(t).ClusterArns; len(arns) != 1 {
		t.Fatalf("account 111111111111 has clusters %v", arns)
	}
	session := try(c.sts.GetSessionToken(ctx, &sts.GetSessionTokenInput{})).must(t).Credentials
	mine := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider(*session.AccessKeyId, *session.SecretAccessKey, *session.SessionToken))
	if acct := aws.ToString(try(mine.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).must(t).Account); acct != "000000000000" {
		t.Fatalf("a session token's account = %s", acct)
	}
	forged := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, "wrong", *cr.SessionToken))
	_, err = forged.ecs.ListClusters(ctx, &ecs.ListClustersInput{})
	if err == nil {
		t.Fatal("a wrong secret for temporary credentials was accepted")
	}
}

// TestReset: POST /moto-api/reset (and /_berth/reset) wipes every
// resource in every account and region, removes the tasks' containers and
// closes the listeners, and berth serves on as new.
func TestReset(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"))
	ctx, c := context.Background(), b.clients("us-east-1")
	f := newFront(t, ctx, c, b, "reset", 0)
	register(t, ctx, c, "web", ecstypes.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, nil)
	inService(t, ctx, c, f.tg, 2)
	try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)})).must(t)
	try(b.clients("eu-west-1").ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("elsewhere")})).must(t)
	if n := len(containersOf(b, "us-east-1", "c")); n != 2 {
		t.Fatalf("%d containers run", n)
	}

	if resp, err := http.Get(b.url + "/_berth/reset"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /_berth/reset = %v %v", resp, err)
	}
	began := time.Now()
	resp, err := http.Post(b.url+"/moto-api/reset", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /moto-api/reset = %v %v", resp, err)
	}
	t.Logf("reset took %v", time.Since(began))

	if ids := dockerLines("ps", "-aq", "--filter", "label=berth.instance="+b.instance); len(ids) != 0 {
		t.Fatalf("containers left: %v", ids)
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		if arns := try(b.clients(region).ecs.ListClusters(ctx, &ecs.ListClustersInput{})).must(t).ClusterArns; len(arns) != 0 {
			t.Fatalf("clusters left in %s: %v", region, arns)
		}
	}
	if lbs := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t).LoadBalancers; len(lbs) != 0 {
		t.Fatalf("load balancers left: %d", len(lbs))
	}
	if roles := try(c.iam.ListRoles(ctx, &iam.ListRolesInput{})).must(t).Roles; len(roles) != 0 {
		t.Fatalf("roles left: %d", len(roles))
	}
	eventually(t, "the listener closed", func() bool { status, _ := fetch(f.url, ""); return status == 0 })
	// berth goes on as new.
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("again")})).must(t)
	try(http.Post(b.url+"/_berth/reset", "application/json", nil)).must(t)
}
