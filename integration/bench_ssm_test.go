package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// BenchmarkParameterStore measures GetParameter through the SDK over HTTP
// at concurrency 8, with 100 parameters stored (a SecureString read with
// decryption, as ECS reads a task's secrets): ops/s and p50/p99 latency.
// Run it with `make bench`.
func BenchmarkParameterStore(b *testing.B) {
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error", "--runtime", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	ctx, p := context.Background(), srv.clients("us-east-1").ssm
	for i := range 100 {
		if _, err := p.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(fmt.Sprintf("/bench/app/secret%d", i)), Value: aws.String("value"), Type: types.ParameterTypeSecureString}); err != nil {
			b.Fatal(err)
		}
	}
	concurrently(b, 8, "GetParameter-c8-ops/s", func(i int) error {
		_, err := p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(fmt.Sprintf("/bench/app/secret%d", i%100)), WithDecryption: aws.Bool(true)})
		return err
	})
}
