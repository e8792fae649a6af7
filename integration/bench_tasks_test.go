package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// benchBerth starts a berth with the Docker runtime and a cluster "c" with
// the task definition "web" of the test image.
func benchBerth(b *testing.B) (*berth, context.Context, clients) {
	srv, err := start(filepath.Join(b.TempDir(), "data"), "--log-level", "error")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		srv.kill()
		srv.removeContainers()
	})
	ctx, c := context.Background(), srv.clients("us-east-1")
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(&testing.T{})
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
	})).must(&testing.T{})
	return srv, ctx, c
}

// poll calls cond every 5 ms until it holds.
func poll(b *testing.B, cond func() bool) {
	for deadline := time.Now().Add(2 * time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
	}
}

func lastStatus(ctx context.Context, c clients, arns ...string) []string {
	d, err := c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range d.Tasks {
		out = append(out, aws.ToString(t.LastStatus))
	}
	return out
}

func reportLatencies(b *testing.B, took []time.Duration, unit string) {
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms/"+unit)
	b.ReportMetric(ms(took[len(took)*99/100]), "p99-ms/"+unit)
}

// BenchmarkRunTask measures RunTask until the task is RUNNING (as
// DescribeTasks reports it) with a local image, one task at a time.
func BenchmarkRunTask(b *testing.B) {
	_, ctx, c := benchBerth(b)
	var took []time.Duration
	for range b.N {
		t0 := time.Now()
		arn := *try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")})).must(&testing.T{}).Tasks[0].TaskArn
		poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"RUNNING"}) })
		took = append(took, time.Since(t0))
		b.StopTimer()
		c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: &arn})
		poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"STOPPED"}) })
		b.StartTimer()
	}
	reportLatencies(b, took, "RunTask-to-RUNNING")
}

// BenchmarkServiceSteady measures CreateService until the service is
// stable (one deployment, runningCount = desiredCount) for 1 and 10 tasks.
func BenchmarkServiceSteady(b *testing.B) {
	for _, n := range []int32{1, 10} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, ctx, c := benchBerth(b)
			var took []time.Duration
			for i := range b.N {
				name := fmt.Sprint("svc", i)
				t0 := time.Now()
				try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: &name, TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(n)})).must(&testing.T{})
				poll(b, func() bool {
					d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})
					return err == nil && len(d.Services[0].Deployments) == 1 && d.Services[0].RunningCount == n
				})
				took = append(took, time.Since(t0))
				b.StopTimer()
				try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: &name, Force: aws.Bool(true)})).must(&testing.T{})
				poll(b, func() bool {
					d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})
					return err == nil && aws.ToString(d.Services[0].Status) == "INACTIVE"
				})
				b.StartTimer()
			}
			reportLatencies(b, took, "CreateService-to-steady")
		})
	}
}

// BenchmarkRunningMemory reports berth's resident memory while a service
// of 50 tasks runs.
func BenchmarkRunningMemory(b *testing.B) {
	var mb float64
	for range b.N {
		srv, ctx, c := benchBerth(b)
		try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("fifty"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(50)})).must(&testing.T{})
		poll(b, func() bool {
			d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"fifty"}})
			return err == nil && d.Services[0].RunningCount == 50
		})
		time.Sleep(time.Second)
		mb = rssMB(srv.cmd.Process.Pid)
	}
	b.ReportMetric(mb, "MB-rss-50-tasks")
}

// rssMB is a process's resident memory in MiB.
func rssMB(pid int) float64 {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkServiceBehindALB measures, with a local image and a target group
// with default health checks, the time from CreateService (2 tasks) to the
// first request answered through the listener, and the time a rolling
// deployment of those 2 tasks takes with a 2 s deregistration delay
// (UpdateService with forceNewDeployment until the new deployment is
// COMPLETED and the old one is gone).
func BenchmarkServiceBehindALB(b *testing.B) {
	srv, ctx, c := benchBerth(b)
	t := &testing.T{}
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("bench"), Subnets: subnets(b, ctx, c)[:2]})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("bench"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId, HealthCheckPath: aws.String("/health"),
	})).must(t).TargetGroups[0]
	try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("2")}},
	})).must(t)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}},
	})).must(t)
	url := "http://" + hostAddress(t, srv, *lb.DNSName)
	describe := func(name string) types.Service {
		d, err := c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{name}})
		if err != nil {
			return types.Service{}
		}
		return d.Services[0]
	}
	completed := func(name, not string) bool {
		d := describe(name).Deployments
		return len(d) == 1 && d[0].RolloutState == types.DeploymentRolloutStateCompleted && aws.ToString(d[0].Id) != not
	}
	var first, rollout []time.Duration
	for i := range b.N {
		name := fmt.Sprint("svc", i)
		t0 := time.Now()
		try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("c"), ServiceName: &name, TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
			LoadBalancers: []types.LoadBalancer{{TargetGroupArn: tg.TargetGroupArn, ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		})).must(t)
		poll(b, func() bool { status, _ := fetch(url, ""); return status == 200 })
		first = append(first, time.Since(t0))
		poll(b, func() bool { return completed(name, "") })

		old := aws.ToString(describe(name).Deployments[0].Id)
		t1 := time.Now()
		try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: &name, ForceNewDeployment: true})).must(t)
		poll(b, func() bool { return completed(name, old) })
		rollout = append(rollout, time.Since(t1))

		b.StopTimer()
		try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: &name, Force: aws.Bool(true)})).must(t)
		poll(b, func() bool { return aws.ToString(describe(name).Status) == "INACTIVE" })
		b.StartTimer()
	}
	reportLatencies(b, first, "CreateService-to-first-request")
	reportLatencies(b, rollout, "2-task-rollout")
}

// BenchmarkRunTaskSecrets measures what reading secrets adds to RunTask
// until RUNNING: each iteration runs a task without secrets and one whose
// container takes 10 from SSM Parameter Store and 10 from Secrets
// Manager, and reports both p50s and their difference.
func BenchmarkRunTaskSecrets(b *testing.B) {
	_, ctx, c := benchBerth(b)
	t := &testing.T{}
	role := try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})).must(t).Role.Arn
	web := webContainer("app")
	for i := range 10 {
		name := fmt.Sprintf("/bench/param-%d", i)
		try(c.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("v")})).must(t)
		secret := try(c.secretsmanager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("bench-%d", i)), SecretString: aws.String(`{"k":"v"}`)})).must(t)
		web.Secrets = append(web.Secrets,
			types.Secret{Name: aws.String(fmt.Sprintf("P%d", i)), ValueFrom: aws.String(name)},
			types.Secret{Name: aws.String(fmt.Sprintf("S%d", i)), ValueFrom: aws.String(*secret.ARN + ":k::")})
	}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("secrets"), ExecutionRoleArn: role, ContainerDefinitions: []types.ContainerDefinition{web},
	})).must(t)
	took := map[string][]time.Duration{}
	for range b.N {
		for _, family := range []string{"web", "secrets"} {
			t0 := time.Now()
			arn := *try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String(family)})).must(t).Tasks[0].TaskArn
			poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"RUNNING"}) })
			took[family] = append(took[family], time.Since(t0))
			b.StopTimer()
			c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: &arn})
			poll(b, func() bool { return slices.Equal(lastStatus(ctx, c, arn), []string{"STOPPED"}) })
			b.StartTimer()
		}
	}
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	none, secrets := p50(took["web"]), p50(took["secrets"])
	b.ReportMetric(none, "p50-ms/none")
	b.ReportMetric(secrets, "p50-ms/20-secrets")
	b.ReportMetric(secrets-none, "added-p50-ms")
}
