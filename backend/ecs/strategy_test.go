package ecs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// threeZones is a backend without a runtime whose cluster "c" has three
// registered instances, one per zone, of 1,024 MiB, the first with 512
// MiB already used by a task of another group; and task definition "web"
// of 128 MiB.
func threeZones(t *testing.T) (*Backend, context.Context, []string) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	b := New(store, backend.Env{Clock: func() time.Time { now = now.Add(time.Second); return now }, IDs: &backend.SequentialIDs{}})
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	if _, err := b.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, zone := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		out, err := b.RegisterContainerInstance(ctx, &ecsapi.RegisterContainerInstanceInput{Cluster: aws.String("c"),
			TotalResources: []types.Resource{{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1024}},
			Attributes:     []types.Attribute{{Name: aws.String("ecs.availability-zone"), Value: aws.String(zone)}}})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *out.ContainerInstance.ContainerInstanceArn)
	}
	for family, mib := range map[string]int32{"web": 128, "big": 512} {
		if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: aws.String(family),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("app"), Memory: aws.Int32(mib)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.StartTask(ctx, &ecsapi.StartTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("big"), ContainerInstances: arns[:1]}); err != nil {
		t.Fatal(err)
	}
	return b, ctx, arns
}

// placed counts the tasks of group web per instance.
func placed(t *testing.T, tasks []types.Task, arns []string) []int {
	t.Helper()
	counts := make([]int, len(arns))
	for _, task := range tasks {
		for i, arn := range arns {
			if aws.ToString(task.ContainerInstanceArn) == arn {
				counts[i]++
			}
		}
	}
	return counts
}

// TestPlacementStrategies: spread by zone puts a group's tasks evenly
// across the zones, binpack by memory fills the instance with the least
// memory left first, as the ECS guide describes them
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html);
// without a strategy the oldest instance that fits takes the task.
func TestPlacementStrategies(t *testing.T) {
	for _, c := range []struct {
		name     string
		strategy []types.PlacementStrategy
		count    int32
		want     []int
	}{
		{"spread by zone", []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}, 6, []int{2, 2, 2}},
		{"spread by instance", []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("instanceId")}}, 3, []int{1, 1, 1}},
		// The first instance has 512 MiB left, the others 1,024: four
		// tasks of 128 fill it before the next is used.
		{"binpack memory", []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}, 5, []int{4, 1, 0}},
		{"none", nil, 3, []int{3, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, ctx, arns := threeZones(t)
			out, err := b.RunTask(ctx, &ecsapi.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(c.count), PlacementStrategy: c.strategy})
			if err != nil || len(out.Failures) > 0 {
				t.Fatalf("RunTask: %v %+v", err, out)
			}
			got := placed(t, out.Tasks, arns)
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("tasks per instance = %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestRunTaskIdempotent: a RunTask retried with its clientToken answers
// the first call's tasks and starts no more
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-clientToken);
// another token starts others.
func TestRunTaskIdempotent(t *testing.T) {
	b, ctx, _ := threeZones(t)
	run := func(token string) []types.Task {
		out, err := b.RunTask(ctx, &ecsapi.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(2), ClientToken: aws.String(token)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Tasks
	}
	first, again, other := run("once"), run("once"), run("twice")
	if len(again) != 2 || *again[0].TaskArn != *first[0].TaskArn || *again[1].TaskArn != *first[1].TaskArn {
		t.Fatalf("retried RunTask = %v, first %v", again, first)
	}
	if *other[0].TaskArn == *first[0].TaskArn {
		t.Fatal("another token answered the first call's tasks")
	}
	list, err := b.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c"), Family: aws.String("web")})
	if err != nil || len(list.TaskArns) != 4 {
		t.Fatalf("tasks of web: %v %v, want 4", list, err)
	}
}
