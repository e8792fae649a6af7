package integration

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// BenchmarkSecretsManagerGetSecretValue measures GetSecretValue through the
// SDK at concurrency 8, on a secret with a few versions, as tasks starting
// with secrets read them.
func BenchmarkSecretsManagerGetSecretValue(b *testing.B) {
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error", "--runtime", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	ctx, sm := context.Background(), srv.clients("us-east-1").secretsmanager
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bench/db"), SecretString: aws.String(`{"user":"app","password":"v0"}`)}); err != nil {
		b.Fatal(err)
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("bench/db"), SecretString: aws.String(`{"user":"app","password":"` + v + `"}`)}); err != nil {
			b.Fatal(err)
		}
	}
	concurrently(b, 8, "ops/s", func(int) error {
		_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bench/db")})
		return err
	})
}
