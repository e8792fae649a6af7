package integration

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// TestAccountsKeptApartByArn: one account's secrets, parameters and
// certificates are out of another's reach, even by their full ARNs. Secrets Manager
// lets another account in only through the secret's resource policy and a
// customer managed KMS key, and Parameter Store only for a parameter
// shared through AWS RAM; berth evaluates neither, so it shares nothing.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html
// ACM has no resource-based policies at all, so another account's
// certificate is not found, and an HTTPS listener cannot use it
// (CertificateNotFound, as for one that does not exist).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-services-that-work-with-iam.html
func TestAccountsKeptApartByArn(t *testing.T) {
	t.Parallel()
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--runtime", "none", "--accounts", "AKIDTEST=000000000000,AKIDOTHER=111111111111")
	ctx, mine := context.Background(), b.clients("us-east-1")
	other := b.clientsAs("us-east-1", credentials.NewStaticCredentialsProvider("AKIDOTHER", "secret", ""))

	created := try(mine.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("hunter2")})).must(t)
	arn := aws.ToString(created.ARN)
	for _, id := range []string{arn, arn[:len(arn)-7]} { // full and partial ARN
		_, err := other.secretsmanager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		wantCode(t, err, "AccessDeniedException")
		_, err = other.secretsmanager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String("pwned")})
		wantCode(t, err, "AccessDeniedException")
		_, err = other.secretsmanager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
		wantCode(t, err, "AccessDeniedException")
	}
	got := try(mine.secretsmanager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})).must(t)
	if aws.ToString(got.SecretString) != "hunter2" {
		t.Fatalf("the owner reads %q", aws.ToString(got.SecretString))
	}

	try(mine.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/key"), Value: aws.String("hunter3"), Type: ssmtypes.ParameterTypeSecureString})).must(t)
	param := try(mine.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/key")})).must(t)
	paramArn := aws.ToString(param.Parameter.ARN)
	_, err := other.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(paramArn), WithDecryption: aws.Bool(true)})
	wantErr[*ssmtypes.ParameterNotFound](t, err)
	_, err = other.ssm.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(paramArn), WithDecryption: aws.Bool(true)})
	wantErr[*ssmtypes.ParameterNotFound](t, err)
	many := try(other.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{paramArn, paramArn + ":1"}, WithDecryption: aws.Bool(true)})).must(t)
	if len(many.Parameters) != 0 || len(many.InvalidParameters) != 2 {
		t.Fatalf("GetParameters from another account = %+v", many)
	}
	// The owner still reads its parameter by ARN.
	own := try(mine.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(paramArn), WithDecryption: aws.Bool(true)})).must(t)
	if aws.ToString(own.Parameter.Value) != "hunter3" {
		t.Fatalf("the owner reads %q", aws.ToString(own.Parameter.Value))
	}

	cert, key := selfSigned(t, "mine.example.test")
	certArn := try(mine.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})).must(t).CertificateArn
	_, err = other.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: certArn})
	wantErr[*acmtypes.ResourceNotFoundException](t, err)
	_, err = other.acm.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: certArn})
	wantErr[*acmtypes.ResourceNotFoundException](t, err)
	_, err = other.acm.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{CertificateArn: certArn, Tags: []acmtypes.Tag{{Key: aws.String("k")}}})
	wantErr[*acmtypes.ResourceNotFoundException](t, err)
	try(mine.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: certArn})).must(t)
}

// TestParameterByItsOwnArn: every read takes the ARN that berth answers
// for a parameter, also that of a parameter at the root, whose ARN
// (parameter/top) drops the name's leading slash.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
func TestParameterByItsOwnArn(t *testing.T) {
	ctx, c := setup(t)
	try(c.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/top"), Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString})).must(t)
	arn := aws.ToString(try(c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/top")})).must(t).Parameter.ARN)
	if got := try(c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn + ":1")})).must(t); aws.ToString(got.Parameter.Name) != "/top" {
		t.Fatalf("GetParameter(%s:1) = %+v", arn, got.Parameter)
	}
	if got := try(c.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{arn}})).must(t); len(got.Parameters) != 1 {
		t.Fatalf("GetParameters(%s) = %+v", arn, got)
	}
	if got := try(c.ssm.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(arn)})).must(t); len(got.Parameters) != 1 {
		t.Fatalf("GetParameterHistory(%s) = %+v", arn, got)
	}
}
