package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// These tests run real containers of the test image (integration/testapp)
// on the local Docker Engine, through berth's ECS API.

// app is a container of the test image.
func app(name string, args ...string) types.ContainerDefinition {
	c := webContainer(name)
	c.Command = args
	return c
}

// register registers a task definition of the containers in cluster "c".
func register(t *testing.T, ctx context.Context, c clients, family string, mode types.NetworkMode, containers ...types.ContainerDefinition) {
	t.Helper()
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode, ContainerDefinitions: containers,
	})).must(t)
}

func runTask(t *testing.T, ctx context.Context, c clients, in *ecs.RunTaskInput) types.Task {
	t.Helper()
	in.Cluster = aws.String("c")
	out := try(c.ecs.RunTask(ctx, in)).must(t)
	if len(out.Tasks) != 1 || len(out.Failures) != 0 {
		t.Fatalf("RunTask = %+v", out)
	}
	return out.Tasks[0]
}

// waitTask polls the task until cond holds, failing after a minute.
func waitTask(t *testing.T, ctx context.Context, c clients, arn string, cond func(types.Task) bool) types.Task {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		d := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(clusterOf(arn)), Tasks: []string{arn}})).must(t)
		if len(d.Tasks) == 1 && cond(d.Tasks[0]) {
			return d.Tasks[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("task never reached the condition: %s", taskJSON(d.Tasks))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func taskJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func status(s string) func(types.Task) bool {
	return func(t types.Task) bool { return aws.ToString(t.LastStatus) == s }
}

// running waits for RUNNING with the SDK's own TasksRunning waiter.
func running(t *testing.T, ctx context.Context, c clients, arn string) types.Task {
	t.Helper()
	w := ecs.NewTasksRunningWaiter(c.ecs, func(o *ecs.TasksRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(clusterOf(arn)), Tasks: []string{arn}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return out.Tasks[0]
}

func stopped(t *testing.T, ctx context.Context, c clients, arn string) types.Task {
	t.Helper()
	w := ecs.NewTasksStoppedWaiter(c.ecs, func(o *ecs.TasksStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(clusterOf(arn)), Tasks: []string{arn}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return out.Tasks[0]
}

// clusterOf is the cluster name in a task ARN.
func clusterOf(arn string) string { return strings.Split(arn, "/")[1] }

// stable waits with the SDK's ServicesStable waiter.
func stable(t *testing.T, ctx context.Context, c clients, cluster string, services ...string) {
	t.Helper()
	w := ecs.NewServicesStableWaiter(c.ecs, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: services}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// get fetches url and returns its body, failing the test on an error.
//
// A task is RUNNING once its container has started, a moment before its
// server listens: until then the connection fails (refused, or closed by
// Docker's port proxy), and get tries again, for up to 10 s.
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return string(body)
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postApp sends an empty POST to the test app at url.
func postApp(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// hostURL is the address of the task's first container port on the host.
func hostURL(t *testing.T, task types.Task) string {
	t.Helper()
	b := task.Containers[0].NetworkBindings
	if len(b) != 1 || aws.ToInt32(b[0].ContainerPort) != 8080 || aws.ToInt32(b[0].HostPort) == 0 {
		t.Fatalf("networkBindings = %s", taskJSON(b))
	}
	return fmt.Sprintf("http://127.0.0.1:%d", *b[0].HostPort)
}

func TestRunTaskBridgeDynamicPort(t *testing.T) {
	ctx, c := setup(t)
	web := app("web")
	web.Environment = []types.KeyValuePair{{Name: aws.String("APP_NAME"), Value: aws.String("hello")}}
	web.DockerLabels = map[string]string{"team": "a"}
	register(t, ctx, c, "web", types.NetworkModeBridge, web)
	task := runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
	if aws.ToString(task.LastStatus) != "PROVISIONING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
		t.Fatalf("RunTask task = %s", taskJSON(task))
	}
	task = running(t, ctx, c, *task.TaskArn)
	if task.StartedAt == nil || task.PullStartedAt == nil || task.PullStoppedAt == nil || task.Connectivity != types.ConnectivityConnected {
		t.Fatalf("running task = %s", taskJSON(task))
	}
	// The task's container is really there, and answers on the port Docker chose.
	url := hostURL(t, task)
	var who struct{ Hostname, App string }
	if err := json.Unmarshal([]byte(get(t, url+"/")), &who); err != nil || who.App != "hello" ||
		!strings.HasPrefix(aws.ToString(task.Containers[0].RuntimeId), who.Hostname) {
		t.Fatalf("GET / = %+v %v (runtimeId %s)", who, err, aws.ToString(task.Containers[0].RuntimeId))
	}
	labels := dockerLines("inspect", "-f", "{{index .Config.Labels \"berth.task-arn\"}} {{index .Config.Labels \"team\"}} {{index .Config.Labels \"berth.task-definition\"}}", aws.ToString(task.Containers[0].RuntimeId))
	if !slices.Equal(labels, []string{*task.TaskArn, "a", "web:1"}) {
		t.Fatalf("container labels = %v", labels)
	}
	task = stopped(t, ctx, c, *try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t).Task.TaskArn)
	if aws.ToString(task.StoppedReason) != "Task stopped by user" || task.StopCode != types.TaskStopCodeUserInitiated || task.StoppedAt == nil || task.StoppingAt == nil {
		t.Fatalf("stopped task = %s", taskJSON(task))
	}
	if left := dockerLines("ps", "-aq", "--filter", "label=berth.task-arn="+*task.TaskArn); len(left) != 0 {
		t.Fatalf("containers left after STOPPED: %v", left)
	}
}

func TestRunTaskAwsvpc(t *testing.T) {
	ctx, c := setup(t)
	web := app("web")
	web.PortMappings[0].HostPort = nil // awsvpc: the container port
	// A sidecar with a port of its own, as a log router has: it joins the
	// first container's network namespace, where its port is.
	side := app("side", "exit", "0", "1h")
	side.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(2020)}}
	register(t, ctx, c, "vpc", types.NetworkModeAwsvpc, web, side)
	subnet := subnets(t, ctx, c)[0]
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("vpc"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{"subnet-0123456789abcdef0"}}}})
	if e := wantErr[*types.InvalidParameterException](t, err); !strings.Contains(aws.ToString(e.Message), "InvalidSubnetID.NotFound") {
		t.Fatalf("RunTask in an unknown subnet: %v", e)
	}
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("vpc"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{subnet}, SecurityGroups: []string{"sg-0123456789abcdef0"}}}})
	if e := wantErr[*types.InvalidParameterException](t, err); !strings.Contains(aws.ToString(e.Message), "InvalidGroup.NotFound") {
		t.Fatalf("RunTask with an unknown security group: %v", e)
	}
	task := runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("vpc"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{subnet}}}})
	task = running(t, ctx, c, *task.TaskArn)
	details := map[string]string{}
	for _, d := range task.Attachments[0].Details {
		details[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	ip := details["privateIPv4Address"]
	if aws.ToString(task.Attachments[0].Status) != "ATTACHED" || ip == "" || !strings.HasPrefix(details["networkInterfaceId"], "eni-") || details["subnetId"] != subnet {
		t.Fatalf("ENI attachment = %s", taskJSON(task.Attachments))
	}
	for _, ctr := range task.Containers {
		if len(ctr.NetworkInterfaces) != 1 || aws.ToString(ctr.NetworkInterfaces[0].PrivateIpv4Address) != ip {
			t.Fatalf("container %s networkInterfaces = %s", aws.ToString(ctr.Name), taskJSON(ctr.NetworkInterfaces))
		}
	}
	// EC2 lists the task's interface while it holds it.
	eni := details["networkInterfaceId"]
	enis := try(c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})).must(t).NetworkInterfaces
	if len(enis) != 1 || aws.ToString(enis[0].PrivateIpAddress) != ip || aws.ToString(enis[0].SubnetId) != subnet || enis[0].VpcId == nil ||
		!aws.ToBool(enis[0].RequesterManaged) || enis[0].Status != ec2types.NetworkInterfaceStatusInUse {
		t.Fatalf("the task's network interface = %+v", enis)
	}
	// The private IP reaches the task from the host.
	if body := get(t, "http://"+ip+":8080/health"); strings.TrimSpace(body) != "ok" {
		t.Fatalf("GET %s/health = %q", ip, body)
	}
	// The task reaches its metadata, which reports the task's interface.
	var self struct {
		Networks []struct {
			NetworkMode   string
			IPv4Addresses []string
		}
	}
	decode(t, get(t, "http://"+ip+":8080/metadata?path="), &self)
	if len(self.Networks) != 1 || self.Networks[0].NetworkMode != "awsvpc" || !slices.Equal(self.Networks[0].IPv4Addresses, []string{ip}) {
		t.Fatalf("awsvpc container metadata = %+v", self)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	stopped(t, ctx, c, *task.TaskArn)
	_, err = c.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	wantEC2Code(t, err, "InvalidNetworkInterfaceID.NotFound")
}

func TestEssentialContainerExit(t *testing.T) {
	ctx, c := setup(t)
	helper := app("helper")
	helper.Essential = aws.Bool(false)
	register(t, ctx, c, "exits", types.NetworkModeBridge, app("main", "exit", "3", "1s"), helper)
	task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("exits")}).TaskArn)
	if aws.ToString(task.StoppedReason) != "Essential container in task exited" || task.StopCode != types.TaskStopCodeEssentialContainerExited {
		t.Fatalf("stopped task = %s", taskJSON(task))
	}
	codes := map[string]int32{}
	for _, ctr := range task.Containers {
		codes[aws.ToString(ctr.Name)] = aws.ToInt32(ctr.ExitCode)
	}
	// The helper was stopped with the task: SIGTERM, which the app obeys with 0.
	if codes["main"] != 3 || codes["helper"] != 0 {
		t.Fatalf("exit codes = %v", codes)
	}
}

func TestStopTaskSignals(t *testing.T) {
	ctx, c := setup(t)
	stubborn := app("app")
	stubborn.Environment = []types.KeyValuePair{{Name: aws.String("IGNORE_SIGTERM"), Value: aws.String("1")}}
	stubborn.StopTimeout = aws.Int32(2)
	register(t, ctx, c, "stubborn", types.NetworkModeBridge, stubborn)
	register(t, ctx, c, "polite", types.NetworkModeBridge, app("app"))
	var arns []string
	for _, family := range []string{"stubborn", "polite"} {
		arn := *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String(family)}).TaskArn
		// RUNNING is a started container, not yet the app's SIGTERM
		// handler: once it answers, the handler is there (a signal before
		// it ends a Go program with exit code 2).
		get(t, hostURL(t, running(t, ctx, c, arn))+"/")
		try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: &arn, Reason: aws.String("test")})).must(t)
		arns = append(arns, arn)
	}
	// SIGTERM ignored: SIGKILL after stopTimeout, so exit code 137 and at least 2 s of stopping.
	task := stopped(t, ctx, c, arns[0])
	if code := aws.ToInt32(task.Containers[0].ExitCode); code != 137 || task.StoppedAt.Sub(*task.StoppingAt) < 2*time.Second || aws.ToString(task.StoppedReason) != "test" {
		t.Fatalf("stubborn task: exit %d after %s: %s", code, task.StoppedAt.Sub(*task.StoppingAt), taskJSON(task))
	}
	// SIGTERM obeyed: exit code 0.
	if task := stopped(t, ctx, c, arns[1]); aws.ToInt32(task.Containers[0].ExitCode) != 0 {
		t.Fatalf("polite task = %s", taskJSON(task))
	}
}

func TestDependsOn(t *testing.T) {
	ctx, c := setup(t)
	prep := app("setup", "exit", "0", "500ms")
	prep.Essential = aws.Bool(false)
	web := app("web")
	web.DependsOn = []types.ContainerDependency{{ContainerName: aws.String("setup"), Condition: types.ContainerConditionSuccess}}
	register(t, ctx, c, "ordered", types.NetworkModeBridge, web, prep)
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("ordered")}).TaskArn)
	ids := map[string]string{}
	for _, ctr := range task.Containers {
		ids[aws.ToString(ctr.Name)] = aws.ToString(ctr.RuntimeId)
	}
	finished := dockerLines("inspect", "-f", "{{.State.FinishedAt}}", ids["setup"])
	started := dockerLines("inspect", "-f", "{{.State.StartedAt}}", ids["web"])
	f, _ := time.Parse(time.RFC3339Nano, finished[0])
	s, _ := time.Parse(time.RFC3339Nano, started[0])
	if !s.After(f) {
		t.Fatalf("web started at %s, before setup finished at %s", s, f)
	}

	// A dependency that fails keeps the dependent from starting and stops the task.
	failing := app("setup", "exit", "1", "0s")
	failing.Essential = aws.Bool(false)
	register(t, ctx, c, "broken", types.NetworkModeBridge, web, failing)
	task = stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("broken")}).TaskArn)
	if task.StopCode != types.TaskStopCodeTaskFailedToStart || !strings.Contains(aws.ToString(task.StoppedReason), "setup") {
		t.Fatalf("broken task = %s", taskJSON(task))
	}
}

func TestMissingImage(t *testing.T) {
	ctx, c := setup(t)
	missing := app("app")
	missing.Image = aws.String("berth-test/does-not-exist:1")
	register(t, ctx, c, "missing", types.NetworkModeBridge, missing)
	task := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("missing")}).TaskArn)
	if !strings.HasPrefix(aws.ToString(task.StoppedReason), "CannotPullContainerError: ") || task.StopCode != types.TaskStopCodeTaskFailedToStart ||
		task.PullStartedAt == nil || task.StartedAt != nil {
		t.Fatalf("task = %s", taskJSON(task))
	}
}

// TestHostContainerInstance: EC2 tasks are placed on the Docker host,
// registered as a container instance with its real memory, and a task
// that does not fit is a RESOURCE:MEMORY failure of the call.
func TestHostContainerInstance(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("web")}).TaskArn)
	if task.ContainerInstanceArn == nil {
		t.Fatalf("task = %s", taskJSON(task))
	}
	ci := try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c"), ContainerInstances: []string{*task.ContainerInstanceArn}})).must(t).ContainerInstances[0]
	resource := func(rs []types.Resource, name string) types.Resource {
		i := slices.IndexFunc(rs, func(r types.Resource) bool { return aws.ToString(r.Name) == name })
		if i < 0 {
			t.Fatalf("no %s in %s", name, taskJSON(rs))
		}
		return rs[i]
	}
	memory := resource(ci.RegisteredResources, "MEMORY").IntegerValue
	if !strings.HasPrefix(aws.ToString(ci.Ec2InstanceId), "i-") || ci.RunningTasksCount != 1 || memory < 64 ||
		resource(ci.RemainingResources, "MEMORY").IntegerValue != memory-64 || resource(ci.RegisteredResources, "CPU").IntegerValue < 1024 {
		t.Fatalf("container instance = %s", taskJSON(ci))
	}
	if ports := resource(ci.RemainingResources, "PORTS").StringSetValue; !slices.Contains(ports, "22") {
		t.Fatalf("remaining ports = %v", ports)
	}
	huge := app("app")
	huge.Memory = aws.Int32(memory + 1)
	register(t, ctx, c, "huge", types.NetworkModeBridge, huge)
	out := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("huge")})).must(t)
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "RESOURCE:MEMORY" ||
		aws.ToString(out.Failures[0].Arn) != *task.ContainerInstanceArn {
		t.Fatalf("RunTask(huge) = %s", taskJSON(out))
	}
}

// TestTaskVolumesRemoved runs a task whose containers share an empty
// volume, a task-scoped Docker volume and a shared one: the task's own
// volumes go with it when it stops, the shared one stays, as ECS's
// Docker volumes of task and shared scope do.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/docker-volumes.html
func TestTaskVolumesRemoved(t *testing.T) {
	ctx, c := setup(t)
	shared := "berth-test-shared-" + c.region
	t.Cleanup(func() { exec.Command("docker", "volume", "rm", "-f", shared).Run() })
	mounts := []types.MountPoint{{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")},
		{SourceVolume: aws.String("cache"), ContainerPath: aws.String("/cache")}, {SourceVolume: aws.String(shared), ContainerPath: aws.String("/shared")}}
	web, side := app("web"), app("side", "exit", "0", "1h")
	side.PortMappings = nil
	web.MountPoints, side.MountPoints = mounts, mounts
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("vols"), ContainerDefinitions: []types.ContainerDefinition{web, side},
		Volumes: []types.Volume{{Name: aws.String("scratch")},
			{Name: aws.String("cache"), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeTask}},
			{Name: aws.String(shared), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeShared, Autoprovision: aws.Bool(true)}}},
	})).must(t)
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("vols")}).TaskArn)
	id := (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]
	own := []string{"ecs-" + id + "-cache", "ecs-" + id + "-scratch"}
	if got := dockerLines("volume", "ls", "-q", "--filter", "name=ecs-"+id); !slices.Equal(got, own) {
		t.Fatalf("the task's volumes = %v, want %v", got, own)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	stopped(t, ctx, c, *task.TaskArn)
	if got := dockerLines("volume", "ls", "-q", "--filter", "name=ecs-"+id); len(got) != 0 {
		t.Fatalf("volumes left after the task stopped: %v", got)
	}
	if got := dockerLines("volume", "ls", "-q", "--filter", "name="+shared); len(got) != 1 {
		t.Fatalf("the shared volume is gone: %v", got)
	}
}
