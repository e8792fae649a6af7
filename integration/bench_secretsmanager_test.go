package integration

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	const conc = 8
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bench/db")}); err != nil {
					b.Error(err)
					return
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
}
