package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Races in a task's lifecycle: what was asked of a task while it started,
// or what happened to its containers while berth was down, wins over
// starting it.

// dockerTime is a point in time as docker events --since/--until take it.
func dockerTime(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// containerEvents lists the Docker events of one kind (create, start, ...)
// since then, until now, of b's containers whose label key has value.
func containerEvents(b *berth, since time.Time, event, key, value string) []string {
	// Filters of one key are ORed by docker events: the instance label
	// filters, the other is matched here.
	lines := dockerLines("events", "--since", dockerTime(since), "--until", dockerTime(time.Now()),
		"--filter", "type=container", "--filter", "event="+event, "--filter", "label=berth.instance="+b.instance,
		"--format", `{{.ID}}/{{index .Actor.Attributes "`+key+`"}}`)
	var ids []string
	for _, l := range lines {
		if id, v, _ := strings.Cut(l, "/"); v == value {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestContainerRemovedWhileDown: the container of a service's task is
// removed while berth is stopped. Started again, berth finds the task's
// essential container gone: the task has STOPPED, as the ECS agent
// decides for a container it cannot find by its saved id
// (ContainerVanishedError), with the stop code and reason of an essential
// container that exited (stopped-task-error-codes.html:
// EssentialContainerExited, "Essential container in task exited"). No new
// container is made for it, and the service replaces it.
func TestContainerRemovedWhileDown(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	b := startT(t, dir)
	ctx, c := context.Background(), b.clients("us-east-1")
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 1)
	stable(t, ctx, c, "c", "web")
	arn := serviceTasks(t, ctx, c, "c", "web")[0]
	victim := running(t, ctx, c, arn)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	if out := dockerLines("rm", "-f", aws.ToString(victim.Containers[0].RuntimeId)); len(out) != 1 {
		t.Fatalf("docker rm: %v", out)
	}
	restarted := time.Now()
	b = startT(t, dir)
	c = b.clients("us-east-1")

	task := stopped(t, ctx, c, arn)
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToString(task.StoppedReason) != "Essential container in task exited" {
		t.Fatalf("stopCode %q, stoppedReason %q", task.StopCode, aws.ToString(task.StoppedReason))
	}
	if r := aws.ToString(task.Containers[0].Reason); r != "ContainerVanishedError: No container matching saved ID found" {
		t.Fatalf("container reason %q", r)
	}
	eventually(t, "a replacement task", func() bool {
		now := serviceTasks(t, ctx, c, "c", "web")
		return len(now) == 1 && now[0] != arn
	})
	running(t, ctx, c, serviceTasks(t, ctx, c, "c", "web")[0])
	if made := containerEvents(b, restarted, "create", "berth.task-arn", arn); len(made) > 0 {
		t.Fatalf("containers %v were created for the stopped task", made)
	}
	if left := dockerLines("ps", "-aq", "--filter", "label=berth.task-arn="+arn); len(left) > 0 {
		t.Fatalf("containers %v of the stopped task remain", left)
	}
}

// TestStopRightAfterRun: tasks stopped at once after RunTask never start
// a container, and end STOPPED as their user asked.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
func TestStopRightAfterRun(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	began := time.Now()
	tasks := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(5)})).must(t).Tasks
	for _, task := range tasks {
		try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	}
	for _, task := range tasks {
		got := stopped(t, ctx, c, *task.TaskArn)
		if got.StopCode != types.TaskStopCodeUserInitiated || aws.ToString(got.StoppedReason) != "Task stopped by user" {
			t.Fatalf("stopCode %q, stoppedReason %q", got.StopCode, aws.ToString(got.StoppedReason))
		}
		if started := containerEvents(shared, began, "start", "berth.task-arn", *task.TaskArn); len(started) > 0 {
			t.Fatalf("task %s started containers %v after it was stopped", *task.TaskArn, started)
		}
		if left := dockerLines("ps", "-aq", "--filter", "label=berth.task-arn="+*task.TaskArn); len(left) > 0 {
			t.Fatalf("containers %v of a stopped task remain", left)
		}
	}
}

// TestDeleteServiceRightAfterCreate: a service deleted (force) at once
// after it was created stops its tasks, and none of its tasks, nor any
// new one, starts after the deletion.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
func TestDeleteServiceRightAfterCreate(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 4)
	try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), Force: aws.Bool(true)})).must(t)
	deleted := time.Now()
	all := func() []string {
		var arns []string
		for _, status := range []types.DesiredStatus{types.DesiredStatusRunning, types.DesiredStatusStopped} {
			arns = append(arns, try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), DesiredStatus: status})).must(t).TaskArns...)
		}
		slices.Sort(arns)
		return arns
	}
	eventually(t, "the service INACTIVE and its tasks STOPPED", func() bool {
		if aws.ToString(describeService(t, ctx, c, "web").Status) != "INACTIVE" {
			return false
		}
		arns := all()
		if len(arns) == 0 {
			return true
		}
		for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks {
			if aws.ToString(task.LastStatus) != "STOPPED" {
				return false
			}
		}
		return true
	})
	before := all()
	time.Sleep(5 * time.Second) // a task that would start late has had time to
	if after := all(); !slices.Equal(before, after) {
		t.Fatalf("tasks %v became %v after the service was deleted", before, after)
	}
	if started := containerEvents(shared, deleted, "start", "berth.region", c.region); len(started) > 0 {
		t.Fatalf("containers %v started after the service was deleted", started)
	}
	if left := containersOf(shared, c.region, "c"); len(left) > 0 {
		t.Fatalf("containers %v remain", left)
	}
}
