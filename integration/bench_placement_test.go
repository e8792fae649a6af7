package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Placement at scale (issue 21): a cluster of 1,000 container instances
// as agents register them and 10,000 tasks placed on them by RunTask, 10
// at a time (the most one call places).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
const (
	scaleInstances = 1000
	scaleTasks     = 10000
	scalePerCall   = 10
	// scaleOneMore is how many single tasks are placed, and timed, once
	// the 10,000 are there.
	scaleOneMore = 100
)

// spreadThenBinpack spreads tasks across availability zones, then packs
// each zone's instances by memory: the strategy ECS's documentation gives
// as its example of combining them.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html
var spreadThenBinpack = []types.PlacementStrategy{
	{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")},
	{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")},
}

// BenchmarkPlacementAtScale measures EC2 task placement in a berth without
// a runtime (`--runtime none`, tasks are recorded, never run) on a cluster
// of 1,000 container instances (4 vCPU, 16 GiB, in 3 availability zones):
// the latency of RunTask calls placing 10 tasks each until 10,000 tasks
// are placed (every other call spread across zones then binpacked by
// memory, the others placed by default), per call and per task; then the
// latency of placing one more task, with either, at 10,000 tasks; and the
// CPU time berth spent registering the instances and placing the tasks,
// and its resident memory at the end. Run it with `make bench`.
func BenchmarkPlacementAtScale(b *testing.B) {
	for range b.N {
		placementAtScale(b)
	}
}

func placementAtScale(b *testing.B) {
	t := &testing.T{}
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error", "--runtime", "none", "--lb-network", "none", "--task-endpoint", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	ctx, c := context.Background(), srv.clients("us-east-1")
	pid := srv.cmd.Process.Pid
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("scale")})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("small"), NetworkMode: types.NetworkModeBridge,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(testImage), Memory: aws.Int32(128),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}, // a dynamic host port
		}},
	})).must(t)

	cpu := pidCPU(pid)
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	for i := range scaleInstances {
		zone := zones[i%len(zones)]
		try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster:                  aws.String("scale"),
			InstanceIdentityDocument: aws.String(fmt.Sprintf(`{"instanceId":"i-%017x","availabilityZone":%q}`, i+1, zone)),
			TotalResources: []types.Resource{
				{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 4096},
				{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 16384},
				{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
			},
			Attributes: []types.Attribute{{Name: aws.String("ecs.availability-zone"), Value: aws.String(zone)}},
		})).must(t)
	}
	registering := pidCPU(pid) - cpu

	run := func(count int32, strategy []types.PlacementStrategy) (time.Duration, int) {
		t0 := time.Now()
		out, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("scale"), TaskDefinition: aws.String("small"), Count: aws.Int32(count), PlacementStrategy: strategy})
		took := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Failures) > 0 {
			b.Fatalf("RunTask failures: %s %s", aws.ToString(out.Failures[0].Arn), aws.ToString(out.Failures[0].Reason))
		}
		return took, len(out.Tasks)
	}
	cpu = pidCPU(pid)
	var perCall, perTask []time.Duration
	start := time.Now()
	for i := range scaleTasks / scalePerCall {
		var strategy []types.PlacementStrategy
		if i%2 == 0 {
			strategy = spreadThenBinpack
		}
		took, n := run(scalePerCall, strategy)
		perCall, perTask = append(perCall, took), append(perTask, took/time.Duration(n))
	}
	elapsed, placing := time.Since(start), pidCPU(pid)-cpu

	var oneSpread, oneDefault []time.Duration
	for range scaleOneMore {
		took, _ := run(1, spreadThenBinpack)
		oneSpread = append(oneSpread, took)
		took, _ = run(1, nil)
		oneDefault = append(oneDefault, took)
	}
	// Every task is on an instance: the instances' task counts add up.
	if n := placedByZone(b, ctx, c); n[0]+n[1]+n[2] != scaleTasks+2*scaleOneMore {
		b.Errorf("tasks by zone = %v, want %d in all", n, scaleTasks+2*scaleOneMore)
	}

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(ds []time.Duration, p int) float64 {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ms(ds[len(ds)*p/100])
	}
	b.ReportMetric(pct(perCall, 50), "p50-ms/call")
	b.ReportMetric(pct(perCall, 99), "p99-ms/call")
	b.ReportMetric(pct(perTask, 50), "p50-ms/task")
	b.ReportMetric(pct(perTask, 99), "p99-ms/task")
	b.ReportMetric(scaleTasks/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(pct(oneSpread, 50), "p50-ms/one-more-spread-binpack")
	b.ReportMetric(pct(oneSpread, 99), "p99-ms/one-more-spread-binpack")
	b.ReportMetric(pct(oneDefault, 50), "p50-ms/one-more-default")
	b.ReportMetric(pct(oneDefault, 99), "p99-ms/one-more-default")
	b.ReportMetric(registering.Seconds(), "cpu-s/registering")
	b.ReportMetric(placing.Seconds(), "cpu-s/placing")
	b.ReportMetric(rssMB(pid), "MB-rss")
}

// placedByZone counts the tasks on the instances of each availability
// zone, a to c, from the instances' task counts.
func placedByZone(b *testing.B, ctx context.Context, c clients) []int {
	byZone := make([]int, 3)
	var next *string
	for {
		page, err := c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("scale"), NextToken: next})
		if err != nil {
			b.Fatal(err)
		}
		d, err := c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("scale"), ContainerInstances: page.ContainerInstanceArns})
		if err != nil {
			b.Fatal(err)
		}
		for _, ci := range d.ContainerInstances {
			for _, a := range ci.Attributes {
				if aws.ToString(a.Name) == "ecs.availability-zone" {
					byZone[aws.ToString(a.Value)[len("us-east-1")]-'a'] += int(ci.RunningTasksCount + ci.PendingTasksCount)
				}
			}
		}
		if next = page.NextToken; next == nil {
			return byZone
		}
	}
}
