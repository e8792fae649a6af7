package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// These tests run ECS services of the test image on the local Docker
// Engine and check them against Docker itself.

func createService(t *testing.T, ctx context.Context, c clients, name, family string, count int32) types.Service {
	t.Helper()
	return *try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String(name), TaskDefinition: aws.String(family), DesiredCount: aws.Int32(count),
	})).must(t).Service
}

func describeService(t *testing.T, ctx context.Context, c clients, name string) types.Service {
	t.Helper()
	return try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})).must(t).Services[0]
}

// serviceTasks lists the service's tasks that should run.
func serviceTasks(t *testing.T, ctx context.Context, c clients, cluster, service string) []string {
	t.Helper()
	return try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service)})).must(t).TaskArns
}

// containersOf lists the ids of the running containers of b's tasks in
// the cluster, by Docker's labels.
func containersOf(b *berth, region, cluster string) []string {
	ids := dockerLines("ps", "-q", "--no-trunc", "--filter", "label=berth.instance="+b.instance,
		"--filter", "label=berth.region="+region, "--filter", "label=berth.cluster="+cluster)
	slices.Sort(ids)
	return ids
}

// eventually polls cond every 50 ms for up to a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func TestServiceScales(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 3)
	for _, n := range []int32{3, 5, 1} {
		if n != 3 {
			try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), DesiredCount: aws.Int32(n)})).must(t)
		}
		stable(t, ctx, c, "c", "web")
		svc := describeService(t, ctx, c, "web")
		if svc.RunningCount != n || svc.PendingCount != 0 || len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateCompleted {
			t.Fatalf("service at %d = %s", n, taskJSON(svc))
		}
		eventually(t, "Docker runs the desired count", func() bool { return len(containersOf(shared, c.region, "c")) == int(n) })
	}
	svc := describeService(t, ctx, c, "web")
	var messages []string
	for _, e := range svc.Events {
		messages = append(messages, aws.ToString(e.Message))
	}
	all := strings.Join(messages, "\n")
	for _, want := range []string{"(service web) has started 3 tasks:", "(service web) has started 2 tasks:", "(service web) has stopped 4 running tasks:", "(service web) has reached a steady state."} {
		if !strings.Contains(all, want) {
			t.Errorf("no event %q in\n%s", want, all)
		}
	}
	// Deleting the service stops its tasks, then it is INACTIVE.
	try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), Force: aws.Bool(true)})).must(t)
	inactive := ecs.NewServicesInactiveWaiter(c.ecs, func(o *ecs.ServicesInactiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := inactive.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"web"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if left := containersOf(shared, c.region, "c"); len(left) != 0 {
		t.Fatalf("containers left: %v", left)
	}
}

func TestKilledContainerReplaced(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 1)
	stable(t, ctx, c, "c", "web")
	victim := serviceTasks(t, ctx, c, "c", "web")[0]
	if err := exec.Command("docker", append([]string{"kill"}, containersOf(shared, c.region, "c")...)...).Run(); err != nil {
		t.Fatal(err)
	}
	task := stopped(t, ctx, c, victim)
	if task.StopCode != types.TaskStopCodeEssentialContainerExited || aws.ToInt32(task.Containers[0].ExitCode) != 137 {
		t.Fatalf("killed task = %s", taskJSON(task))
	}
	eventually(t, "a replacement runs", func() bool {
		tasks := serviceTasks(t, ctx, c, "c", "web")
		return len(tasks) == 1 && tasks[0] != victim && describeService(t, ctx, c, "web").RunningCount == 1
	})
}

func TestUnhealthyTaskReplaced(t *testing.T) {
	ctx, c := setup(t)
	checked := app("app")
	// The shortest interval and timeout ECS takes: 5 and 2 seconds.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
	checked.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/app", "check"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	register(t, ctx, c, "checked", types.NetworkModeBridge, checked)
	createService(t, ctx, c, "web", "checked", 1)
	stable(t, ctx, c, "c", "web")
	arn := serviceTasks(t, ctx, c, "c", "web")[0]
	task := waitTask(t, ctx, c, arn, func(t types.Task) bool { return t.HealthStatus == types.HealthStatusHealthy })
	if task.Containers[0].HealthStatus != types.HealthStatusHealthy {
		t.Fatalf("healthy task = %s", taskJSON(task))
	}
	postApp(t, hostURL(t, task)+"/health/fail")
	task = stopped(t, ctx, c, arn)
	if aws.ToString(task.StoppedReason) != "Task failed container health checks" || task.HealthStatus != types.HealthStatusUnhealthy {
		t.Fatalf("unhealthy task = %s", taskJSON(task))
	}
	eventually(t, "a healthy replacement", func() bool {
		tasks := serviceTasks(t, ctx, c, "c", "web")
		return len(tasks) == 1 && tasks[0] != arn && waitTask(t, ctx, c, tasks[0], func(types.Task) bool { return true }).HealthStatus == types.HealthStatusHealthy
	})
}

func TestDaemonService(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "agent", types.NetworkModeBridge, app("app"))
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("agent"), TaskDefinition: aws.String("agent"), SchedulingStrategy: types.SchedulingStrategyDaemon,
	})).must(t)
	stable(t, ctx, c, "c", "agent")
	// One container instance (the Docker host), so one task.
	if svc := describeService(t, ctx, c, "agent"); svc.DesiredCount != 1 || svc.RunningCount != 1 {
		t.Fatalf("daemon service = %s", taskJSON(svc))
	}
}

// TestDistinctInstanceService: on one container instance, a service of 2
// with distinctInstance runs one task and says why not the other.
func TestDistinctInstanceService(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}},
	})).must(t)
	eventually(t, "one running task and a placement event", func() bool {
		svc := describeService(t, ctx, c, "web")
		return svc.RunningCount == 1 && slices.ContainsFunc(svc.Events, func(e types.ServiceEvent) bool {
			return strings.Contains(aws.ToString(e.Message), `encountered error "DistinctInstance placement constraint unsatisfied."`)
		})
	})
	if n := len(serviceTasks(t, ctx, c, "c", "web")); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
}

func TestRollingDeployment(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 2)
	stable(t, ctx, c, "c", "web")
	before := serviceTasks(t, ctx, c, "c", "web")
	// A new revision rolls a deployment that replaces every task.
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	svc := *try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t).Service
	if len(svc.Deployments) != 2 || aws.ToString(svc.Deployments[1].Status) != "ACTIVE" {
		t.Fatalf("deployments = %s", taskJSON(svc.Deployments))
	}
	stable(t, ctx, c, "c", "web")
	after := serviceTasks(t, ctx, c, "c", "web")
	if len(after) != 2 || slices.ContainsFunc(after, func(a string) bool { return slices.Contains(before, a) }) {
		t.Fatalf("tasks before %v, after %v", before, after)
	}
	for _, arn := range after {
		if td := aws.ToString(waitTask(t, ctx, c, arn, status("RUNNING")).TaskDefinitionArn); !strings.HasSuffix(td, "web:2") {
			t.Fatalf("task %s runs %s", arn, td)
		}
	}
	// A change that does not roll (the desired count) keeps the deployment.
	svc = *try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), DesiredCount: aws.Int32(2)})).must(t).Service
	if len(svc.Deployments) != 1 {
		t.Fatalf("deployments = %s", taskJSON(svc.Deployments))
	}
}

// TestRestartAdoptsContainers kills berth while a service of 3 runs,
// removes one container while it is down, and restarts it: the other two
// containers are adopted as they are, the removed one's task is STOPPED
// and replaced, and nothing is left over.
func TestRestartAdoptsContainers(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	b := startT(t, dir)
	ctx, c := context.Background(), b.clients("us-east-1")
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "web", "web", 3)
	stable(t, ctx, c, "c", "web")
	tasks := serviceTasks(t, ctx, c, "c", "web")
	containers := containersOf(b, "us-east-1", "c")
	if len(containers) != 3 {
		t.Fatalf("containers = %v", containers)
	}
	vanished := dockerLines("inspect", "-f", `{{index .Config.Labels "berth.task-arn"}}`, containers[0])[0]
	b.kill() // SIGKILL
	exec.Command("docker", "rm", "-f", containers[0]).Run()

	b = startT(t, dir)
	c = b.clients("us-east-1")
	if task := stopped(t, ctx, c, vanished); task.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Fatalf("vanished task = %s", taskJSON(task))
	}
	stable(t, ctx, c, "c", "web")
	eventually(t, "Docker runs 3 containers", func() bool { return len(containersOf(b, "us-east-1", "c")) == 3 })
	now := containersOf(b, "us-east-1", "c")
	kept := slices.DeleteFunc(slices.Clone(now), func(id string) bool { return !slices.Contains(containers, id) })
	if len(kept) != 2 || slices.Contains(now, containers[0]) {
		t.Fatalf("containers before %v, after %v", containers, now)
	}
	after := serviceTasks(t, ctx, c, "c", "web")
	if len(after) != 3 || slices.Contains(after, vanished) || len(slices.DeleteFunc(slices.Clone(after), func(a string) bool { return !slices.Contains(tasks, a) })) != 2 {
		t.Fatalf("tasks before %v, after %v", tasks, after)
	}
	// No container of berth's is left but the service's.
	if all := dockerLines("ps", "-aq", "--filter", "label=berth.instance="+b.instance); len(all) != 3 {
		t.Fatalf("berth's containers = %v", all)
	}
}
