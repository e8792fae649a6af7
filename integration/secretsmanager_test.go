package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestSecretsManagerVersions creates a secret, adds versions and reads
// them by stage and id, by name, full and partial ARN, and moves labels.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
func TestSecretsManagerVersions(t *testing.T) {
	ctx, c := setup(t)
	sm := c.secretsmanager
	token1 := "11111111-1111-1111-1111-111111111111"
	created := try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(`{"user":"a"}`),
		ClientRequestToken: aws.String(token1), Description: aws.String("the database"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).must(t)
	arn := aws.ToString(created.ARN)
	prefix := "arn:aws:secretsmanager:" + c.region + ":000000000000:secret:app/db-"
	if !strings.HasPrefix(arn, prefix) || len(arn) != len(prefix)+6 || aws.ToString(created.VersionId) != token1 {
		t.Fatalf("CreateSecret = %s %s", arn, aws.ToString(created.VersionId))
	}
	// The same request again answers the same; the same token with another
	// value is a conflict; another request for the name too.
	again := try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(`{"user":"a"}`), ClientRequestToken: aws.String(token1)})).must(t)
	if aws.ToString(again.ARN) != arn || aws.ToString(again.VersionId) != token1 {
		t.Fatalf("CreateSecret again = %+v", again)
	}
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("other"), ClientRequestToken: aws.String(token1)})
	wantErr[*types.ResourceExistsException](t, err)
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("x")})
	if e := wantErr[*types.ResourceExistsException](t, err); !strings.Contains(e.ErrorMessage(), "app/db already exists") {
		t.Fatalf("message %q", e.ErrorMessage())
	}
	// Input validation's own code, as users report it
	// (https://github.com/anomalyco/sst/issues/3795).
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!")})
	wantCode(t, err, "ValidationException")
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte("y")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("replica"), AddReplicaRegions: []types.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
	wantErr[*types.InvalidRequestException](t, err)

	put := try(sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String(`{"user":"b"}`)})).must(t)
	if !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) {
		t.Fatalf("PutSecretValue stages = %v", put.VersionStages)
	}
	for _, id := range []string{"app/db", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		v := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})).must(t)
		if aws.ToString(v.SecretString) != `{"user":"b"}` || aws.ToString(v.ARN) != arn || aws.ToString(v.VersionId) != aws.ToString(put.VersionId) {
			t.Fatalf("GetSecretValue(%s) = %+v", id, v)
		}
	}
	prev := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db"), VersionStage: aws.String("AWSPREVIOUS")})).must(t)
	if aws.ToString(prev.SecretString) != `{"user":"a"}` || aws.ToString(prev.VersionId) != token1 {
		t.Fatalf("AWSPREVIOUS = %+v", prev)
	}
	byID := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db"), VersionId: aws.String(token1)})).must(t)
	if aws.ToString(byID.SecretString) != `{"user":"a"}` {
		t.Fatalf("by VersionId = %+v", byID)
	}
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db"), VersionStage: aws.String("AWSPENDING")})
	if e := wantErr[*types.ResourceNotFoundException](t, err); e.ErrorMessage() != "Secrets Manager can't find the specified secret value for staging label: AWSPENDING" {
		t.Fatalf("message %q", e.ErrorMessage())
	}
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	if e := wantErr[*types.ResourceNotFoundException](t, err); e.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Fatalf("message %q", e.ErrorMessage())
	}
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-6] + "zzzzzz")})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("changed"), ClientRequestToken: aws.String(token1)})
	wantErr[*types.ResourceExistsException](t, err)

	// A third version labelled only "blue" leaves AWSCURRENT where it is.
	blue := try(sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretBinary: []byte{0, 1, 2}, VersionStages: []string{"blue"}})).must(t)
	d := try(sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")})).must(t)
	if len(d.VersionIdsToStages) != 3 || !slices.Equal(d.VersionIdsToStages[aws.ToString(put.VersionId)], []string{"AWSCURRENT"}) ||
		aws.ToString(d.Description) != "the database" || aws.ToBool(d.RotationEnabled) || d.CreatedDate == nil || d.LastAccessedDate == nil ||
		aws.ToString(d.PrimaryRegion) != c.region || len(d.Tags) != 1 {
		t.Fatalf("DescribeSecret = %+v", d)
	}
	// LastAccessedDate is a day.
	if !d.LastAccessedDate.Equal(d.LastAccessedDate.Truncate(24 * 3600e9)) {
		t.Fatalf("LastAccessedDate %v is not a day", d.LastAccessedDate)
	}
	bin := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db"), VersionStage: aws.String("blue")})).must(t)
	if string(bin.SecretBinary) != "\x00\x01\x02" || bin.SecretString != nil {
		t.Fatalf("binary = %+v", bin)
	}

	// Move AWSCURRENT to the blue version: AWSPREVIOUS follows.
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/db"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: blue.VersionId})
	wantErr[*types.InvalidParameterException](t, err)
	try(sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/db"), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: blue.VersionId, RemoveFromVersionId: put.VersionId})).must(t)
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/db"), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: blue.VersionId})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("app/db"), VersionStage: aws.String("x"), MoveToVersionId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err)
	// token1 lost AWSPREVIOUS: it is deprecated.
	versions := try(sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("app/db")})).must(t).Versions
	all := try(sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("app/db"), IncludeDeprecated: aws.Bool(true)})).must(t).Versions
	if len(versions) != 2 || len(all) != 3 || aws.ToString(all[2].VersionId) != token1 || len(all[2].VersionStages) != 0 {
		t.Fatalf("ListSecretVersionIds = %+v / %+v", versions, all)
	}
	p := secretsmanager.NewListSecretVersionIdsPaginator(sm, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("app/db"), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(1)})
	var paged []string
	for p.HasMorePages() {
		for _, v := range try(p.NextPage(ctx)).must(t).Versions {
			paged = append(paged, aws.ToString(v.VersionId))
		}
	}
	if len(paged) != 3 || paged[2] != token1 {
		t.Fatalf("paged versions = %v", paged)
	}

	// UpdateSecret: description, and a value makes a version.
	up := try(sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(arn), Description: aws.String("new"), SecretString: aws.String("v4")})).must(t)
	if up.VersionId == nil {
		t.Fatal("UpdateSecret with a value made no version")
	}
	if v := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db")})).must(t); aws.ToString(v.SecretString) != "v4" {
		t.Fatalf("after UpdateSecret = %+v", v)
	}

	// Rotation is not served.
	_, err = sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("app/db")})
	if e := wantErr[*types.InvalidRequestException](t, err); !strings.Contains(e.ErrorMessage(), "berth does not rotate") {
		t.Fatalf("RotateSecret: %v", err)
	}
	_, err = sm.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("app/db")})
	wantErr[*types.InvalidRequestException](t, err)
}

// TestSecretsManagerDeletion schedules deletions, restores, and forces.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
func TestSecretsManagerDeletion(t *testing.T) {
	ctx, c := setup(t)
	sm := c.secretsmanager
	try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("doomed"), SecretString: aws.String("x")})).must(t)
	for _, in := range []*secretsmanager.DeleteSecretInput{
		{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(6)},
		{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(31)},
		{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)},
	} {
		_, err := sm.DeleteSecret(ctx, in)
		wantErr[*types.InvalidParameterException](t, err)
	}
	del := try(sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed"), RecoveryWindowInDays: aws.Int64(7)})).must(t)
	d := try(sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("doomed")})).must(t)
	if d.DeletedDate == nil || del.DeletionDate.Sub(*d.DeletedDate) != 7*24*3600e9 {
		t.Fatalf("DeletionDate %v, DeletedDate %v", del.DeletionDate, d.DeletedDate)
	}
	_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("doomed")})
	if e := wantErr[*types.InvalidRequestException](t, err); e.ErrorMessage() != "You can't perform this operation on the secret because it was marked for deletion." {
		t.Fatalf("message %q", e.ErrorMessage())
	}
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("doomed"), SecretString: aws.String("y")})
	wantErr[*types.InvalidRequestException](t, err)
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("doomed")})
	wantErr[*types.InvalidRequestException](t, err)
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed")})
	wantErr[*types.InvalidRequestException](t, err)
	listed := try(sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})).must(t).SecretList
	planned := try(sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})).must(t).SecretList
	if len(listed) != 0 || len(planned) != 1 || planned[0].DeletedDate == nil {
		t.Fatalf("ListSecrets = %+v / %+v", listed, planned)
	}
	try(sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("doomed")})).must(t)
	if v := try(sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("doomed")})).must(t); aws.ToString(v.SecretString) != "x" {
		t.Fatalf("restored = %+v", v)
	}
	try(sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("doomed"), ForceDeleteWithoutRecovery: aws.Bool(true)})).must(t)
	_, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("doomed")})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("doomed")})
	wantErr[*types.ResourceNotFoundException](t, err)
	// The name is free again, for a new secret with a new ARN.
	try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("doomed")})).must(t)
}

// TestSecretsManagerListAndBatch lists with filters, sorting and pages,
// and reads values in batches.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
func TestSecretsManagerListAndBatch(t *testing.T) {
	ctx, c := setup(t)
	sm := c.secretsmanager
	for _, n := range []string{"prod/a", "prod/b", "dev/a"} {
		try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v-" + n),
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String(strings.Split(n, "/")[0])}}})).must(t)
	}
	names := func(in *secretsmanager.ListSecretsInput) []string {
		var out []string
		p := secretsmanager.NewListSecretsPaginator(sm, in)
		for p.HasMorePages() {
			for _, s := range try(p.NextPage(ctx)).must(t).SecretList {
				out = append(out, aws.ToString(s.Name))
			}
		}
		return out
	}
	f := func(key types.FilterNameStringType, v ...string) []types.Filter {
		return []types.Filter{{Key: key, Values: v}}
	}
	for _, tc := range []struct {
		in   *secretsmanager.ListSecretsInput
		want []string
	}{
		{&secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)}, []string{"prod/a", "prod/b", "dev/a"}},
		{&secretsmanager.ListSecretsInput{SortBy: types.SortByTypeName, SortOrder: types.SortOrderTypeDesc, MaxResults: aws.Int32(2)}, []string{"prod/b", "prod/a", "dev/a"}},
		{&secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "prod/")}, []string{"prod/a", "prod/b"}},
		{&secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "!prod/")}, []string{"dev/a"}},
		{&secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeTagValue, "dev")}, []string{"dev/a"}},
		{&secretsmanager.ListSecretsInput{Filters: append(f(types.FilterNameStringTypeTagKey, "env"), f(types.FilterNameStringTypeName, "prod/b")...)}, []string{"prod/b"}},
	} {
		if got := names(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("ListSecrets %+v = %v, want %v", tc.in, got, tc.want)
		}
	}
	// Outside the model's range: the common input validation's answer.
	_, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)})
	wantCode(t, err, "ValidationException")
	_, err = sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: aws.String("!!")})
	wantErr[*types.InvalidNextTokenException](t, err)

	batch := try(sm.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"prod/a", "ghost", "dev/a"}})).must(t)
	if len(batch.SecretValues) != 2 || aws.ToString(batch.SecretValues[1].SecretString) != "v-dev/a" ||
		len(batch.Errors) != 1 || aws.ToString(batch.Errors[0].SecretId) != "ghost" || aws.ToString(batch.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("BatchGetSecretValue = %+v", batch)
	}
	var values []string
	p := secretsmanager.NewBatchGetSecretValuePaginator(sm, &secretsmanager.BatchGetSecretValueInput{Filters: f(types.FilterNameStringTypeName, "prod/"), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		for _, v := range try(p.NextPage(ctx)).must(t).SecretValues {
			values = append(values, aws.ToString(v.SecretString))
		}
	}
	if !slices.Equal(values, []string{"v-prod/a", "v-prod/b"}) {
		t.Fatalf("BatchGetSecretValue by filter = %v", values)
	}
	_, err = sm.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"a"}, Filters: f(types.FilterNameStringTypeName, "x")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = sm.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: make([]string, 21)})
	wantCode(t, err, "ValidationException") // the model's maximum, 20
}

// TestSecretsManagerTagsAndPolicy tags, untags, and keeps a resource
// policy. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html
func TestSecretsManagerTagsAndPolicy(t *testing.T) {
	ctx, c := setup(t)
	sm := c.secretsmanager
	try(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tagged")})).must(t)
	try(sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tagged"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})).must(t)
	try(sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("3")}}})).must(t)
	try(sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("tagged"), TagKeys: []string{"b"}})).must(t)
	d := try(sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tagged")})).must(t)
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Value) != "3" {
		t.Fatalf("tags = %+v", d.Tags)
	}
	_, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("ghost"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
	wantErr[*types.InvalidParameterException](t, err)
	// A secret without a value has no AWSCURRENT.
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("tagged")})
	wantErr[*types.ResourceNotFoundException](t, err)

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if got := try(sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("tagged")})).must(t); got.ResourcePolicy != nil {
		t.Fatalf("policy before = %q", aws.ToString(got.ResourcePolicy))
	}
	_, err = sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("tagged"), ResourcePolicy: aws.String("{not json")})
	wantErr[*types.MalformedPolicyDocumentException](t, err)
	try(sm.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("tagged"), ResourcePolicy: aws.String(policy), BlockPublicPolicy: aws.Bool(true)})).must(t)
	if got := try(sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("tagged")})).must(t); aws.ToString(got.ResourcePolicy) != policy {
		t.Fatalf("policy = %q", aws.ToString(got.ResourcePolicy))
	}
	if v := try(sm.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(policy)})).must(t); !v.PolicyValidationPassed {
		t.Fatalf("ValidateResourcePolicy = %+v", v)
	}
	_, err = sm.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String("[")})
	wantErr[*types.MalformedPolicyDocumentException](t, err)
	try(sm.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("tagged")})).must(t)
	if got := try(sm.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("tagged")})).must(t); got.ResourcePolicy != nil {
		t.Fatalf("policy after delete = %q", aws.ToString(got.ResourcePolicy))
	}

	pw := try(sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(20), ExcludePunctuation: aws.Bool(true)})).must(t)
	if p := aws.ToString(pw.RandomPassword); len(p) != 20 || strings.ContainsAny(p, "!#$%&*+-./:;=?@^_~") {
		t.Fatalf("GetRandomPassword = %q", p)
	}
	_, err = sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
	wantCode(t, err, "ValidationException") // the model's maximum, 4096
}

// TestSecretsManagerCLI drives the aws CLI through a secret's life.
func TestSecretsManagerCLI(t *testing.T) {
	t.Parallel()
	aws := cli{t: t, url: shared.url, region: newRegion()}
	var created struct{ ARN, Name, VersionId string }
	aws.run(&created, "secretsmanager", "create-secret", "--name", "cli/token", "--secret-string", "one", "--description", "from the CLI")
	aws.run(nil, "secretsmanager", "put-secret-value", "--secret-id", "cli/token", "--secret-string", "two")
	var v struct{ SecretString, VersionId string }
	aws.run(&v, "secretsmanager", "get-secret-value", "--secret-id", created.ARN, "--version-stage", "AWSPREVIOUS")
	if v.SecretString != "one" || v.VersionId != created.VersionId {
		t.Fatalf("get-secret-value AWSPREVIOUS = %+v", v)
	}
	if got := aws.output("secretsmanager", "get-secret-value", "--secret-id", "cli/token", "--query", "SecretString", "--output", "text"); got != "two" {
		t.Fatalf("get-secret-value = %q", got)
	}
	var list struct{ SecretList []struct{ Name string } }
	aws.run(&list, "secretsmanager", "list-secrets", "--filters", "Key=name,Values=cli/", "Key=description,Values=FROM")
	if len(list.SecretList) != 1 || list.SecretList[0].Name != "cli/token" {
		t.Fatalf("list-secrets = %+v", list)
	}
	var del struct{ DeletionDate float64 }
	aws.run(&del, "secretsmanager", "delete-secret", "--secret-id", "cli/token", "--recovery-window-in-days", "7")
	if del.DeletionDate == 0 {
		t.Fatalf("delete-secret = %+v", del)
	}
	aws.fails("InvalidRequestException", "secretsmanager", "get-secret-value", "--secret-id", "cli/token")
	aws.run(nil, "secretsmanager", "restore-secret", "--secret-id", "cli/token")
	aws.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value", "--secret-id", "cli/ghost")
	aws.fails("InvalidParameterException", "secretsmanager", "delete-secret", "--secret-id", "cli/token", "--recovery-window-in-days", "3")
	aws.fails("ResourceExistsException", "secretsmanager", "create-secret", "--name", "cli/token")
	var pw struct{ RandomPassword string }
	aws.run(&pw, "secretsmanager", "get-random-password", "--password-length", "50", "--exclude-numbers")
	if len(pw.RandomPassword) != 50 || strings.ContainsAny(pw.RandomPassword, "0123456789") {
		t.Fatalf("get-random-password = %q", pw.RandomPassword)
	}
}
