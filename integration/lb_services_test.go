package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// These tests run ECS services behind berth's load balancers: real
// containers, real targets, real health checks and real requests.

// front is an internal ALB whose HTTP listener on port 80 forwards to one
// instance target group with fast health checks on /health.
type front struct {
	tg, url string
}

// newFront creates a front whose target group drains for delay seconds.
func newFront(t *testing.T, ctx context.Context, c clients, b *berth, name string, delay int) front {
	t.Helper()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Subnets: subnets(t, ctx, c)[:2], Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
	})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})).must(t).TargetGroups[0]
	try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
		TargetGroupArn: tg.TargetGroupArn,
		Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(delay))}},
	})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}},
	})).must(t)
	return front{tg: *tg.TargetGroupArn, url: "http://" + hostAddress(t, b, *lb.DNSName)}
}

// version is a container of the test image that answers with APP_NAME
// set to name, and with UNHEALTHY=1 fails its health endpoint.
func version(name string, unhealthy bool) types.ContainerDefinition {
	c := app("app")
	c.Environment = []types.KeyValuePair{{Name: aws.String("APP_NAME"), Value: aws.String(name)}}
	if unhealthy {
		c.Environment = append(c.Environment, types.KeyValuePair{Name: aws.String("UNHEALTHY"), Value: aws.String("1")})
	}
	return c
}

// createBehind creates service "web" of family "web" in cluster "c" with
// desired tasks behind f's target group.
func createBehind(t *testing.T, ctx context.Context, c clients, f front, desired int32, dc *types.DeploymentConfiguration) types.Service {
	t.Helper()
	return *try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(desired),
		LoadBalancers:           []types.LoadBalancer{{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		DeploymentConfiguration: dc,
	})).must(t).Service
}

// inService waits until the target group has n targets, all healthy, with
// the SDK's TargetInService waiter, and returns them.
func inService(t *testing.T, ctx context.Context, c clients, tg string, n int) []elbtypes.TargetHealthDescription {
	t.Helper()
	var targets []elbtypes.TargetHealthDescription
	eventually(t, strconv.Itoa(n)+" registered targets", func() bool {
		targets = try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})).must(t).TargetHealthDescriptions
		return len(targets) == n
	})
	w := elbv2.NewTargetInServiceWaiter(c.elbv2, func(o *elbv2.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return out.TargetHealthDescriptions
}

// answer is what the test app says through the load balancer.
type answer struct{ Hostname, App string }

// load sends requests through the load balancer from a few clients until
// stopped (or a bound on time and count is reached) and keeps every
// outcome in order.
type load struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	apps    []string // the app of each 200, in order
	failed  []string // every non-200 status or connection error
	answers int
}

func startLoad(url string, clients int) *load {
	l := &load{stop: make(chan struct{})}
	deadline := time.Now().Add(2 * time.Minute)
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 20000 && time.Now().Before(deadline); i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				status, body := send(client, req)
				l.mu.Lock()
				if status == http.StatusOK {
					var a answer
					json.Unmarshal([]byte(body), &a)
					l.apps = append(l.apps, a.App)
				} else {
					l.failed = append(l.failed, strconv.Itoa(status)+" "+body)
				}
				l.mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return l
}

// end stops the load and returns the apps that answered, in order, and
// the failures.
func (l *load) end() ([]string, []string) {
	close(l.stop)
	l.wg.Wait()
	return l.apps, l.failed
}

// serviceTaskPorts are the host ports of the running tasks of service web.
func serviceTaskPorts(t *testing.T, ctx context.Context, c clients) []int32 {
	t.Helper()
	arns := serviceTasks(t, ctx, c, "c", "web")
	var ports []int32
	for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks {
		for _, b := range task.Containers[0].NetworkBindings {
			ports = append(ports, aws.ToInt32(b.HostPort))
		}
	}
	slices.Sort(ports)
	return ports
}

func targetPorts(targets []elbtypes.TargetHealthDescription) []int32 {
	var ports []int32
	for _, d := range targets {
		ports = append(ports, aws.ToInt32(d.Target.Port))
	}
	slices.Sort(ports)
	return ports
}

// mark returns how many requests have been answered so far.
func (l *load) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.apps)
}

// TestZeroDowntimeDeployment rolls a service of two tasks behind an ALB to
// a new revision while clients hammer the listener: no request fails,
// answers move from the old revision to the new, and only the new tasks
// stay registered.
func TestZeroDowntimeDeployment(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "zero", 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, nil)
	inService(t, ctx, c, f.tg, 2)
	stable(t, ctx, c, "c", "web")

	l := startLoad(f.url, 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v2", false))
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t)
	stable(t, ctx, c, "c", "web")
	done := l.mark()
	time.Sleep(500 * time.Millisecond) // answers from the new revision alone
	apps, failed := l.end()
	t.Logf("%d requests during the rollout, %d failed", len(apps)+len(failed), len(failed))
	if len(failed) > 0 {
		t.Fatalf("%d requests failed, first %q", len(failed), failed[0])
	}
	if apps[0] != "v1" || slices.Contains(apps[done:], "v1") || !slices.Contains(apps[done:], "v2") {
		t.Fatalf("answers did not move from v1 to v2: first %q, after the rollout %v", apps[0], slices.Compact(apps[done:]))
	}
	targets := inService(t, ctx, c, f.tg, 2)
	if got, want := targetPorts(targets), serviceTaskPorts(t, ctx, c); !slices.Equal(got, want) {
		t.Fatalf("registered ports %v, new tasks' ports %v", got, want)
	}
	svc := describeService(t, ctx, c, "web")
	if d := svc.Deployments; len(d) != 1 || d[0].RolloutState != types.DeploymentRolloutStateCompleted || !strings.HasSuffix(aws.ToString(d[0].TaskDefinition), "web:2") {
		t.Fatalf("deployments = %s", taskJSON(d))
	}
	if !slices.ContainsFunc(svc.Events, func(e types.ServiceEvent) bool {
		return strings.Contains(aws.ToString(e.Message), "has begun draining connections on 1 tasks.") && !strings.HasSuffix(aws.ToString(e.Message), "..")
	}) {
		t.Fatalf("no draining event: %s", taskJSON(svc.Events))
	}
}

// TestMinimumHealthyZero: with minimumHealthyPercent 0 and maximumPercent
// 100 berth stops the old tasks before it starts new ones, as asked, so
// requests may fail meanwhile.
func TestMinimumHealthyZero(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "min0", 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, &types.DeploymentConfiguration{MinimumHealthyPercent: aws.Int32(0), MaximumPercent: aws.Int32(100)})
	inService(t, ctx, c, f.tg, 2)
	old := serviceTasks(t, ctx, c, "c", "web")

	l := startLoad(f.url, 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v2", false))
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t)
	stable(t, ctx, c, "c", "web")
	apps, failed := l.end()
	t.Logf("%d requests during the rollout, %d failed", len(apps)+len(failed), len(failed))

	var stoppingAt time.Time
	for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: old})).must(t).Tasks {
		if task.StoppingAt == nil {
			t.Fatalf("old task %s was not stopped", *task.TaskArn)
		}
		if task.StoppingAt.After(stoppingAt) {
			stoppingAt = *task.StoppingAt
		}
	}
	for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: serviceTasks(t, ctx, c, "c", "web")})).must(t).Tasks {
		if task.CreatedAt.Before(stoppingAt) {
			t.Fatalf("new task created at %v, before the old ones were told to stop at %v", task.CreatedAt, stoppingAt)
		}
	}
}

// TestCircuitBreakerRollback deploys a revision whose health endpoint
// fails: its tasks fail their ELB health checks, the circuit breaker
// fails the deployment, the service rolls back to the old revision, and
// the old tasks answered every request meanwhile.
func TestCircuitBreakerRollback(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "breaker", 1)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, &types.DeploymentConfiguration{
		DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, Rollback: true},
	})
	inService(t, ctx, c, f.tg, 2)
	stable(t, ctx, c, "c", "web")
	good := describeService(t, ctx, c, "web")

	l := startLoad(f.url, 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v2", true))
	bad := try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t).Service
	failedID := aws.ToString(bad.Deployments[0].Id)
	eventually(t, "the deployment failed and rolled back", func() bool {
		svc := describeService(t, ctx, c, "web")
		return strings.HasSuffix(aws.ToString(svc.TaskDefinition), "web:1") && slices.ContainsFunc(svc.Deployments, func(d types.Deployment) bool {
			return aws.ToString(d.Id) == failedID && d.RolloutState == types.DeploymentRolloutStateFailed
		})
	})
	stable(t, ctx, c, "c", "web")
	apps, failed := l.end()
	t.Logf("%d requests during the failed deployment and rollback, %d failed", len(apps)+len(failed), len(failed))
	if len(failed) > 0 || slices.Contains(apps, "v2") {
		t.Fatalf("%d requests failed (%v); v2 answered: %v", len(failed), failed, slices.Contains(apps, "v2"))
	}

	svc := describeService(t, ctx, c, "web")
	d := svc.Deployments[0]
	if len(svc.Deployments) != 1 || d.RolloutState != types.DeploymentRolloutStateCompleted || aws.ToString(d.TaskDefinition) != aws.ToString(good.TaskDefinition) {
		t.Fatalf("deployments after the rollback = %s", taskJSON(svc.Deployments))
	}
	sd := try(c.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(bad.CurrentServiceDeployment)}})).must(t).ServiceDeployments[0]
	if sd.Status != types.ServiceDeploymentStatusRollbackSuccessful || sd.DeploymentCircuitBreaker.Status != types.ServiceDeploymentRollbackMonitorsStatusTriggered ||
		sd.Rollback == nil || aws.ToString(sd.Rollback.Reason) != "ECS deployment circuit breaker: rolling back to deploymentId "+aws.ToString(good.Deployments[0].Id)+"." {
		t.Fatalf("service deployment = %s", taskJSON(sd))
	}
	stoppedArns := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), ServiceName: aws.String("web"), DesiredStatus: types.DesiredStatusStopped})).must(t).TaskArns
	tasks := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: stoppedArns})).must(t).Tasks
	if !slices.ContainsFunc(tasks, func(task types.Task) bool {
		return aws.ToString(task.StoppedReason) == "Task failed ELB health checks in (target-group "+f.tg+")"
	}) {
		t.Fatalf("no task stopped for failed ELB health checks: %s", taskJSON(tasks))
	}
	inService(t, ctx, c, f.tg, 2)
}

// TestKilledTargetReplaced kills a task's container behind the load
// balancer: its target leaves rotation, the task is replaced and the new
// one registered, and the listener keeps answering.
func TestKilledTargetReplaced(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "killed", 1)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 2, nil)
	before := targetPorts(inService(t, ctx, c, f.tg, 2))
	stable(t, ctx, c, "c", "web")
	arns := serviceTasks(t, ctx, c, "c", "web")
	victim := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns[:1]})).must(t).Tasks[0]

	l := startLoad(f.url, 2)
	dockerLines("kill", aws.ToString(victim.Containers[0].RuntimeId))
	stopped(t, ctx, c, *victim.TaskArn)
	eventually(t, "a replacement task registered and healthy", func() bool {
		targets := try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.tg)})).must(t).TargetHealthDescriptions
		healthy := 0
		for _, d := range targets {
			if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return len(targets) == 2 && healthy == 2
	})
	apps, failed := l.end()
	after := targetPorts(inService(t, ctx, c, f.tg, 2))
	gone := aws.ToInt32(victim.Containers[0].NetworkBindings[0].HostPort)
	if slices.Contains(after, gone) || slices.Equal(before, after) {
		t.Fatalf("targets before %v, after %v; the killed task had port %d", before, after, gone)
	}
	// Requests sent to the killed container before berth saw it die get the
	// load balancer's 502, as on ALB (where they would until its health
	// checks fail); the listener answers every request.
	t.Logf("%d answered, %d got a 502 while the task was replaced", len(apps), len(failed))
	if len(apps) == 0 || slices.ContainsFunc(failed, func(f string) bool { return !strings.HasPrefix(f, "502 ") }) {
		t.Fatalf("%d answered, failures: %v", len(apps), failed)
	}
	if n := len(serviceTasks(t, ctx, c, "c", "web")); n != 2 {
		t.Fatalf("%d tasks run", n)
	}
}

// TestServiceLoadBalancerValidation: CreateService checks its load
// balancers against ELBv2 as ECS does.
func TestServiceLoadBalancerValidation(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "checks", 0)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	vpc := defaultVPC(t, ctx, c)
	group := func(name string, in elbv2.CreateTargetGroupInput) string {
		in.Name, in.Protocol, in.Port, in.VpcId = aws.String(name), elbtypes.ProtocolEnumHttp, aws.Int32(80), aws.String(vpc)
		return *try(c.elbv2.CreateTargetGroup(ctx, &in)).must(t).TargetGroups[0].TargetGroupArn
	}
	unattached := group("unattached", elbv2.CreateTargetGroupInput{})
	for name, tc := range map[string]struct{ lb types.LoadBalancer }{
		"no such group":        {types.LoadBalancer{TargetGroupArn: aws.String(f.tg + "0"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		"no load balancer":     {types.LoadBalancer{TargetGroupArn: aws.String(unattached), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		"classic name":         {types.LoadBalancer{LoadBalancerName: aws.String("classic"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		"unknown container":    {types.LoadBalancer{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("nope"), ContainerPort: aws.Int32(8080)}},
		"unmapped port":        {types.LoadBalancer{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(9)}},
		"both name and target": {types.LoadBalancer{TargetGroupArn: aws.String(f.tg), LoadBalancerName: aws.String("x"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
	} {
		_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("c"), ServiceName: aws.String("bad"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
			LoadBalancers: []types.LoadBalancer{tc.lb},
		})
		if err == nil {
			t.Fatalf("%s: created", name)
		}
		wantErr[*types.InvalidParameterException](t, err)
	}
	// An ip target group suits awsvpc tasks only; a health check port
	// cannot reach a dynamic host port.
	ipGroup := group("ip", elbv2.CreateTargetGroupInput{TargetType: elbtypes.TargetTypeEnumIp})
	checkPort := group("checkport", elbv2.CreateTargetGroupInput{HealthCheckPort: aws.String("8081")})
	lbArn := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{f.tg}})).must(t).TargetGroups[0].LoadBalancerArns[0]
	for i, tg := range []string{ipGroup, checkPort} {
		try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: aws.String(lbArn), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(8000 + i)),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
		})).must(t)
		_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("c"), ServiceName: aws.String("bad"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
			LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		})
		wantErr[*types.InvalidParameterException](t, err)
	}
	if n := len(try(c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("c")})).must(t).ServiceArns); n != 0 {
		t.Fatalf("%d services were created", n)
	}
}

// TestAwsvpcServiceBehindALB: the tasks of an awsvpc service are
// registered by their private IP and container port in an ip target
// group, and answer through the listener; an instance group is refused.
func TestAwsvpcServiceBehindALB(t *testing.T) {
	ctx, c := setup(t)
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("vpc"), Subnets: subnets(t, ctx, c)[:2], Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
	})).must(t).LoadBalancers[0]
	group := func(name string, kind elbtypes.TargetTypeEnum, port int32) string {
		tg := *try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId, TargetType: kind,
			HealthCheckPath: aws.String("/health"),
		})).must(t).TargetGroups[0].TargetGroupArn
		try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port),
			DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
		})).must(t)
		return tg
	}
	ipTG, instanceTG := group("ip", elbtypes.TargetTypeEnumIp, 80), group("instance", elbtypes.TargetTypeEnumInstance, 81)
	web := version("vpc", false)
	web.PortMappings[0].HostPort = aws.Int32(8080) // awsvpc: the host port is the container port
	register(t, ctx, c, "web", types.NetworkModeAwsvpc, web)
	in := &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}},
		LoadBalancers:        []types.LoadBalancer{{TargetGroupArn: aws.String(instanceTG), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
	}
	_, err := c.ecs.CreateService(ctx, in)
	wantErr[*types.InvalidParameterException](t, err)
	in.LoadBalancers[0].TargetGroupArn = aws.String(ipTG)
	try(c.ecs.CreateService(ctx, in)).must(t)

	target := inService(t, ctx, c, ipTG, 1)[0].Target
	task := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: serviceTasks(t, ctx, c, "c", "web")})).must(t).Tasks[0]
	if ip := aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address); aws.ToString(target.Id) != ip || aws.ToInt32(target.Port) != 8080 {
		t.Fatalf("target %s:%d, task IP %s", aws.ToString(target.Id), aws.ToInt32(target.Port), ip)
	}
	status, body := fetch("http://"+hostAddress(t, shared, *lb.DNSName)+"/", "")
	var a answer
	if status != 200 || json.Unmarshal([]byte(body), &a) != nil || a.App != "vpc" {
		t.Fatalf("through the listener: %d %s", status, body)
	}
}

// TestStopTaskDrainsFirst: StopTask on a task behind a load balancer
// deregisters its target and waits out the deregistration delay, with the
// container still running, before the container gets its stop signal.
func TestStopTaskDrainsFirst(t *testing.T) {
	ctx, c := setup(t)
	f := newFront(t, ctx, c, shared, "drain", 2)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	createBehind(t, ctx, c, f, 1, nil)
	target := inService(t, ctx, c, f.tg, 1)[0].Target
	arn := serviceTasks(t, ctx, c, "c", "web")[0]
	task := waitTask(t, ctx, c, arn, status("RUNNING"))
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: aws.String(arn)})).must(t)

	waitTask(t, ctx, c, arn, status("DEACTIVATING"))
	health := try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{
		TargetGroupArn: aws.String(f.tg), Targets: []elbtypes.TargetDescription{{Id: target.Id, Port: target.Port}},
	})).must(t).TargetHealthDescriptions[0].TargetHealth
	if health.State != elbtypes.TargetHealthStateEnumDraining {
		t.Fatalf("the stopping task's target is %s", health.State)
	}
	if state := dockerLines("inspect", "-f", "{{.State.Status}}", aws.ToString(task.Containers[0].RuntimeId)); !slices.Equal(state, []string{"running"}) {
		t.Fatalf("the container is %v while its target drains", state)
	}
	done := stopped(t, ctx, c, arn)
	if drained := done.ExecutionStoppedAt.Sub(*done.StoppingAt); drained < 2*time.Second {
		t.Fatalf("the task stopped %v after it was asked to, within the 2 s deregistration delay", drained)
	}
}
