package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	const conc = 8
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
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
				_, err := p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(fmt.Sprintf("/bench/app/secret%d", i%100)), WithDecryption: aws.Bool(true)})
				if err != nil {
					b.Error(err)
					return
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "GetParameter-c8-ops/s")
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
}
