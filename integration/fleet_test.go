package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// fleetBound bounds every wait of TestFleet: three Docker Engines share a
// small machine, so each step may take far longer than on a quiet one.
const fleetBound = 3 * time.Minute

// waitFor polls cond every 200 ms for up to fleetBound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(fleetBound); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never, within %v: %s", fleetBound, what)
		}
	}
}

// fleetHost is one host of TestFleet's fleet as the ECS API shows it.
type fleetHost struct {
	zone, arn, ec2ID string
	engine           *testHost // nil: the local engine
}

// engineContainers lists the ids of the running containers of berth b on
// the host's engine whose labels match filters (key=value).
func (h fleetHost) engineContainers(b *berth, filters ...string) []string {
	args := []string{"ps", "-q", "--no-trunc", "--filter", "label=berth.instance=" + b.instance}
	if h.engine != nil {
		args = append([]string{"-H", "unix://" + h.engine.Socket}, args...)
	}
	for _, f := range filters {
		args = append(args, "--filter", "label="+f)
	}
	ids := dockerLines(args...)
	slices.Sort(ids)
	return ids
}

// TestFleet is the evidence of issue 21: berth runs tasks on a fleet of
// three hosts (the local Docker Engine and two test hosts, in zones a, b
// and c), each a container instance of every cluster. Placement strategies
// and constraints choose among them; a service spread over them answers
// behind an ALB at each host's address; a DRAINING instance hands its
// tasks over with no request failing; a remote host pulls ECR images from
// berth's registry at its gateway; a restarted berth adopts every host's
// containers; a host lost is replaced, and reconciled when it comes back.
func TestFleet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hb, hc := newTestHost(t), newTestHost(t)
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{
		"--engine", "name=b,url=tcp://" + hb.Addr + ":2376,zone=b,gateway=" + hb.Gateway,
		"--engine", "name=c,url=tcp://" + hc.Addr + ":2376,zone=c,gateway=" + hc.Gateway,
	}
	b := startT(t, dir, args...)
	c := b.clients("us-east-1")

	// 1. Every new cluster has the fleet's three hosts as its container
	// instances; the remote ones are disconnected until their engines
	// answer, on the TLS files berth wrote for them.
	createCluster := func(name string) {
		try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)})).must(t)
	}
	describe := func(cluster string) []types.ContainerInstance {
		arns := try(c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})).must(t).ContainerInstanceArns
		if len(arns) == 0 {
			return nil
		}
		return try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cluster), ContainerInstances: arns})).must(t).ContainerInstances
	}
	createCluster("web")
	if got := describe("web"); len(got) != 3 {
		t.Fatalf("a new cluster has %d container instances, want the fleet's 3: %s", len(got), taskJSON(got))
	} else if n := len(slices.DeleteFunc(got, func(ci types.ContainerInstance) bool { return ci.AgentConnected })); n != 2 {
		t.Fatalf("%d instances are disconnected before the remote engines start, want 2", n)
	}
	began := time.Now()
	startEngines(t, map[*testHost]string{hb: filepath.Join(dir, "engines", "b"), hc: filepath.Join(dir, "engines", "c")})
	hosts := map[string]fleetHost{} // by zone letter
	attribute := func(ci types.ContainerInstance, name string) string {
		for _, a := range ci.Attributes {
			if aws.ToString(a.Name) == name {
				return aws.ToString(a.Value)
			}
		}
		return ""
	}
	resource := func(ci types.ContainerInstance, name string) int32 {
		for _, r := range ci.RegisteredResources {
			if aws.ToString(r.Name) == name {
				return r.IntegerValue
			}
		}
		return 0
	}
	var instances []types.ContainerInstance
	waitFor(t, "3 container instances connected, with their CPUs and memory", func() bool {
		instances = describe("web")
		return len(instances) == 3 && !slices.ContainsFunc(instances, func(ci types.ContainerInstance) bool {
			return !ci.AgentConnected || resource(ci, "CPU") <= 0 || resource(ci, "MEMORY") <= 0
		})
	})
	t.Logf("measured: the remote engines started and joined in %v", time.Since(began).Round(time.Millisecond))
	for _, ci := range instances {
		zone := attribute(ci, "ecs.availability-zone")
		letter := strings.TrimPrefix(zone, "us-east-1")
		h := fleetHost{zone: zone, arn: aws.ToString(ci.ContainerInstanceArn), ec2ID: aws.ToString(ci.Ec2InstanceId)}
		switch letter {
		case "b":
			h.engine = hb
		case "c":
			h.engine = hc
		}
		hosts[letter] = h
	}
	ids := map[string]bool{}
	for _, h := range hosts {
		ids[h.ec2ID] = true
	}
	if len(hosts) != 3 || hosts["a"].arn == "" || hosts["b"].arn == "" || hosts["c"].arn == "" || len(ids) != 3 {
		t.Fatalf("want instances in us-east-1a, b and c with distinct EC2 instance ids: %s", taskJSON(instances))
	}
	// A host has one container instance id in every cluster.
	idOf := func(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
	zoneOf := map[string]string{} // zone letter by container instance id
	for letter, h := range hosts {
		zoneOf[idOf(h.arn)] = letter
	}

	register := func(family string, containers ...types.ContainerDefinition) {
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: types.NetworkModeBridge, ContainerDefinitions: containers,
		})).must(t)
	}
	small := func(name string) types.ContainerDefinition {
		d := webContainer(name)
		d.Memory = aws.Int32(32)
		return d
	}
	register("web", small("app"))
	tasksOf := func(cluster string, arns []string) []types.Task {
		if len(arns) == 0 {
			return nil
		}
		return try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: arns})).must(t).Tasks
	}
	// perZone counts tasks by the zone letter of their instance.
	perZone := func(tasks []types.Task) map[string]int {
		out := map[string]int{}
		for _, task := range tasks {
			out[zoneOf[idOf(aws.ToString(task.ContainerInstanceArn))]]++
		}
		return out
	}
	spreadByZone := []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}
	deleteService := func(cluster, name string) {
		try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(name), Force: aws.Bool(true)})).must(t)
	}

	// 2. Placement over the fleet. Each case has a cluster of its own, so
	// that counts of one do not bear on another.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html
	for _, name := range []string{"spread", "binpack", "distinct"} {
		createCluster(name)
	}
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("spread"), ServiceName: aws.String("spread"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(6),
		PlacementStrategy: spreadByZone,
	})).must(t)
	packed := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("binpack"), TaskDefinition: aws.String("web"), Count: aws.Int32(3),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}},
	})).must(t)
	member := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("binpack"), TaskDefinition: aws.String("web"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.availability-zone == us-east-1b")}},
	})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("distinct"), ServiceName: aws.String("distinct"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(4),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}},
	})).must(t)

	// binpack on memory: the first task goes to one of the equal hosts,
	// which then has the least memory left, so the others follow it.
	if len(packed.Tasks) != 3 || len(packed.Failures) != 0 {
		t.Fatalf("RunTask of 3 with binpack = %s", taskJSON(packed))
	}
	if z := perZone(packed.Tasks); len(z) != 1 {
		t.Fatalf("binpack(memory) put tasks on %d instances: %v", len(z), z)
	}
	if len(member.Tasks) != 1 || zoneOf[idOf(aws.ToString(member.Tasks[0].ContainerInstanceArn))] != "b" {
		t.Fatalf("RunTask with memberOf us-east-1b = %s", taskJSON(member))
	}
	var runTasks []string
	for _, task := range append(packed.Tasks, member.Tasks...) {
		runTasks = append(runTasks, aws.ToString(task.TaskArn))
	}
	waitFor(t, "the RunTask tasks RUNNING", func() bool {
		return !slices.ContainsFunc(tasksOf("binpack", runTasks), func(task types.Task) bool { return aws.ToString(task.LastStatus) != "RUNNING" })
	})

	// spread over the zones: 2 tasks on each instance.
	stableWithin(t, ctx, c, "spread", "spread")
	spread := tasksOf("spread", serviceTasks(t, ctx, c, "spread", "spread"))
	if z := perZone(spread); len(spread) != 6 || z["a"] != 2 || z["b"] != 2 || z["c"] != 2 {
		t.Fatalf("spread(attribute:ecs.availability-zone) of 6 tasks: %v", z)
	}

	// distinctInstance: 3 tasks for 4 wanted, one on each instance, and an
	// event that the fourth could not be placed, in ECS's words:
	// "service (service-name) was unable to place a task because no
	// container instance met all of its requirements."
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html
	waitFor(t, "3 distinct tasks RUNNING and an event that the fourth has no place", func() bool {
		svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("distinct"), Services: []string{"distinct"}})).must(t).Services[0]
		return svc.RunningCount == 3 && slices.ContainsFunc(svc.Events, func(e types.ServiceEvent) bool {
			return strings.Contains(aws.ToString(e.Message), "(service distinct) was unable to place a task because no container instance met all of its requirements.")
		})
	})
	distinct := tasksOf("distinct", serviceTasks(t, ctx, c, "distinct", "distinct"))
	if z := perZone(distinct); len(distinct) != 3 || z["a"] != 1 || z["b"] != 1 || z["c"] != 1 {
		t.Fatalf("distinctInstance placed %d tasks: %v", len(distinct), z)
	}
	// Done with them: their tasks stop meanwhile.
	deleteService("spread", "spread")
	deleteService("distinct", "distinct")
	for _, arn := range runTasks {
		try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("binpack"), Task: aws.String(arn)})).must(t)
	}

	// 3. A service of 6 spread over the zones behind an ALB: its targets
	// are the three instances at their tasks' host ports, and the listener
	// reaches every task.
	f := newFront(t, ctx, c, b, "web", 5)
	began = time.Now()
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("web"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(6),
		PlacementStrategy: spreadByZone,
		LoadBalancers:     []types.LoadBalancer{{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
	})).must(t)
	var firstAnswer time.Duration
	waitFor(t, "a first answer through the listener", func() bool {
		status, _ := fetch(f.url, "")
		firstAnswer = time.Since(began)
		return status == 200
	})
	// hostnames are the distinct answers through the listener, until want
	// hostnames answered.
	hostnames := func(url string, want []string) map[string]bool {
		seen := map[string]bool{}
		waitFor(t, fmt.Sprintf("answers from the %d tasks through the listener", len(want)), func() bool {
			status, body := fetch(url, "")
			var a answer
			if status == 200 && json.Unmarshal([]byte(body), &a) == nil {
				seen[a.Hostname] = true
			}
			return !slices.ContainsFunc(want, func(h string) bool { return !seen[h] })
		})
		return seen
	}
	// webTasks are service web's tasks, RUNNING, with the hostnames their
	// containers have (Docker's: the container id's first 12 digits).
	webTasks := func() ([]types.Task, []string) {
		tasks := tasksOf("web", serviceTasks(t, ctx, c, "web", "web"))
		var names []string
		for _, task := range tasks {
			names = append(names, aws.ToString(task.Containers[0].RuntimeId)[:min(12, len(aws.ToString(task.Containers[0].RuntimeId)))])
		}
		slices.Sort(names)
		return tasks, names
	}
	targets := inServiceWithin(t, ctx, c, f.tg, 6)
	stableWithin(t, ctx, c, "web", "web")
	tasks, names := webTasks()
	seen := hostnames(f.url, names)
	t.Logf("measured: CreateService of 6 behind the ALB: first answer through the listener after %v, all 6 tasks on 3 hosts answered after %v",
		firstAnswer.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if z := perZone(tasks); len(tasks) != 6 || z["a"] != 2 || z["b"] != 2 || z["c"] != 2 {
		t.Fatalf("service web's tasks by zone: %v", z)
	}
	if len(seen) != 6 {
		t.Fatalf("answers from %v, want the 6 tasks %v", slices.Sorted(maps.Keys(seen)), names)
	}
	// Each target is a task's instance and host port.
	taskTargets := func(tasks []types.Task) []string {
		var out []string
		for _, task := range tasks {
			for _, nb := range task.Containers[0].NetworkBindings {
				out = append(out, fmt.Sprintf("%s:%d", hosts[zoneOf[idOf(aws.ToString(task.ContainerInstanceArn))]].ec2ID, aws.ToInt32(nb.HostPort)))
			}
		}
		slices.Sort(out)
		return out
	}
	targetIDs := func(targets []elbtypes.TargetHealthDescription) ([]string, map[string]bool) {
		var out []string
		instances := map[string]bool{}
		for _, d := range targets {
			out = append(out, fmt.Sprintf("%s:%d", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)))
			instances[aws.ToString(d.Target.Id)] = true
		}
		slices.Sort(out)
		return out, instances
	}
	got, on := targetIDs(targets)
	if want := taskTargets(tasks); !slices.Equal(got, want) || len(on) != 3 {
		t.Fatalf("targets %v, want the tasks' %v on 3 instances", got, want)
	}

	// 4. DRAINING host b under load: its tasks move to a and c, new ones
	// healthy before old ones leave, and no request fails.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html
	setState := func(h fleetHost, state types.ContainerInstanceStatus) {
		out := try(c.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
			Cluster: aws.String("web"), ContainerInstances: []string{h.arn}, Status: state,
		})).must(t)
		if len(out.Failures) != 0 || len(out.ContainerInstances) != 1 || aws.ToString(out.ContainerInstances[0].Status) != string(state) {
			t.Fatalf("UpdateContainerInstancesState %s = %s", state, taskJSON(out))
		}
	}
	l := startLoad(f.url, 2)
	began = time.Now()
	setState(hosts["b"], types.ContainerInstanceStatusDraining)
	waitFor(t, "no task of service web on the draining instance, and the service steady", func() bool {
		tasks, _ := webTasks()
		z := perZone(tasks)
		svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("web"), Services: []string{"web"}})).must(t).Services[0]
		return len(tasks) == 6 && z["b"] == 0 && svc.RunningCount == 6 && len(svc.Deployments) == 1
	})
	inServiceWithin(t, ctx, c, f.tg, 6)
	apps, failed := l.end()
	t.Logf("measured: draining host b moved its tasks in %v; %d requests meanwhile, %d failed", time.Since(began).Round(time.Millisecond), len(apps)+len(failed), len(failed))
	if len(failed) > 0 {
		t.Fatalf("%d requests failed while host b drained, first %q", len(failed), failed[0])
	}
	if z := perZone(must(webTasks())); z["a"] != 3 || z["c"] != 3 {
		t.Fatalf("after draining b, service web's tasks by zone: %v", z)
	}
	setState(hosts["b"], types.ContainerInstanceStatusActive)

	// 5. An ECR image on a remote host: pushed to berth's registry, pulled
	// by host b's engine from the registry at its gateway.
	registry := ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), Retryer: connectionRetryer()})
	repo := try(registry.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("fleet/app")})).must(t).Repository
	token := try(registry.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})).must(t).AuthorizationData[0]
	basic, _ := base64.StdEncoding.DecodeString(aws.ToString(token.AuthorizationToken))
	config := t.TempDir()
	uri := aws.ToString(repo.RepositoryUri) + ":v1"
	docker(t, config, strings.TrimPrefix(string(basic), "AWS:"), "login", "--username", "AWS", "--password-stdin", b.registry)
	docker(t, config, "FROM "+testImage+"\nENV APP_NAME=from-ecr\n", "build", "-q", "-t", uri, "-")
	docker(t, config, "", "push", uri)
	docker(t, config, "", "rmi", uri)
	ecrImage := "000000000000.dkr.ecr.us-east-1.amazonaws.com/fleet/app:v1"
	ecrApp := small("app")
	ecrApp.Image = aws.String(ecrImage)
	register("ecr", ecrApp)
	ecrTask := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("web"), TaskDefinition: aws.String("ecr"),
		PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.availability-zone == us-east-1b")}},
	})).must(t)
	if len(ecrTask.Tasks) != 1 || aws.ToString(ecrTask.Tasks[0].ContainerInstanceArn) != hosts["b"].arn {
		t.Fatalf("RunTask of the ECR image on host b = %s", taskJSON(ecrTask))
	}
	ecrArn := aws.ToString(ecrTask.Tasks[0].TaskArn)
	waitFor(t, "the ECR task RUNNING on host b", func() bool {
		task := tasksOf("web", []string{ecrArn})[0]
		if aws.ToString(task.LastStatus) == "STOPPED" {
			t.Fatalf("the ECR task stopped: %s", taskJSON(task))
		}
		return aws.ToString(task.LastStatus) == "RUNNING"
	})
	_, port, _ := net.SplitHostPort(b.registry)
	pulled := net.JoinHostPort(hb.Gateway, port) + "/000000000000/us-east-1/fleet/app:v1"
	if images := dockerLines("-H", "unix://"+hb.Socket, "images", "--format", "{{.Repository}}:{{.Tag}}"); !slices.Contains(images, pulled) {
		t.Fatalf("host b's engine has %v, want %s pulled from berth's registry at its gateway", images, pulled)
	}

	// 6. A restarted berth adopts what runs on each host: the same tasks,
	// the same containers, its targets still healthy.
	before, beforeNames := webTasks()
	beforeTasks := append(taskArns(before), ecrArn)
	slices.Sort(beforeTasks)
	containers := func(b *berth) map[string][]string {
		out := map[string][]string{}
		for letter, h := range hosts {
			out[letter] = h.engineContainers(b, "berth.cluster=web")
		}
		return out
	}
	beforeContainers := containers(b)
	if n := len(beforeContainers["a"]) + len(beforeContainers["b"]) + len(beforeContainers["c"]); n != 7 || len(beforeContainers["b"]) != 1 {
		t.Fatalf("containers of cluster web on the hosts before the restart: %v", beforeContainers)
	}
	lbs := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})).must(t).LoadBalancers
	if err := b.stop(); err != nil {
		t.Fatalf("berth did not exit cleanly on SIGTERM: %v", err)
	}
	began = time.Now()
	b = startT(t, dir, args...)
	c = b.clients("us-east-1")
	url := "http://" + hostAddress(t, b, aws.ToString(lbs[0].DNSName))
	waitFor(t, "the 3 instances connected again", func() bool {
		return !slices.ContainsFunc(describe("web"), func(ci types.ContainerInstance) bool { return !ci.AgentConnected })
	})
	inServiceWithin(t, ctx, c, f.tg, 6)
	stableWithin(t, ctx, c, "web", "web")
	hostnames(url, beforeNames)
	t.Logf("measured: restarted berth answered through the listener, its hosts connected, in %v", time.Since(began).Round(time.Millisecond))
	after, _ := webTasks()
	afterTasks := append(taskArns(after), ecrArn)
	slices.Sort(afterTasks)
	if !slices.Equal(beforeTasks, afterTasks) {
		t.Fatalf("tasks before the restart %v, after %v", beforeTasks, afterTasks)
	}
	for _, task := range tasksOf("web", afterTasks) {
		if aws.ToString(task.LastStatus) != "RUNNING" {
			t.Fatalf("after the restart: %s", taskJSON(task))
		}
	}
	if afterContainers := containers(b); !maps.EqualFunc(beforeContainers, afterContainers, slices.Equal) {
		t.Fatalf("containers before the restart %v, after %v", beforeContainers, afterContainers)
	}

	// 7. Host c lost under load: its instance is disconnected, its tasks
	// are replaced on a and b, and the listener answers every request
	// again; found again, its stale containers are removed.
	lost := hosts["c"]
	var stale []string // the tasks on host c
	for _, task := range must(webTasks()) {
		if zoneOf[idOf(aws.ToString(task.ContainerInstanceArn))] == "c" {
			stale = append(stale, aws.ToString(task.TaskArn))
		}
	}
	if len(stale) != 3 {
		t.Fatalf("%d of service web's tasks on host c, want 3", len(stale))
	}
	l = startLoad(url, 2)
	began = time.Now()
	lost.engine.cutLink(t)
	waitFor(t, "host c's agent disconnected", func() bool {
		return slices.ContainsFunc(describe("web"), func(ci types.ContainerInstance) bool {
			return aws.ToString(ci.ContainerInstanceArn) == lost.arn && !ci.AgentConnected
		})
	})
	disconnected := time.Since(began)
	var replaced []elbtypes.TargetHealthDescription
	waitFor(t, "6 healthy targets on hosts a and b", func() bool {
		replaced = try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.tg)})).must(t).TargetHealthDescriptions
		_, on := targetIDs(replaced)
		return len(replaced) == 6 && len(on) == 2 && !on[lost.ec2ID] && !slices.ContainsFunc(replaced, func(d elbtypes.TargetHealthDescription) bool {
			return d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy
		})
	})
	recovered := time.Since(began)
	apps, failed = l.end()
	t.Logf("measured: host c lost: agent disconnected after %v, 6 healthy targets on a and b after %v; %d requests meanwhile, %d failed (%v)",
		disconnected.Round(time.Millisecond), recovered.Round(time.Millisecond), len(apps)+len(failed), len(failed), slices.Compact(slices.Sorted(slices.Values(failed))))
	l = startLoad(url, 2)
	time.Sleep(3 * time.Second)
	apps, failed = l.end()
	t.Logf("measured: after the recovery: %d requests, %d failed", len(apps)+len(failed), len(failed))
	if len(apps) == 0 || len(failed) > 0 {
		t.Fatalf("after host c's tasks were replaced, %d requests answered and %d failed: %v", len(apps), len(failed), failed)
	}

	lost.engine.restoreLink(t)
	began = time.Now()
	waitFor(t, "host c's agent connected again", func() bool {
		return !slices.ContainsFunc(describe("web"), func(ci types.ContainerInstance) bool { return !ci.AgentConnected })
	})
	waitFor(t, "host c's stale containers removed, its tasks STOPPED", func() bool {
		return len(lost.engineContainers(b)) == 0 && !slices.ContainsFunc(tasksOf("web", stale), func(task types.Task) bool {
			return aws.ToString(task.LastStatus) != "STOPPED"
		})
	})
	t.Logf("measured: host c found again: its stale containers removed after %v", time.Since(began).Round(time.Millisecond))
	stableWithin(t, ctx, c, "web", "web")
	if z := perZone(must(webTasks())); z["a"]+z["b"] != 6 || z["c"] != 0 {
		t.Fatalf("after host c was lost, service web's tasks by zone: %v", z)
	}
}

// must returns the first of two values.
func must[T, U any](v T, _ U) T { return v }

// taskArns are the tasks' ARNs.
func taskArns(tasks []types.Task) []string {
	var out []string
	for _, task := range tasks {
		out = append(out, aws.ToString(task.TaskArn))
	}
	return out
}

// stableWithin waits with the SDK's ServicesStable waiter for up to
// fleetBound.
func stableWithin(t *testing.T, ctx context.Context, c clients, cluster string, services ...string) {
	t.Helper()
	w := ecs.NewServicesStableWaiter(c.ecs, func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: services}, fleetBound); err != nil {
		t.Fatal(err)
	}
}

// inServiceWithin waits until the target group has n targets, all healthy,
// for up to fleetBound, and returns them.
func inServiceWithin(t *testing.T, ctx context.Context, c clients, tg string, n int) []elbtypes.TargetHealthDescription {
	t.Helper()
	var targets []elbtypes.TargetHealthDescription
	waitFor(t, fmt.Sprintf("%d healthy targets", n), func() bool {
		targets = try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})).must(t).TargetHealthDescriptions
		return len(targets) == n && !slices.ContainsFunc(targets, func(d elbtypes.TargetHealthDescription) bool {
			return d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy
		})
	})
	return targets
}
