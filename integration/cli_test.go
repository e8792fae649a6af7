package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// cli runs the real aws CLI against berth in one region and decodes its
// JSON output into out (when out is not nil).
type cli struct {
	t      *testing.T
	url    string
	region string
}

func (c cli) run(out any, args ...string) {
	c.t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		c.t.Fatal("the aws CLI is not installed: run `make deps`")
	}
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--region", c.region, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			c.t.Fatalf("aws %s: decoding %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
}

// fails runs a command that must fail with the given AWS error code.
func (c cli) fails(code string, args ...string) {
	c.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--region", c.region}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "("+code+")") {
		c.t.Fatalf("aws %s = %v %s, want error %s", strings.Join(args, " "), err, out, code)
	}
}

// TestCLIWalkthrough is the seed walkthrough with the real aws CLI: a
// cluster, a task definition with a dynamic host port, an ALB with two
// target groups, a fixed-response listener with two path rules, a service
// behind it, an update to a new revision, then everything deleted in order.
func TestCLIWalkthrough(t *testing.T) {
	t.Parallel()
	aws := cli{t: t, url: shared.url, region: newRegion()}

	var cluster struct {
		Cluster struct{ ClusterArn, Status string }
	}
	aws.run(&cluster, "ecs", "create-cluster", "--cluster-name", "demo")
	if cluster.Cluster.Status != "ACTIVE" {
		t.Fatalf("create-cluster = %+v", cluster)
	}
	containers := `[{"name":"users","image":"berth/testapp","memory":64,"essential":true,"portMappings":[{"containerPort":8080,"hostPort":0}]}]`
	var td struct {
		TaskDefinition struct{ TaskDefinitionArn string }
	}
	aws.run(&td, "ecs", "register-task-definition", "--family", "users", "--container-definitions", containers)

	var lb struct {
		LoadBalancers []struct{ LoadBalancerArn, DNSName, VpcId string }
	}
	aws.run(&lb, "elbv2", "create-load-balancer", "--name", "demo", "--subnets", "subnet-1", "subnet-2", "--scheme", "internal")
	lbArn := lb.LoadBalancers[0].LoadBalancerArn
	var tgs [2]struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	for i, name := range []string{"users", "messages"} {
		aws.run(&tgs[i], "elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "80",
			"--vpc-id", lb.LoadBalancers[0].VpcId, "--health-check-path", "/health")
	}
	users, messages := tgs[0].TargetGroups[0].TargetGroupArn, tgs[1].TargetGroups[0].TargetGroupArn
	var listener struct {
		Listeners []struct{ ListenerArn string }
	}
	aws.run(&listener, "elbv2", "create-listener", "--load-balancer-arn", lbArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", `Type=fixed-response,FixedResponseConfig={StatusCode=404,ContentType=text/plain,MessageBody=not found}`)
	listenerArn := listener.Listeners[0].ListenerArn
	for i, rule := range []struct{ path, tg string }{{"/api/users*", users}, {"/api/messages*", messages}} {
		aws.run(nil, "elbv2", "create-rule", "--listener-arn", listenerArn, "--priority", fmt.Sprint(10*(i+1)),
			"--conditions", "Field=path-pattern,Values="+rule.path, "--actions", "Type=forward,TargetGroupArn="+rule.tg)
	}
	aws.fails("PriorityInUse", "elbv2", "create-rule", "--listener-arn", listenerArn, "--priority", "10",
		"--conditions", "Field=path-pattern,Values=/x", "--actions", "Type=forward,TargetGroupArn="+users)

	var svc struct {
		Service struct{ ServiceArn, TaskDefinition string }
	}
	aws.run(&svc, "ecs", "create-service", "--cluster", "demo", "--service-name", "users", "--task-definition", "users",
		"--desired-count", "2", "--load-balancers", "targetGroupArn="+users+",containerName=users,containerPort=8080")

	// Describe everything.
	var services struct {
		Services []struct {
			Status        string
			LoadBalancers []struct{ TargetGroupArn string }
			Deployments   []struct{ Status, TaskDefinition string }
		}
	}
	aws.run(&services, "ecs", "describe-services", "--cluster", "demo", "--services", "users")
	if s := services.Services[0]; s.Status != "ACTIVE" || s.LoadBalancers[0].TargetGroupArn != users || len(s.Deployments) != 1 {
		t.Fatalf("describe-services = %+v", services)
	}
	var rules struct{ Rules []struct{ Priority string } }
	aws.run(&rules, "elbv2", "describe-rules", "--listener-arn", listenerArn)
	var priorities []string
	for _, r := range rules.Rules {
		priorities = append(priorities, r.Priority)
	}
	if !slices.Equal(priorities, []string{"10", "20", "default"}) {
		t.Fatalf("describe-rules priorities = %v", priorities)
	}
	var health struct{ TargetHealthDescriptions []any }
	aws.run(&health, "elbv2", "describe-target-health", "--target-group-arn", users)
	aws.run(nil, "elbv2", "describe-load-balancers", "--names", "demo")
	aws.run(nil, "elbv2", "describe-target-groups", "--load-balancer-arn", lbArn)
	aws.run(nil, "elbv2", "describe-listeners", "--load-balancer-arn", lbArn)
	aws.run(nil, "ecs", "describe-task-definition", "--task-definition", "users")
	aws.run(nil, "ecs", "describe-clusters", "--clusters", "demo")
	aws.run(nil, "ecs", "list-services", "--cluster", "demo")
	aws.run(nil, "ecs", "list-tasks", "--cluster", "demo")

	// Update the service to a new revision.
	var td2 struct {
		TaskDefinition struct{ TaskDefinitionArn string }
	}
	aws.run(&td2, "ecs", "register-task-definition", "--family", "users", "--container-definitions", containers)
	var updated struct {
		Service struct {
			TaskDefinition string
			Deployments    []struct{ Status, TaskDefinition string }
		}
	}
	aws.run(&updated, "ecs", "update-service", "--cluster", "demo", "--service", "users", "--task-definition", "users:2")
	if updated.Service.TaskDefinition != td2.TaskDefinition.TaskDefinitionArn || updated.Service.Deployments[0].TaskDefinition != td2.TaskDefinition.TaskDefinitionArn {
		t.Fatalf("update-service = %+v", updated)
	}
	// The CLI's waiters: the rollout ends with one deployment at its count,
	// and a task runs and stops.
	aws.run(nil, "ecs", "wait", "services-stable", "--cluster", "demo", "--services", "users")
	var run struct{ Tasks []struct{ TaskArn string } }
	aws.run(&run, "ecs", "run-task", "--cluster", "demo", "--task-definition", "users:2")
	aws.run(nil, "ecs", "wait", "tasks-running", "--cluster", "demo", "--tasks", run.Tasks[0].TaskArn)
	aws.run(nil, "ecs", "stop-task", "--cluster", "demo", "--task", run.Tasks[0].TaskArn)
	aws.run(nil, "ecs", "wait", "tasks-stopped", "--cluster", "demo", "--tasks", run.Tasks[0].TaskArn)

	// Delete it all, in order.
	aws.fails("ClusterContainsServicesException", "ecs", "delete-cluster", "--cluster", "demo")
	aws.run(nil, "ecs", "update-service", "--cluster", "demo", "--service", "users", "--desired-count", "0")
	aws.run(nil, "ecs", "delete-service", "--cluster", "demo", "--service", "users")
	aws.run(nil, "ecs", "wait", "services-inactive", "--cluster", "demo", "--services", "users")
	for _, r := range []string{"10", "20"} {
		var rs struct {
			Rules []struct{ RuleArn, Priority string }
		}
		aws.run(&rs, "elbv2", "describe-rules", "--listener-arn", listenerArn)
		for _, rule := range rs.Rules {
			if rule.Priority == r {
				aws.run(nil, "elbv2", "delete-rule", "--rule-arn", rule.RuleArn)
			}
		}
	}
	aws.run(nil, "elbv2", "delete-listener", "--listener-arn", listenerArn)
	aws.run(nil, "elbv2", "delete-target-group", "--target-group-arn", users)
	aws.run(nil, "elbv2", "delete-target-group", "--target-group-arn", messages)
	aws.run(nil, "elbv2", "delete-load-balancer", "--load-balancer-arn", lbArn)
	aws.run(nil, "ecs", "deregister-task-definition", "--task-definition", "users:1")
	aws.run(nil, "ecs", "deregister-task-definition", "--task-definition", "users:2")
	aws.run(nil, "ecs", "delete-cluster", "--cluster", "demo")
	aws.fails("LoadBalancerNotFound", "elbv2", "describe-load-balancers", "--names", "demo")
	aws.fails("TargetGroupNotFound", "elbv2", "describe-target-groups", "--names", "users")
	var clusters struct{ ClusterArns []string }
	aws.run(&clusters, "ecs", "list-clusters")
	if len(clusters.ClusterArns) != 0 {
		t.Fatalf("clusters left: %v", clusters.ClusterArns)
	}
}
