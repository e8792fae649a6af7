package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// TestTerraformParametersSecrets applies parameters of every type and a
// secret with a version and a policy, reads them back with their data
// sources (and the public ECS AMI parameters, whose AMI EC2 knows), plans
// no changes, and destroys them: the parameters are gone and the secret
// is scheduled for deletion after its recovery window.
func TestTerraformParametersSecrets(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "parameters-secrets", "ca-central-1")
	ctx, c := context.Background(), shared.clients(tf.region)
	tf.lifecycle(func(out map[string]string) {
		if out["db_username"] != "billing" || out["stripe_key"] != "sk_test_51H8x" || !strings.HasPrefix(out["db_secret_name"], "billing-db-") {
			t.Errorf("outputs = %v", out)
		}
		if want := "/billing/allowed-origins,/billing/log-level,/billing/stripe-key,/billing/worker-ami"; out["parameter_names"] != want {
			t.Errorf("parameters by path = %q, want %q", out["parameter_names"], want)
		}
		for _, ami := range []string{out["ami"], out["ami_from_document"]} {
			images := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})).must(t).Images
			if len(images) != 1 {
				t.Errorf("DescribeImages(%s) = %+v", ami, images)
			}
		}
	})
	if left := try(c.ssm.DescribeParameters(ctx, &ssm.DescribeParametersInput{})).must(t).Parameters; len(left) > 0 {
		t.Errorf("parameters left: %+v", left)
	}
	if left := try(c.secretsmanager.ListSecrets(ctx, &secretsmanager.ListSecretsInput{})).must(t).SecretList; len(left) > 0 {
		t.Errorf("secrets listed after destroy: %+v", left)
	}
	planned := try(c.secretsmanager.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})).must(t).SecretList
	if len(planned) != 1 || planned[0].DeletedDate == nil {
		t.Errorf("secrets planned for deletion = %+v", planned)
	}
}
