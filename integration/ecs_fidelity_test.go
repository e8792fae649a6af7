package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestECSFidelityTaskDefinitions: ListTaskDefinitions' familyPrefix is
// the full family name; a container health check and an EFS volume are
// stored with their defaults; a Fargate task definition cannot share the
// host's PID namespace.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSVolumeConfiguration.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_definition_pidmode
func TestECSFidelityTaskDefinitions(t *testing.T) {
	ctx, c := setup(t)
	web := webContainer("web")
	web.HealthCheck = &types.HealthCheck{Command: []string{"CMD", "/testapp", "check"}}
	web.MountPoints = []types.MountPoint{{SourceVolume: aws.String("shared"), ContainerPath: aws.String("/data")}}
	for _, family := range []string{"web", "web-worker"} {
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []types.ContainerDefinition{web},
			Volumes: []types.Volume{{Name: aws.String("shared"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String("fs-12345678")}}}})).must(t)
	}
	arns := try(c.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")})).must(t).TaskDefinitionArns
	if len(arns) != 1 || !strings.HasSuffix(arns[0], ":task-definition/web:1") {
		t.Errorf("ListTaskDefinitions familyPrefix=web = %v", arns)
	}
	td := try(c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})).must(t).TaskDefinition
	hc := td.ContainerDefinitions[0].HealthCheck
	if aws.ToInt32(hc.Interval) != 30 || aws.ToInt32(hc.Timeout) != 5 || aws.ToInt32(hc.Retries) != 3 {
		t.Errorf("health check = %+v", hc)
	}
	if root := td.Volumes[0].EfsVolumeConfiguration.RootDirectory; aws.ToString(root) != "/" {
		t.Errorf("EFS rootDirectory = %v", root)
	}
	// The agent's first call answers, in AWS's form.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DiscoverPollEndpoint.html
	poll := try(c.ecs.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{})).must(t)
	if aws.ToString(poll.Endpoint) != "https://ecs-a-1."+c.region+".amazonaws.com/" || aws.ToString(poll.TelemetryEndpoint) == "" {
		t.Errorf("DiscoverPollEndpoint = %+v", poll)
	}
	_, err := c.ecs.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{Cluster: aws.String("no-such-cluster")})
	wantErr[*types.ClusterNotFoundException](t, err)
	_, err = c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("f"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"), PidMode: types.PidModeHost, ContainerDefinitions: []types.ContainerDefinition{webContainer("web")}})
	wantErr[*types.ClientException](t, err)
}

// TestECSFidelityServices: a service that is not found is reported as
// service/<name>; re-creating a service while its namesake drains is
// refused with the text deployment tools match; managed tags name the
// cluster and the service on the tasks; event texts end in one period.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#managed-tags
func TestECSFidelityServices(t *testing.T) {
	ctx, c := setup(t)
	stubborn := app("app")
	stubborn.Environment = []types.KeyValuePair{{Name: aws.String("IGNORE_SIGTERM"), Value: aws.String("1")}}
	stubborn.StopTimeout = aws.Int32(20)
	register(t, ctx, c, "stubborn", types.NetworkModeBridge, stubborn)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("stubborn"),
		DesiredCount: aws.Int32(1), EnableECSManagedTags: true})).must(t)
	stable(t, ctx, c, "c", "api")

	missing := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"unknown"}})).must(t).Failures
	if len(missing) != 1 || aws.ToString(missing[0].Arn) != "arn:aws:ecs:"+c.region+":000000000000:service/unknown" || aws.ToString(missing[0].Reason) != "MISSING" {
		t.Errorf("DescribeServices of a missing service: failures = %+v", missing)
	}

	task := serviceTasks(t, ctx, c, "c", "api")[0]
	tags := try(c.ecs.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(task)})).must(t).Tags
	got := map[string]string{}
	for _, tag := range tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if got["aws:ecs:clusterName"] != "c" || got["aws:ecs:serviceName"] != "api" {
		t.Errorf("a service task's managed tags = %v", got)
	}
	run := runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("stubborn"), EnableECSManagedTags: true, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if len(run.Tags) != 2 || aws.ToString(run.Tags[1].Key) != "aws:ecs:clusterName" {
		t.Errorf("RunTask's task tags = %+v", run.Tags)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: run.TaskArn})).must(t)

	// The task ignores SIGTERM for its 20 s stop timeout: the deleted
	// service drains meanwhile.
	try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), Force: aws.Bool(true)})).must(t)
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("stubborn"), DesiredCount: aws.Int32(0)})
	if e := wantErr[*types.InvalidParameterException](t, err); aws.ToString(e.Message) != "Unable to Start a service that is still Draining." {
		t.Errorf("CreateService while draining: %v", err)
	}
	svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"api"}})).must(t).Services[0]
	for _, e := range svc.Events {
		if strings.HasSuffix(aws.ToString(e.Message), "..") {
			t.Errorf("event %q ends in two periods", aws.ToString(e.Message))
		}
	}
}

// TestECSFidelityStaticPorts: a static host port is the task's from its
// placement on, so a second task wanting it on the one instance is a
// RESOURCE:PORTS failure of the same RunTask, and the instance's
// remaining PORTS lists it.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Failure.html
func TestECSFidelityStaticPorts(t *testing.T) {
	ctx, c := setup(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	fixed := app("app")
	fixed.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(int32(port))}}
	register(t, ctx, c, "fixed", types.NetworkModeBridge, fixed)
	out := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("fixed"), Count: aws.Int32(2)})).must(t)
	if len(out.Tasks) != 1 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:PORTS" {
		t.Fatalf("RunTask count=2 with a static host port = %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	ci := try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c"), ContainerInstances: []string{aws.ToString(out.Tasks[0].ContainerInstanceArn)}})).must(t).ContainerInstances[0]
	reserved := false
	for _, r := range ci.RemainingResources {
		if aws.ToString(r.Name) == "PORTS" {
			reserved = strings.Contains(","+strings.Join(r.StringSetValue, ",")+",", ","+strconv.Itoa(port)+",")
		}
	}
	if !reserved {
		t.Errorf("remaining resources = %+v, want port %d taken", ci.RemainingResources, port)
	}
	running(t, ctx, c, *out.Tasks[0].TaskArn)
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: out.Tasks[0].TaskArn})).must(t)
}

// TestECSFidelityCapacityProviderUpdate: an update that names only the
// managed scaling status keeps the other managed scaling settings, and
// settings outside their documented ranges are refused.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateCapacityProvider.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ManagedScaling.html
func TestECSFidelityCapacityProviderUpdate(t *testing.T) {
	ctx, c := setup(t)
	group := autoScalingGroup(t, ctx, c, "hosts")
	try(c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("asg"), AutoScalingGroupProvider: &types.AutoScalingGroupProvider{
		AutoScalingGroupArn: group.AutoScalingGroupARN,
		ManagedScaling:      &types.ManagedScaling{Status: types.ManagedScalingStatusEnabled, TargetCapacity: aws.Int32(75), MaximumScalingStepSize: aws.Int32(4)},
	}})).must(t)
	cp := try(c.ecs.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String("asg"), AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{
		ManagedScaling: &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled},
	}})).must(t).CapacityProvider
	ms := cp.AutoScalingGroupProvider.ManagedScaling
	if ms.Status != types.ManagedScalingStatusDisabled || aws.ToInt32(ms.TargetCapacity) != 75 || aws.ToInt32(ms.MaximumScalingStepSize) != 4 ||
		aws.ToInt32(ms.MinimumScalingStepSize) != 1 || aws.ToInt32(ms.InstanceWarmupPeriod) != 300 {
		t.Errorf("managed scaling after an update of its status = %+v", ms)
	}
	for _, bad := range []*types.ManagedScaling{{TargetCapacity: aws.Int32(-1)}, {TargetCapacity: aws.Int32(101)}, {MaximumScalingStepSize: aws.Int32(0)}} {
		_, err := c.ecs.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String("asg"), AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedScaling: bad}})
		wantErr[*types.InvalidParameterException](t, err)
	}
}

// TestTaskSetsRunTasks: under the external deployment controller a task
// set runs its share of the service's desired count, registered in its own
// target group, reports its counts and STEADY_STATE, scales with
// UpdateTaskSet, and its tasks stop when it is deleted (blue/green by an
// external controller).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-external.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html
func TestTaskSetsRunTasks(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "sets", 0)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("green", false))
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(2),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})).must(t)
	green := try(c.ecs.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}})).must(t).TaskSet
	describe := func() types.TaskSet {
		return try(c.ecs.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSets: []string{*green.TaskSetArn}})).must(t).TaskSets[0]
	}
	eventually(t, "the task set's 2 tasks running", func() bool {
		ts := describe()
		return ts.RunningCount == 2 && ts.PendingCount == 0 && ts.StabilityStatus == types.StabilityStatusSteadyState
	})
	inService(t, ctx, c, f.tg, 2)
	if body := get(t, f.url+"/"); !strings.Contains(body, `"app":"green"`) {
		t.Fatalf("GET / through the ALB = %s", body)
	}
	if svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"ext"}})).must(t).Services[0]; svc.RunningCount != 2 {
		t.Errorf("service runningCount = %d", svc.RunningCount)
	}

	try(c.ecs.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.Id, Scale: &types.Scale{Value: 50, Unit: types.ScaleUnitPercent}})).must(t)
	eventually(t, "the task set scaled to 1 task", func() bool {
		ts := describe()
		return ts.ComputedDesiredCount == 1 && ts.RunningCount == 1 && len(serviceTasks(t, ctx, c, "c", "ext")) == 1
	})

	try(c.ecs.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.TaskSetArn, Force: aws.Bool(true)})).must(t)
	eventually(t, "the deleted task set's tasks stopped", func() bool { return len(serviceTasks(t, ctx, c, "c", "ext")) == 0 })
}

// TestECSFidelityTaskTags: RunTask with propagateTags TASK_DEFINITION
// gives the task its task definition's tags beside the caller's, and
// ECS's managed aws: tags leave the caller all 50 of a resource's tags.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-propagateTags
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#tag-restrictions
func TestECSFidelityTaskTags(t *testing.T) {
	ctx, c := setup(t)
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("tagged"), ContainerDefinitions: []types.ContainerDefinition{app("app")},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})).must(t)
	var mine []types.Tag
	for i := range 48 {
		mine = append(mine, types.Tag{Key: aws.String("k" + strconv.Itoa(i)), Value: aws.String("v")})
	}
	task := runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("tagged"), PropagateTags: types.PropagateTagsTaskDefinition,
		EnableECSManagedTags: true, Tags: mine})
	got := map[string]string{}
	for _, tag := range try(c.ecs.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: task.TaskArn})).must(t).Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if len(got) != 50 || got["team"] != "web" || got["aws:ecs:clusterName"] != "c" {
		t.Errorf("the task's tags = %v", got)
	}
	// 49 of the caller's and the managed one: a 50th of the caller's fits.
	try(c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: task.TaskArn, Tags: []types.Tag{{Key: aws.String("last"), Value: aws.String("v")}}})).must(t)
	_, err := c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: task.TaskArn, Tags: []types.Tag{{Key: aws.String("one-more"), Value: aws.String("v")}}})
	if e := wantErr[*types.InvalidParameterException](t, err); aws.ToString(e.Message) != "Tag count exceeds the maximum of 50." {
		t.Errorf("a 51st tag: %v", err)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
}

// TestECSFidelityServiceQuotas: a desired count above the 5,000 tasks per
// service and a sixth task set are refused in ECS's words, through the
// aws CLI.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
// https://github.com/aws/containers-roadmap/issues/768
// https://github.com/aws-samples/ecs-bg-external-controller/issues/6
func TestECSFidelityServiceQuotas(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	cli{t: t, url: shared.url, region: c.region}.fails("InvalidParameterException",
		"ecs", "create-service", "--cluster", "c", "--service-name", "big", "--task-definition", "web", "--desired-count", "5001")
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("big"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5001)})
	if e := wantErr[*types.InvalidParameterException](t, err); aws.ToString(e.Message) != "Desired count exceeds limit." {
		t.Errorf("desired count 5001: %v", err)
	}
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(0),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})).must(t)
	in := &ecs.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"), LaunchType: types.LaunchTypeEc2}
	for range 5 {
		try(c.ecs.CreateTaskSet(ctx, in)).must(t)
	}
	_, err = c.ecs.CreateTaskSet(ctx, in)
	if e := wantErr[*types.InvalidParameterException](t, err); aws.ToString(e.Message) != "5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit." {
		t.Errorf("a sixth task set: %v", err)
	}
}

// TestPlacementWithoutRuntime: with `--runtime none` EC2 tasks are placed
// on the cluster's registered container instances as ECS places them: an
// empty cluster refuses RunTask, as users quote ECS ("InvalidParameterException:
// No Container Instances were found in your cluster.",
// https://github.com/aws/amazon-ecs-cli/issues/1122); placed tasks carry
// their containerInstanceArn; a task that fits no instance is a
// RESOURCE:MEMORY failure naming the instance, and remainingResources
// count what placed tasks hold.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Failure.html
func TestPlacementWithoutRuntime(t *testing.T) {
	t.Parallel()
	b := startT(t, t.TempDir(), "--runtime", "none", "--lb-network", "none", "--task-endpoint", "none")
	ctx, c := context.Background(), b.clients("us-east-1")
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("web")}})).must(t)
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")})
	if e := wantErr[*types.InvalidParameterException](t, err); e.ErrorMessage() != "No Container Instances were found in your cluster." {
		t.Errorf("RunTask on an empty cluster: %q", e.ErrorMessage())
	}

	// Room for two tasks of 64 MiB.
	ci := try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c"),
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0123456789abcdef0","availabilityZone":"us-east-1a"}`),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 128},
		}})).must(t).ContainerInstance
	run := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(3)})).must(t)
	if len(run.Tasks) != 2 || len(run.Failures) != 1 {
		t.Fatalf("RunTask count 3 = %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	for _, task := range run.Tasks {
		if aws.ToString(task.ContainerInstanceArn) != *ci.ContainerInstanceArn {
			t.Errorf("task %s on %v, want %s", aws.ToString(task.TaskArn), aws.ToString(task.ContainerInstanceArn), *ci.ContainerInstanceArn)
		}
	}
	if f := run.Failures[0]; aws.ToString(f.Reason) != "RESOURCE:MEMORY" || aws.ToString(f.Arn) != *ci.ContainerInstanceArn {
		t.Errorf("failure = %s %s", aws.ToString(f.Arn), aws.ToString(f.Reason))
	}
	got := try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c"), ContainerInstances: []string{*ci.ContainerInstanceArn}})).must(t).ContainerInstances[0]
	for _, r := range got.RemainingResources {
		if aws.ToString(r.Name) == "MEMORY" && r.IntegerValue != 0 {
			t.Errorf("remaining MEMORY = %d, want 0 (128 - 2 × 64)", r.IntegerValue)
		}
	}
	if got.PendingTasksCount+got.RunningTasksCount != 2 {
		t.Errorf("tasks on the instance: %d pending, %d running", got.PendingTasksCount, got.RunningTasksCount)
	}

	// StartTask onto the full instance fails as RunTask does (the hostile
	// review started one there).
	started := try(c.ecs.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), ContainerInstances: []string{*ci.ContainerInstanceArn}})).must(t)
	if len(started.Tasks) != 0 || len(started.Failures) != 1 || aws.ToString(started.Failures[0].Reason) != "RESOURCE:MEMORY" {
		t.Errorf("StartTask on a full instance = %d tasks, failures %+v", len(started.Tasks), started.Failures)
	}

	// Nothing runs the tasks, yet a stopped one stops, frees its memory
	// for the next, and a cluster whose tasks all stopped can go.
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: run.Tasks[0].TaskArn})).must(t)
	eventually(t, "the task STOPPED", func() bool {
		task := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: []string{*run.Tasks[0].TaskArn}})).must(t).Tasks[0]
		return aws.ToString(task.LastStatus) == "STOPPED" && task.StoppedAt != nil
	})
	again := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")})).must(t)
	if len(again.Tasks) != 1 {
		t.Fatalf("RunTask after a stop: failures %+v", again.Failures)
	}
	for _, task := range append(run.Tasks[1:], again.Tasks...) {
		try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	}
	try(c.ecs.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("c"), ContainerInstance: ci.ContainerInstanceArn, Force: aws.Bool(true)})).must(t)
	eventually(t, "the cluster deleted", func() bool {
		_, err := c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})
		return err == nil
	})
}
