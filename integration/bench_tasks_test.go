package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// benchBerth starts a berth with the Docker runtime and a cluster "c" with
// the task definition "web" of the test image.
func benchBerth(b *testing.B) (*berth, context.Context, clients) {
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		srv.kill()
		srv.removeContainers()
	})
	ctx, c := context.Background(), srv.clients("us-east-1")
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(&testing.T{})
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
	})).must(&testing.T{})
	return srv, ctx, c
}

// poll calls cond every 5 ms until it holds.
func poll(b *testing.B, cond func() bool) {
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
	}
}

func lastStatus(ctx context.Context, c clients, arns ...string) []string {
	d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range d.Tasks {
		out = append(out, aws.ToString(t.LastStatus))
	}
	return out
}

func reportLatencies(b *testing.B, took []time.Duration, unit string) {
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms/"+unit)
	b.ReportMetric(ms(took[len(took)*99/100]), "p99-ms/"+unit)
}

// BenchmarkRunTask measures RunTask until the task is RUNNING (as
// DescribeTasks reports it) with a local image, one task at a time.
func BenchmarkRunTask(b *testing.B) {
	_, ctx, c := benchBerth(b)
	var took []time.Duration
	for range b.N {
		t0 := time.Now()
		arn := *try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")})).must(&testing.T{}).Tasks[0].TaskArn
		poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"RUNNING"}) })
		took = append(took, time.Since(t0))
		b.StopTimer()
		c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: &arn})
		poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"STOPPED"}) })
		b.StartTimer()
	}
	reportLatencies(b, took, "RunTask-to-RUNNING")
}

// BenchmarkServiceSteady measures CreateService until the service is
// stable (one deployment, runningCount = desiredCount) for 1 and 10 tasks.
func BenchmarkServiceSteady(b *testing.B) {
	for _, n := range []int32{1, 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, ctx, c := benchBerth(b)
			var took []time.Duration
			for i := range b.N {
				name := fmt.Sprint("svc", i)
				t0 := time.Now()
				try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: &name, TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(n)})).must(&testing.T{})
				poll(b, func() bool {
					d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})
					return err == nil && len(d.Services[0].Deployments) == 1 && d.Services[0].RunningCount == n
				})
				took = append(took, time.Since(t0))
				b.StopTimer()
				try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: &name, Force: aws.Bool(true)})).must(&testing.T{})
				poll(b, func() bool {
					d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})
					return err == nil && aws.ToString(d.Services[0].Status) == "INACTIVE"
				})
				b.StartTimer()
			}
			reportLatencies(b, took, "CreateService-to-steady")
		})
	}
}

// BenchmarkRunningMemory reports berth's resident memory while a service
// of 50 tasks runs.
func BenchmarkRunningMemory(b *testing.B) {
	var mb float64
	for range b.N {
		srv, ctx, c := benchBerth(b)
		try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("fifty"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(50)})).must(&testing.T{})
		poll(b, func() bool {
			d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"fifty"}})
			return err == nil && d.Services[0].RunningCount == 50
		})
		time.Sleep(time.Second)
		mb = rssMB(srv.cmd.Process.Pid)
	}
	b.ReportMetric(mb, "MB-rss-50-tasks")
}

// rssMB is a process's resident memory in MiB.
func rssMB(pid int) float64 {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
