package ecs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// testBackend is a backend on a fresh store with a host of 2 CPUs and
// 2 GiB, whose clock the test moves, and a cluster "c" with task
// definition "web" (128 MiB) registered.
func testBackend(t *testing.T) (*Backend, context.Context, *time.Time) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	env := backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}}
	b := New(store, env, Host{Instance: "0123456789abcdef", CPUs: 2, MemoryMiB: 2048})
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	if _, err := b.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("berth/testapp"), Memory: aws.Int32(128)},
		},
	}); err != nil {
		t.Fatal(err)
	}
	return b, ctx, &now
}

func runTask(t *testing.T, b *Backend, ctx context.Context, in ecsapi.RunTaskInput) *ecsapi.RunTaskOutput {
	t.Helper()
	in.Cluster, in.TaskDefinition = aws.String("c"), aws.String("web")
	out, err := b.RunTask(ctx, &in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func reasons(failures []types.Failure) []string {
	var out []string
	for _, f := range failures {
		out = append(out, aws.ToString(f.Reason))
	}
	return out
}

// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html
func TestPlacementConstraints(t *testing.T) {
	b, ctx, _ := testBackend(t)
	distinct := []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}}

	// One host: of three tasks in one group, one is placed.
	out := runTask(t, b, ctx, ecsapi.RunTaskInput{Count: aws.Int32(3), Group: aws.String("batch"), PlacementConstraints: distinct})
	if len(out.Tasks) != 1 || len(out.Failures) != 2 || out.Failures[0].Arn == nil || reasons(out.Failures)[0] != reasonDistinctInstance {
		t.Fatalf("distinctInstance: %d tasks, failures %v", len(out.Tasks), reasons(out.Failures))
	}
	if out := runTask(t, b, ctx, ecsapi.RunTaskInput{Group: aws.String("batch"), PlacementConstraints: distinct}); len(out.Tasks) != 0 {
		t.Errorf("distinctInstance placed a second task of the group")
	}
	if out := runTask(t, b, ctx, ecsapi.RunTaskInput{Group: aws.String("other"), PlacementConstraints: distinct}); len(out.Tasks) != 1 {
		t.Errorf("distinctInstance kept out a task of another group: %v", reasons(out.Failures))
	}

	memberOf := func(expr string) []types.PlacementConstraint {
		return []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String(expr)}}
	}
	for expr, placed := range map[string]bool{
		"attribute:ecs.os-type == linux":                     true,
		"attribute:ecs.os-type == windows":                   false,
		"attribute:ecs.availability-zone in [us-east-1a]":    true,
		"task:group == batch and runningTasksCount > 0":      false, // no runtime runs them here
		"task:group == batch and not(task:group == nightly)": true,
		"attribute:stack == prod":                            false,
	} {
		out := runTask(t, b, ctx, ecsapi.RunTaskInput{PlacementConstraints: memberOf(expr)})
		if got := len(out.Tasks) == 1; got != placed {
			t.Errorf("memberOf(%s) placed %v, failures %v", expr, got, reasons(out.Failures))
		}
		if !placed && (len(out.Failures) != 1 || *out.Failures[0].Reason != reasonMemberOf) {
			t.Errorf("memberOf(%s) failed with %v", expr, reasons(out.Failures))
		}
	}

	// A custom attribute makes the host a member.
	list, err := b.ListContainerInstances(ctx, &ecsapi.ListContainerInstancesInput{Cluster: aws.String("c")})
	if err != nil || len(list.ContainerInstanceArns) != 1 {
		t.Fatalf("ListContainerInstances = %v, %v", list, err)
	}
	host := list.ContainerInstanceArns[0]
	if _, err := b.PutAttributes(ctx, &ecsapi.PutAttributesInput{Cluster: aws.String("c"), Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(host)},
	}}); err != nil {
		t.Fatal(err)
	}
	if out := runTask(t, b, ctx, ecsapi.RunTaskInput{PlacementConstraints: memberOf("attribute:stack == prod")}); len(out.Tasks) != 1 {
		t.Errorf("memberOf a custom attribute: %v", reasons(out.Failures))
	}

	// The same language filters ListContainerInstances.
	for filter, n := range map[string]int{"attribute:stack == prod": 1, "attribute:stack == dev": 0, "task:group == batch": 1} {
		list, err := b.ListContainerInstances(ctx, &ecsapi.ListContainerInstancesInput{Cluster: aws.String("c"), Filter: aws.String(filter)})
		if err != nil || len(list.ContainerInstanceArns) != n {
			t.Errorf("ListContainerInstances(filter %q) = %v, %v; want %d", filter, list, err, n)
		}
	}

	// Bad constraints are InvalidParameterException, before anything is stored.
	for _, pcs := range [][]types.PlacementConstraint{
		memberOf("attribute:stack =="),
		memberOf(""),
		{{Type: types.PlacementConstraintTypeDistinctInstance, Expression: aws.String("attribute:a == b")}},
		{{Type: "sometimes"}},
	} {
		_, err := b.RunTask(ctx, &ecsapi.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), PlacementConstraints: pcs})
		if !awsproto.HasCode(err, &types.InvalidParameterException{}) {
			t.Errorf("RunTask(%v) = %v, want InvalidParameterException", pcs, err)
		}
	}
	// A task definition takes memberOf only.
	_, err = b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("x"), Memory: aws.Int32(8)}},
		PlacementConstraints: []types.TaskDefinitionPlacementConstraint{{Type: "distinctInstance"}},
	})
	if !awsproto.HasCode(err, &types.ClientException{}) {
		t.Errorf("RegisterTaskDefinition with distinctInstance = %v, want ClientException", err)
	}
}

func TestForgetStoppedTasks(t *testing.T) {
	b, ctx, now := testBackend(t)
	arn := *runTask(t, b, ctx, ecsapi.RunTaskInput{Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}).Tasks[0].TaskArn
	stoppedAt := *now
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var task types.Task
		s := scopeOf(ctx)
		if err := tx.Get(s.Key(kindTask, arn), &task); err != nil {
			return err
		}
		task.DesiredStatus, task.LastStatus, task.StoppedAt = aws.String(statusStopped), aws.String(statusStopped), &stoppedAt
		return putTask(tx, s.Scope, task)
	})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() *ecsapi.DescribeTasksOutput {
		out, err := b.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c"), Tasks: []string{arn}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	*now = stoppedAt.Add(59 * time.Minute)
	if err := b.forgetStoppedTasks(ctx); err != nil {
		t.Fatal(err)
	}
	if len(describe().Tasks) != 1 {
		t.Fatal("a task stopped 59 minutes ago was forgotten")
	}
	*now = stoppedAt.Add(61 * time.Minute)
	if err := b.forgetStoppedTasks(ctx); err != nil {
		t.Fatal(err)
	}
	if out := describe(); len(out.Tasks) != 0 || reasons(out.Failures)[0] != "MISSING" {
		t.Fatalf("a task stopped 61 minutes ago: %d tasks, failures %v", len(out.Tasks), reasons(out.Failures))
	}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(scopeOf(ctx).Key(kindTags, arn)); ok || err != nil {
			t.Errorf("the forgotten task's tags remain (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestForeignARNsNameNothing: an ARN of another region or account names
// no resource of this one, as in AWS, where each region's ECS holds its
// own (https://docs.aws.amazon.com/general/latest/gr/aws-arns-and-namespaces.html).
func TestForeignARNsNameNothing(t *testing.T) {
	b, ctx, _ := testBackend(t)
	for _, ref := range []string{
		"arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1",
		"arn:aws:ecs:us-east-1:210987654321:task-definition/web:1",
	} {
		if _, err := b.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)}); err == nil {
			t.Errorf("DescribeTaskDefinition(%s) found one", ref)
		}
	}
	if _, err := b.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: aws.String("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1")}); err != nil {
		t.Errorf("DescribeTaskDefinition by its own ARN: %v", err)
	}
	out, err := b.DescribeClusters(ctx, &ecsapi.DescribeClustersInput{Clusters: []string{"arn:aws:ecs:eu-west-1:123456789012:cluster/c"}})
	if err != nil || len(out.Clusters) != 0 || len(out.Failures) != 1 {
		t.Errorf("DescribeClusters(another region's ARN) = %+v, %v", out, err)
	}
}
