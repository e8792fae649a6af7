package integration

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestRestart creates resources, stops berth, starts it on the same data
// directory and checks that every describe answers byte for byte the same.
func TestRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	b := startT(t, dir)
	ctx, c := context.Background(), b.clients("us-east-1")

	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("keep"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("keep"), ServiceName: aws.String("api"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)})).must(t)
	task := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("keep"), TaskDefinition: aws.String("web")})).must(t).Tasks[0]
	running(t, ctx, c, *task.TaskArn)
	stable(t, ctx, c, "keep", "api")
	s := newALB(t, ctx, c, "keep")
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(5),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("host-header"), Values: []string{"*.example.com"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})).must(t)
	// An instance target must be an instance that exists: the host's,
	// on which the task runs (elbv2_review_test.go).
	hosts := try(c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("keep")})).must(t).ContainerInstanceArns
	host := try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("keep"), ContainerInstances: hosts})).must(t).ContainerInstances[0]
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []elbtypes.TargetDescription{{Id: host.Ec2InstanceId, Port: aws.Int32(32768)}}})).must(t)

	ecsCalls := [][2]string{
		{"DescribeClusters", `{"clusters":["keep"],"include":["TAGS","SETTINGS","STATISTICS"]}`},
		{"DescribeServices", `{"cluster":"keep","services":["api"],"include":["TAGS"]}`},
		{"DescribeTasks", `{"cluster":"keep","tasks":["` + aws.ToString(task.TaskArn) + `"]}`},
		{"DescribeTaskDefinition", `{"taskDefinition":"web"}`},
		{"ListTaskDefinitions", `{}`},
		{"ListServices", `{"cluster":"keep"}`},
		{"ListTasks", `{"cluster":"keep"}`},
	}
	queryCalls := []url.Values{
		{"Action": {"DescribeLoadBalancers"}},
		{"Action": {"DescribeTargetGroups"}},
		{"Action": {"DescribeListeners"}, "LoadBalancerArn": {s.lb}},
		{"Action": {"DescribeRules"}, "ListenerArn": {s.listener}},
		{"Action": {"DescribeTargetHealth"}, "TargetGroupArn": {s.tg}},
		{"Action": {"DescribeTargetGroupAttributes"}, "TargetGroupArn": {s.tg}},
		{"Action": {"DescribeTags"}, "ResourceArns.member.1": {s.lb}, "ResourceArns.member.2": {s.tg}},
	}
	snapshot := func(b *berth) [][]byte {
		// Target health is what the data plane reports: wait for its first
		// check of the (unreachable) target, after which it holds for the
		// 30 s health check interval.
		eventually(t, "the first health check", func() bool {
			_, body := postTo(t, b, formHeader, url.Values{"Action": {"DescribeTargetHealth"}, "TargetGroupArn": {s.tg}, "Version": {"2015-12-01"}}.Encode())
			return strings.Contains(body, "Elb.InitialHealthChecking")
		})
		var out [][]byte
		for _, call := range ecsCalls {
			_, body := postTo(t, b, jsonHeader(call[0]), call[1])
			out = append(out, []byte(body))
		}
		for _, form := range queryCalls {
			form.Set("Version", "2015-12-01")
			_, body := postTo(t, b, formHeader, form.Encode())
			out = append(out, removeRequestID(body))
		}
		return out
	}
	before := snapshot(b)
	if err := b.stop(); err != nil {
		t.Fatalf("berth did not exit cleanly on SIGTERM: %v", err)
	}
	after := snapshot(startT(t, dir))
	for i := range before {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("call %d differs after restart:\nbefore %s\nafter  %s", i, before[i], after[i])
		}
	}
}

// removeRequestID blanks the per-request id in a query response.
func removeRequestID(body string) []byte {
	start := bytes.Index([]byte(body), []byte("<RequestId>"))
	end := bytes.Index([]byte(body), []byte("</RequestId>"))
	if start < 0 || end < start {
		return []byte(body)
	}
	return []byte(body[:start] + body[end:])
}

// TestRestartMidDeployment SIGKILLs berth in the middle of a deployment
// behind an ALB whose new revision is slow to start (its server listens
// 20 s after it starts, so its targets fail their health checks until
// then), and starts it again on the same data directory. A load balancer
// does not forget its targets' health, so the old tasks keep serving: no
// request fails once the listener accepts again, and no old task is asked
// to stop before the new tasks are healthy, which minimumHealthyPercent
// (100 by default) demands.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
func TestRestartMidDeployment(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	b := startT(t, dir)
	ctx, c := context.Background(), b.clients("us-east-1")
	f := newFront(t, ctx, c, b, "mid", 1)
	register(t, ctx, c, "web", types.NetworkModeBridge, version("v1", false))
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		// The new tasks fail their ELB health checks while they start:
		// the grace period keeps ECS from replacing them meanwhile.
		HealthCheckGracePeriodSeconds: aws.Int32(300),
	})).must(t)
	inService(t, ctx, c, f.tg, 2)
	stable(t, ctx, c, "c", "web")
	old := serviceTasks(t, ctx, c, "c", "web")
	var oldPorts []int32
	for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: old})).must(t).Tasks {
		oldPorts = append(oldPorts, aws.ToInt32(task.Containers[0].NetworkBindings[0].HostPort))
	}

	slow := version("v2", false)
	slow.Environment = append(slow.Environment, types.KeyValuePair{Name: aws.String("LISTEN_AFTER"), Value: aws.String("20s")})
	register(t, ctx, c, "web", types.NetworkModeBridge, slow)
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})).must(t)
	eventually(t, "the new tasks registered", func() bool {
		return len(try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.tg)})).must(t).TargetHealthDescriptions) == 4
	})
	b.kill()
	b = startT(t, dir)
	c = b.clients("us-east-1")
	listener := strings.TrimPrefix(f.url, "http://")
	eventually(t, "the listener accepts again", func() bool {
		conn, err := net.Dial("tcp", net.JoinHostPort(listener, "80"))
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	l := startLoad(f.url, 2)

	newHealthy := func() int {
		healthy := 0
		for _, d := range try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(f.tg)})).must(t).TargetHealthDescriptions {
			if !slices.Contains(oldPorts, aws.ToInt32(d.Target.Port)) && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return healthy
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the new tasks never became healthy")
		}
		// 2 healthy tasks at all times: an old task may stop only for a new
		// one that is healthy. Health does not go back, so new tasks seen
		// healthy after old ones were seen stopping were healthy then too.
		tasks := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: old})).must(t).Tasks
		stopping := 0
		var why []string
		for _, task := range tasks {
			if aws.ToString(task.DesiredStatus) == "STOPPED" {
				stopping++
				why = append(why, aws.ToString(task.StoppedReason))
			}
		}
		healthy := newHealthy()
		if stopping > healthy {
			t.Fatalf("%d old tasks were stopped (%q) with %d new ones healthy", stopping, why, healthy)
		}
		if healthy == 2 {
			break
		}
	}
	stable(t, ctx, c, "c", "web")
	apps, failed := l.end()
	t.Logf("%d requests after the restart, %d failed", len(apps)+len(failed), len(failed))
	if len(failed) > 0 {
		t.Fatalf("%d requests failed, first %q", len(failed), failed[0])
	}
	if len(apps) == 0 || apps[len(apps)-1] != "v2" {
		t.Fatalf("the deployment did not finish behind the listener: last answer %v", apps[max(0, len(apps)-1):])
	}
}
