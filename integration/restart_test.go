package integration

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

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
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0123456789abcdef0"), Port: aws.Int32(32768)}}})).must(t)

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
		// Target health is the data plane's, in memory: wait for its first
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
