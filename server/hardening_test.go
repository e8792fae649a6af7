package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestAuthErrorsInServiceFormat: a signature refused before the operation
// is routed is answered in the called service's format, so that its own
// SDK reads the code: RequestExpired (400) and MissingAuthenticationToken
// (403) are common errors of every service
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
// https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
// EC2's SDK reads only Response>Errors>Error and reported an ELBv2-shaped
// answer as UnknownError, defeating its clock skew correction.
func TestAuthErrorsInServiceFormat(t *testing.T) {
	v := newVerifying(t)
	ctx := context.Background()
	clients := func(creds aws.CredentialsProvider) map[string]func() error {
		ec2c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(v.URL), Credentials: creds, RetryMaxAttempts: 1})
		iamc := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(v.URL), Credentials: creds, RetryMaxAttempts: 1})
		stsc := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(v.URL), Credentials: creds, RetryMaxAttempts: 1})
		cw := cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String(v.URL), Credentials: creds, RetryMaxAttempts: 1})
		return map[string]func() error{
			"EC2":        func() error { _, err := ec2c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err },
			"IAM":        func() error { _, err := iamc.ListUsers(ctx, &iam.ListUsersInput{}); return err },
			"STS":        func() error { _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
			"CloudWatch": func() error { _, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{}); return err },
		}
	}
	v.setClock(time.Now().Add(time.Hour)) // every signature is an hour old
	for name, call := range clients(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")) {
		if code, status := apiError(call()); code != "RequestExpired" || status != http.StatusBadRequest {
			t.Errorf("%s, expired: %s %d, want RequestExpired 400", name, code, status)
		}
	}
	for name, call := range clients(aws.AnonymousCredentials{}) {
		want := "MissingAuthenticationToken"
		if code, status := apiError(call()); (code != want && code != want+"Exception") || status != http.StatusForbidden {
			t.Errorf("%s, unsigned: %s %d, want %s 403", name, code, status, want)
		}
	}
}
