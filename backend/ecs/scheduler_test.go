package ecs

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// deploymentTasks builds the tasks of a deployment: n of them, all in lastStatus
// (RUNNING counts as healthy when no health check is configured).
func deploymentTasks(deployment, lastStatus string, n int) []taskKeys {
	var out []taskKeys
	for i := range n {
		out = append(out, taskKeys{
			TaskArn: aws.String(fmt.Sprintf("arn:aws:ecs:r:1:task/c/%s-%s-%d", deployment, lastStatus, i)), StartedBy: aws.String(deployment),
			LastStatus: aws.String(lastStatus), DesiredStatus: aws.String(statusRunning),
		})
	}
	return out
}

func service(desired, minPct, maxPct int32, deployments ...string) types.Service {
	svc := types.Service{
		ServiceName: aws.String("web"), Status: aws.String("ACTIVE"), DesiredCount: desired,
		SchedulingStrategy: types.SchedulingStrategyReplica,
		DeploymentConfiguration: &types.DeploymentConfiguration{
			MinimumHealthyPercent: aws.Int32(minPct), MaximumPercent: aws.Int32(maxPct),
		},
	}
	for _, d := range deployments {
		svc.Deployments = append(svc.Deployments, types.Deployment{Id: aws.String(d)})
	}
	return svc
}

func TestPlanService(t *testing.T) {
	now := time.Unix(1000, 0)
	unchecked := func(t taskKeys) verdict { return judge(t, "web", false, nil, 0, now) }
	cat := func(parts ...[]taskKeys) []taskKeys {
		var out []taskKeys
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		svc         types.Service
		tasks       []taskKeys
		start, stop int
	}{
		// (0) A new service starts its desired count.
		{"create", service(3, 100, 200, "new"), nil, 3, 0},
		// (1) Pending tasks count toward the desired count.
		{"pending", service(3, 100, 200, "new"), deploymentTasks("new", "PENDING", 3), 0, 0},
		// (2) Scale in stops the excess.
		{"scale in", service(1, 100, 200, "new"), deploymentTasks("new", "RUNNING", 3), 0, 2},
		// (3) Rolling 100/200: all new tasks start at once, old ones wait.
		{"roll begins", service(3, 100, 200, "new", "old"), deploymentTasks("old", "RUNNING", 3), 3, 0},
		// (4) New tasks healthy: every old task may stop.
		{"roll ends", service(3, 100, 200, "new", "old"), cat(deploymentTasks("new", "RUNNING", 3), deploymentTasks("old", "RUNNING", 3)), 0, 3},
		// (5) New tasks not yet healthy: old ones keep minimumHealthyPercent.
		{"roll waits", service(3, 100, 200, "new", "old"), cat(deploymentTasks("new", "PENDING", 3), deploymentTasks("old", "RUNNING", 3)), 0, 0},
		// (6) 50/100 on 2 tasks: no room to start, so one old task stops first (ceil(2*50%) = 1 stays).
		{"50/100", service(2, 50, 100, "new", "old"), deploymentTasks("old", "RUNNING", 2), 0, 1},
		// (7) 50/100 with one old left: room for one new task.
		{"50/100 next", service(2, 50, 100, "new", "old"), deploymentTasks("old", "RUNNING", 1), 1, 0},
		// (8) maximumPercent 150 on 4 tasks: room for 2 new tasks.
		{"150", service(4, 100, 150, "new", "old"), deploymentTasks("old", "RUNNING", 4), 2, 0},
		// (9) Old tasks that are not healthy always go.
		{"unhealthy old", service(2, 100, 200, "new", "old"), deploymentTasks("old", "PENDING", 2), 2, 2},
		// (10) A draining service stops everything.
		{"draining", func() types.Service { s := service(2, 100, 200, "new"); s.Status = aws.String("DRAINING"); return s }(), deploymentTasks("new", "RUNNING", 2), 0, 2},
	} {
		p := planService(tc.svc, tc.tasks, unchecked, nil)
		if p.start != tc.start || len(p.stop) != tc.stop {
			t.Errorf("(%s) start %d stop %d, want %d and %d", tc.name, p.start, len(p.stop), tc.start, tc.stop)
		}
	}
}

// TestDrainingCountsEveryTask: a deleted service's task still RUNNING
// keeps it DRAINING even when UpdateService already dropped the deployment
// that started it: the service is INACTIVE only after all its tasks have
// left RUNNING (field report: CI's DeleteCluster then found the task).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
func TestDrainingCountsEveryTask(t *testing.T) {
	svc := service(0, 100, 200, "new")
	svc.Status = aws.String("DRAINING")
	stopping := deploymentTasks("dropped", statusRunning, 1)
	stopping[0].DesiredStatus = aws.String(statusStopped)
	p := planService(svc, stopping, func(t taskKeys) verdict { return judge(t, "web", false, nil, 0, time.Unix(1000, 0)) }, nil)
	if p.present() != 1 {
		t.Fatalf("present = %d, want the stopping task", p.present())
	}
}

func TestPlanServiceHealth(t *testing.T) {
	now := time.Unix(1000, 0)
	svc := service(2, 100, 200, "new")
	tasks := deploymentTasks("new", "RUNNING", 2)
	young, old := now.Add(-10*time.Second), now.Add(-2*time.Minute)
	tasks[0].HealthStatus, tasks[0].StartedAt = types.HealthStatusUnhealthy, &young
	tasks[1].HealthStatus, tasks[1].StartedAt = types.HealthStatusUnhealthy, &old
	p := planService(svc, tasks, func(t taskKeys) verdict { return judge(t, "web", true, nil, time.Minute, now) }, nil)
	// The task within the grace period stays; the other is replaced.
	if len(p.stop) != 1 || p.stop[0].arn != *tasks[1].TaskArn || p.stop[0].reason != "Task failed container health checks" || p.start != 1 {
		t.Fatalf("plan = %+v", p)
	}
	// With a health check, RUNNING is not enough to count as healthy.
	if p.healthy != 0 {
		t.Fatalf("healthy = %d", p.healthy)
	}
}

// TestJudgeLoadBalancedTask: behind a load balancer a task counts healthy
// only once its targets are; a failing target stops it after the grace
// period with ECS's reason.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html
func TestJudgeLoadBalancedTask(t *testing.T) {
	now := time.Unix(1000, 0)
	started := now.Add(-30 * time.Second)
	task := deploymentTasks("new", "RUNNING", 1)[0]
	task.StartedAt = &started
	tg := "arn:aws:elasticloadbalancing:r:1:targetgroup/web/0123456789abcdef"
	failing := elbHealth{unhealthy: tg, target: "(port 32768)", reason: "Health checks failed with these codes: [503]"}
	for _, tc := range []struct {
		name    string
		lb      elbHealth
		grace   time.Duration
		healthy bool
		failed  string
	}{
		{"registering", elbHealth{}, 0, false, ""},
		{"healthy", elbHealth{healthy: true}, 0, true, ""},
		{"unhealthy in grace", failing, time.Minute, false, ""},
		{"unhealthy", failing, 10 * time.Second, false, "Task failed ELB health checks in (target-group " + tg + ")"},
	} {
		v := judge(task, "web", false, &tc.lb, tc.grace, now)
		if v.healthy != tc.healthy || v.failed != tc.failed {
			t.Errorf("(%s) verdict %+v", tc.name, v)
		}
	}
	if v := judge(task, "web", false, &failing, 0, now); v.event != "(service web) (port 32768) is unhealthy in (target-group "+tg+") due to (reason Health checks failed with these codes: [503])." {
		t.Errorf("event %q", v.event)
	}
}

func TestBreakerThreshold(t *testing.T) {
	breaker := func(tc *types.ThresholdConfiguration) *types.DeploymentConfiguration {
		return &types.DeploymentConfiguration{DeploymentCircuitBreaker: &types.DeploymentCircuitBreaker{Enable: true, ThresholdConfiguration: tc}}
	}
	for _, tc := range []struct {
		dc      *types.DeploymentConfiguration
		desired int32
		want    int32
	}{
		{breaker(nil), 2, 3},      // 0.5 × 2 = 1, at least 3
		{breaker(nil), 11, 6},     // 5.5 rounds up
		{breaker(nil), 1000, 200}, // at most 200
		{breaker(&types.ThresholdConfiguration{Type: types.ThresholdTypeCount, Value: 1}), 10, 1},
		{breaker(&types.ThresholdConfiguration{Type: types.ThresholdTypeUnboundedPercent, Value: 50}), 2, 1},
	} {
		if got := breakerThreshold(tc.dc, tc.desired); got != tc.want {
			t.Errorf("threshold of %+v for %d = %d, want %d", tc.dc.DeploymentCircuitBreaker.ThresholdConfiguration, tc.desired, got, tc.want)
		}
	}
}

// TestPlanDrainingInstance: the service tasks of a DRAINING container
// instance are replaced within the deployment configuration: "If
// minimumHealthyPercent is below 100%, the scheduler can ignore
// desiredCount temporarily during task replacement"; at 100/200 the
// replacements start first and the drained tasks stop once they are
// healthy.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html
func TestPlanDrainingInstance(t *testing.T) {
	now := time.Unix(1000, 0)
	unchecked := func(t taskKeys) verdict { return judge(t, "web", false, nil, 0, now) }
	onInstances := func(tasks []taskKeys, instances ...string) []taskKeys {
		for i := range tasks {
			tasks[i].ContainerInstanceArn = aws.String(instances[i%len(instances)])
		}
		return tasks
	}
	drained := map[string]bool{"ci-2": true}
	// Six tasks on three instances, two on the draining one: two
	// replacements start, nothing stops yet (100% must stay healthy).
	tasks := onInstances(deploymentTasks("new", statusRunning, 6), "ci-1", "ci-2", "ci-3")
	if p := planService(service(6, 100, 200, "new"), tasks, unchecked, drained); p.start != 2 || len(p.stop) != 0 {
		t.Errorf("start %d stop %d, want 2 and 0", p.start, len(p.stop))
	}
	// The replacements run: the two drained tasks stop, none other.
	replaced := append(tasks, onInstances(deploymentTasks("new2", statusRunning, 2), "ci-1", "ci-3")...)
	for i := 6; i < 8; i++ {
		replaced[i].StartedBy = aws.String("new")
		replaced[i].TaskArn = aws.String(fmt.Sprintf("arn:aws:ecs:r:1:task/c/replacement-%d", i))
	}
	p := planService(service(6, 100, 200, "new"), replaced, unchecked, drained)
	if p.start != 0 || len(p.stop) != 2 {
		t.Fatalf("start %d stop %d, want 0 and 2", p.start, len(p.stop))
	}
	for _, st := range p.stop {
		for _, tk := range replaced {
			if *tk.TaskArn == st.arn && *tk.ContainerInstanceArn != "ci-2" {
				t.Errorf("stopped %s on %s, want only the draining instance's", st.arn, *tk.ContainerInstanceArn)
			}
		}
	}
	// At 50/100 there is no room above the desired count: both drained
	// tasks stop first (the four others keep ceil(6 × 50%) = 3 healthy)
	// and their replacements start on a later pass.
	if p := planService(service(6, 50, 100, "new"), tasks, unchecked, drained); p.start != 0 || len(p.stop) != 2 {
		t.Errorf("50/100: start %d stop %d, want 0 and 2", p.start, len(p.stop))
	}
}
