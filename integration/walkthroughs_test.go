package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// The longest tests driven by the aws CLI (whose waiters poll every 6 or
// 15 s), in a file that sorts last. go test resumes the paused parallel
// tests, in practice, from the last one paused (the runtime readies the
// goroutines waiting on a closed channel last in, first out), and a test
// pauses in the order of the package's files: so these start among the
// first rather than at the end of the run, where they would be its tail.
// The Terraform tests, in terraform_*_test.go, sort late for the same
// reason.

// TestCLIWalkthrough is the seed walkthrough with the real aws CLI: a
// cluster, two task definitions with dynamic host ports, an internal ALB
// with two target groups, a listener whose default is a fixed 404 with
// /api/users* and /api/messages* rules, and two services of two tasks
// behind it. Requests reach each service by path, alternating between its
// tasks; then a service rolls to a new revision, and everything is deleted
// in order.
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
	containers := func(name string) string {
		return `[{"name":"` + name + `","image":"` + testImage + `","memory":64,"essential":true,` +
			`"portMappings":[{"containerPort":8080,"hostPort":0}],"environment":[{"name":"APP_NAME","value":"` + name + `"}]}]`
	}
	var td struct {
		TaskDefinition struct{ TaskDefinitionArn string }
	}
	aws.run(&td, "ecs", "register-task-definition", "--family", "users", "--container-definitions", containers("users"))
	aws.run(nil, "ecs", "register-task-definition", "--family", "messages", "--container-definitions", containers("messages"))

	var lb struct {
		LoadBalancers []struct{ LoadBalancerArn, DNSName, VpcId string }
	}
	var subnets struct{ Subnets []struct{ SubnetId string } }
	aws.run(&subnets, "ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true")
	aws.run(&lb, "elbv2", "create-load-balancer", "--name", "demo", "--subnets", subnets.Subnets[0].SubnetId, subnets.Subnets[1].SubnetId, "--scheme", "internal")
	lbArn := lb.LoadBalancers[0].LoadBalancerArn
	var tgs [2]struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	for i, name := range []string{"users", "messages"} {
		aws.run(&tgs[i], "elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "80",
			"--vpc-id", lb.LoadBalancers[0].VpcId, "--health-check-path", "/health", "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2")
		aws.run(nil, "elbv2", "modify-target-group-attributes", "--target-group-arn", tgs[i].TargetGroups[0].TargetGroupArn,
			"--attributes", "Key=deregistration_delay.timeout_seconds,Value=2")
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

	for _, name := range []string{"users", "messages"} {
		tg := map[string]string{"users": users, "messages": messages}[name]
		aws.run(nil, "ecs", "create-service", "--cluster", "demo", "--service-name", name, "--task-definition", name,
			"--desired-count", "2", "--load-balancers", "targetGroupArn="+tg+",containerName="+name+",containerPort=8080")
	}

	// Each group gets both of its service's tasks, on distinct dynamic
	// host ports of this machine's container instance, and they turn healthy.
	for _, tg := range []string{users, messages} {
		var health struct {
			TargetHealthDescriptions []struct {
				Target struct {
					Id   string
					Port int
				}
				TargetHealth struct{ State string }
			}
		}
		eventually(t, "two healthy targets", func() bool {
			aws.run(&health, "elbv2", "describe-target-health", "--target-group-arn", tg)
			d := health.TargetHealthDescriptions
			return len(d) == 2 && d[0].TargetHealth.State == "healthy" && d[1].TargetHealth.State == "healthy"
		})
		aws.run(nil, "elbv2", "wait", "target-in-service", "--target-group-arn", tg)
		d := health.TargetHealthDescriptions
		if d[0].Target.Port == d[1].Target.Port || d[0].Target.Id != d[1].Target.Id || !strings.HasPrefix(d[0].Target.Id, "i-") {
			t.Fatalf("targets = %+v", d)
		}
	}
	aws.run(nil, "ecs", "wait", "services-stable", "--cluster", "demo", "--services", "users", "messages")

	// Requests reach the right service by path, in turn to each of its
	// tasks; any other path gets the listener's fixed 404.
	base := "http://" + hostAddress(t, shared, lb.LoadBalancers[0].DNSName)
	for _, name := range []string{"users", "messages"} {
		var hosts []string
		for i := range 4 {
			status, body := fetch(base+"/api/"+name+"/"+fmt.Sprint(i), "")
			var a answer
			if status != 200 || json.Unmarshal([]byte(body), &a) != nil || a.App != name {
				t.Fatalf("/api/%s = %d %s", name, status, body)
			}
			hosts = append(hosts, a.Hostname)
		}
		if hosts[0] == hosts[1] || hosts[0] != hosts[2] || hosts[1] != hosts[3] {
			t.Fatalf("/api/%s answered from %v: not in turn", name, hosts)
		}
	}
	if status, body := fetch(base+"/nope", ""); status != 404 || body != "not found" {
		t.Fatalf("/nope = %d %q", status, body)
	}

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
	aws.run(&td2, "ecs", "register-task-definition", "--family", "users", "--container-definitions", containers("users"))
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
	// The CLI's waiters: the rollout ends with one deployment at its count
	// (polled here first: the waiter sleeps 15 s between looks), and a task
	// runs and stops.
	eventually(t, "the rollout ended", func() bool {
		aws.run(&services, "ecs", "describe-services", "--cluster", "demo", "--services", "users")
		return len(services.Services[0].Deployments) == 1
	})
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
	aws.run(nil, "ecs", "delete-service", "--cluster", "demo", "--service", "messages", "--force")
	eventually(t, "both services inactive", func() bool {
		var out struct{ Services []struct{ Status string } }
		aws.run(&out, "ecs", "describe-services", "--cluster", "demo", "--services", "users", "messages")
		return out.Services[0].Status == "INACTIVE" && out.Services[1].Status == "INACTIVE"
	})
	aws.run(nil, "ecs", "wait", "services-inactive", "--cluster", "demo", "--services", "users", "messages")
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
	aws.run(nil, "ecs", "deregister-task-definition", "--task-definition", "messages:1")
	aws.run(nil, "ecs", "delete-cluster", "--cluster", "demo")
	aws.fails("LoadBalancerNotFound", "elbv2", "describe-load-balancers", "--names", "demo")
	aws.fails("TargetGroupNotFound", "elbv2", "describe-target-groups", "--names", "users")
	var clusters struct{ ClusterArns []string }
	aws.run(&clusters, "ecs", "list-clusters")
	if len(clusters.ClusterArns) != 0 {
		t.Fatalf("clusters left: %v", clusters.ClusterArns)
	}
}

func TestAppAutoScalingCLI(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "api", types.NetworkModeBridge, app("app"))
	createService(t, ctx, c, "api", "api", 0)
	aws := cli{t, shared.url, c.region}
	ns := []string{"--service-namespace", "ecs", "--scalable-dimension", "ecs:service:DesiredCount", "--resource-id", "service/c/api"}

	aws.fails("ValidationException", append([]string{"application-autoscaling", "register-scalable-target", "--min-capacity", "1", "--max-capacity", "2"},
		"--service-namespace", "ecs", "--scalable-dimension", "ecs:service:DesiredCount", "--resource-id", "service/c/missing")...)
	aws.fails("ObjectNotFoundException", append([]string{"application-autoscaling", "deregister-scalable-target"}, ns...)...)
	var reg struct{ ScalableTargetARN string }
	aws.run(&reg, append([]string{"application-autoscaling", "register-scalable-target", "--min-capacity", "0", "--max-capacity", "3"}, ns...)...)
	if !strings.HasPrefix(reg.ScalableTargetARN, "arn:aws:application-autoscaling:"+c.region+":") {
		t.Errorf("ARN %q", reg.ScalableTargetARN)
	}
	var targets struct {
		ScalableTargets []struct {
			ResourceID     string `json:"ResourceId"`
			MinCapacity    int
			MaxCapacity    int
			SuspendedState map[string]bool
		}
	}
	aws.run(&targets, "application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs")
	if len(targets.ScalableTargets) != 1 || targets.ScalableTargets[0].MaxCapacity != 3 || len(targets.ScalableTargets[0].SuspendedState) != 3 {
		t.Fatalf("targets %+v", targets)
	}
	// The User Guide's ALBRequestCountPerTarget policy, as the CLI sends it.
	var put struct {
		PolicyARN string
		Alarms    []struct{ AlarmName string }
	}
	aws.run(&put, append([]string{"application-autoscaling", "put-scaling-policy", "--policy-name", "requests", "--policy-type", "TargetTrackingScaling",
		"--target-tracking-scaling-policy-configuration", `{"TargetValue":1000,"PredefinedMetricSpecification":{"PredefinedMetricType":"ALBRequestCountPerTarget","ResourceLabel":"app/web/0123456789abcdef/targetgroup/api/fedcba9876543210"},"ScaleInCooldown":120,"DisableScaleIn":false}`}, ns...)...)
	if !strings.Contains(put.PolicyARN, ":scalingPolicy:") || !strings.HasSuffix(put.PolicyARN, ":resource/ecs/service/c/api:policyName/requests") || len(put.Alarms) != 2 {
		t.Fatalf("put %+v", put)
	}
	aws.fails("ValidationException", append([]string{"application-autoscaling", "put-scaling-policy", "--policy-name", "bad", "--policy-type", "TargetTrackingScaling",
		"--target-tracking-scaling-policy-configuration", `{"TargetValue":1000,"PredefinedMetricSpecification":{"PredefinedMetricType":"ALBRequestCountPerTarget"}}`}, ns...)...)
	var alarms struct {
		MetricAlarms []struct{ MetricName, Statistic string }
	}
	aws.run(&alarms, "cloudwatch", "describe-alarms", "--alarm-names", put.Alarms[0].AlarmName)
	if len(alarms.MetricAlarms) != 1 || alarms.MetricAlarms[0].MetricName != "RequestCountPerTarget" || alarms.MetricAlarms[0].Statistic != "Sum" {
		t.Errorf("alarm %+v", alarms)
	}
	var policies struct {
		ScalingPolicies []struct {
			PolicyName                               string
			TargetTrackingScalingPolicyConfiguration struct{ TargetValue float64 }
		}
	}
	aws.run(&policies, "application-autoscaling", "describe-scaling-policies", "--service-namespace", "ecs", "--policy-names", "requests")
	if len(policies.ScalingPolicies) != 1 || policies.ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration.TargetValue != 1000 {
		t.Errorf("policies %+v", policies)
	}
	aws.run(nil, append([]string{"application-autoscaling", "put-scheduled-action", "--scheduled-action-name", "nightly", "--schedule", "cron(0 22 ? * MON-FRI *)",
		"--timezone", "Europe/Berlin", "--scalable-target-action", "MinCapacity=0,MaxCapacity=1"}, ns...)...)
	var sched struct {
		ScheduledActions []struct{ Schedule, Timezone string }
	}
	aws.run(&sched, "application-autoscaling", "describe-scheduled-actions", "--service-namespace", "ecs", "--resource-id", "service/c/api")
	if len(sched.ScheduledActions) != 1 || sched.ScheduledActions[0].Timezone != "Europe/Berlin" {
		t.Errorf("scheduled %+v", sched)
	}
	aws.fails("ObjectNotFoundException", append([]string{"application-autoscaling", "delete-scheduled-action", "--scheduled-action-name", "nope"}, ns...)...)
	aws.run(nil, "application-autoscaling", "tag-resource", "--resource-arn", reg.ScalableTargetARN, "--tags", "env=test")
	var tags struct{ Tags map[string]string }
	aws.run(&tags, "application-autoscaling", "list-tags-for-resource", "--resource-arn", reg.ScalableTargetARN)
	if tags.Tags["env"] != "test" {
		t.Errorf("tags %v", tags)
	}
	aws.run(nil, append([]string{"application-autoscaling", "deregister-scalable-target"}, ns...)...)
	aws.run(&alarms, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "TargetTracking-")
	if len(alarms.MetricAlarms) != 0 {
		t.Errorf("alarms after deregistering: %+v", alarms)
	}
}
