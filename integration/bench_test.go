package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// BenchmarkControlPlane measures berth's API through the real SDK clients
// over HTTP: ops/s and p50/p99 latency at concurrency 1 and 8, for writes
// and for reads with 10 and with 1,000 services and tasks present.
// Run it with `make bench`.
func BenchmarkControlPlane(b *testing.B) {
	// The control plane alone: no task runs, so Docker's speed is not measured.
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error", "--runtime", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	ctx, c := context.Background(), srv.clients("us-east-1")
	seed := func(cluster string, n int) []string {
		try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)})).must(&testing.T{})
		// One container instance, as an agent registers it, with room for
		// every task: EC2 tasks are placed on the cluster's instances.
		try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String(cluster), TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1 << 20},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1 << 24},
		}})).must(&testing.T{})
		var names []string
		for i := range n {
			name := fmt.Sprint("svc", i)
			if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String("bench"), DesiredCount: aws.Int32(1)}); err != nil {
				b.Fatal(err)
			}
			names = append(names, name)
		}
		for range n / 10 {
			if _, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String("bench"), Count: aws.Int32(10)}); err != nil {
				b.Fatal(err)
			}
		}
		return names[:10]
	}
	if _, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bench"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")}}); err != nil {
		b.Fatal(err)
	}
	few, many := seed("ten", 10), seed("thousand", 1000)
	vpc := defaultVpcID(b, ctx, c)
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("bench"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})).must(&testing.T{}).TargetGroups[0]

	var seq atomic.Int64
	ops := []struct {
		name string
		call func() error
	}{
		{"RegisterTaskDefinition", func() error {
			_, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bench"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")}})
			return err
		}},
		{"DescribeTaskDefinition", func() error {
			_, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("bench:1")})
			return err
		}},
		{"CreateTargetGroup", func() error {
			_, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprint("tg-", seq.Add(1))), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})
			return err
		}},
		{"DescribeTargetGroups", func() error {
			_, err := c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{*tg.TargetGroupArn}})
			return err
		}},
	}
	for _, size := range []struct {
		n     string
		names []string
	}{{"10", few}, {"1000", many}} {
		cluster := aws.String(map[string]string{"10": "ten", "1000": "thousand"}[size.n])
		ops = append(ops,
			struct {
				name string
				call func() error
			}{"DescribeServices/" + size.n, func() error {
				_, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: cluster, Services: size.names})
				return err
			}},
			struct {
				name string
				call func() error
			}{"ListServices/" + size.n, func() error {
				_, err := c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: cluster})
				return err
			}},
			struct {
				name string
				call func() error
			}{"ListTasks/" + size.n, func() error {
				_, err := c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: cluster})
				return err
			}},
		)
	}
	for _, op := range ops {
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/c%d", op.name, conc), func(b *testing.B) {
				concurrently(b, conc, "ops/s", func(int) error { return op.call() })
			})
		}
	}
}

// concurrently calls call with 0 to b.N-1 from conc goroutines and reports
// the calls per second (as opsUnit) and their p50 and p99 latency.
func concurrently(b *testing.B, conc int, opsUnit string, call func(i int) error) {
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := call(int(i)); err != nil {
					b.Error(err)
					return
				}
				latencies[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), opsUnit)
	b.ReportMetric(float64(latencies[b.N/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[b.N*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkColdStart measures the time from starting the berth binary on a
// fresh data directory to its first served API request.
func BenchmarkColdStart(b *testing.B) {
	var total time.Duration
	for i := range b.N {
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		port, _ := freePort()
		t0 := time.Now()
		srv, err := startOn(dir, port)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		srv.kill()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/start")
}

// startOn starts berth on a fixed port and polls an API call (not just the
// health check) until it is served.
func startOn(dir string, port int) (*berth, error) {
	os.MkdirAll(dir, 0o755)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	b := &berth{url: "http://" + addr, dataDir: dir}
	b.cmd = newCommand("serve", "--listen", addr, "--data-dir", dir, "--log-level", "error")
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	for range 100000 {
		req, _ := http.NewRequest(http.MethodPost, b.url+"/", strings.NewReader(`{}`))
		req.Header = jsonHeader("ListClusters")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return b, nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return nil, fmt.Errorf("berth did not serve on %s", addr)
}

// BenchmarkIdleMemory reports the resident memory of a berth that has
// served the seed walkthrough's resources and then sits idle.
func BenchmarkIdleMemory(b *testing.B) {
	var rss float64
	for range b.N {
		srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error")
		if err != nil {
			b.Fatal(err)
		}
		ctx, c := context.Background(), srv.clients("us-east-1")
		try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("idle")})).must(&testing.T{})
		time.Sleep(time.Second)
		rss = rssMB(srv.cmd.Process.Pid)
		srv.kill()
	}
	b.ReportMetric(rss, "MB-rss")
}
