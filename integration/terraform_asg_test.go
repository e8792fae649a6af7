package integration

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// getWith sends a GET with the header given and returns the status,
// response headers and body.
func getWith(t *testing.T, url, header, value string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestTerraformECSASG applies the EC2 launch type's standard shape: a
// launch template, an Auto Scaling group of hosts protected from scale in
// (with lifecycle hooks, a warm pool, propagated tags, and Terraform
// waiting for its capacity), a capacity provider with managed scaling and
// managed termination protection as the cluster's default strategy, and a
// bridge-networked service on it behind an ALB whose listener sends HSTS
// and no Server header and whose http-header rule (a value with spaces)
// answers uptime checkers itself. A plan after the apply has no changes;
// a new APP_VERSION rolls the service; destroy leaves nothing behind, no
// group nor running instance either.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-attributes.html
func TestTerraformECSASG(t *testing.T) {
	t.Parallel()
	ctx, c := context.Background(), shared.clients("eu-central-1")
	tf := newTerraform(t, "ecs-asg", c.region, "-var", "image="+testImage)
	as := autoscalingClient(c)
	tf.lifecycle(func(out map[string]string) {
		base := "http://" + hostAddress(t, shared, out["dns_name"])
		code, header, body := getWith(t, base+"/", "", "")
		if code != 200 || !strings.Contains(body, `"app":"shop"`) {
			t.Fatalf("GET / through the ALB = %d %q", code, body)
		}
		if hsts := header.Get("Strict-Transport-Security"); hsts != "max-age=31536000; includeSubDomains; preload" {
			t.Errorf("Strict-Transport-Security = %q", hsts)
		}
		if v := header.Get("X-Content-Type-Options"); v != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", v)
		}
		if _, ok := header["Server"]; ok {
			t.Errorf("Server header sent with routing.http.response.server.enabled=false: %q", header.Get("Server"))
		}
		if code, _, body := getWith(t, base+"/", "User-Agent", "Uptime Checker v2 (+https://example.com)"); code != 200 || body != "hello, checker" {
			t.Errorf("GET / as an uptime checker = %d %q, want the header rule's answer", code, body)
		}

		g := group(t, ctx, as, out["asg_name"])
		if aws.ToString(g.AutoScalingGroupARN) != out["asg_arn"] || len(g.Instances) != 1 || g.Instances[0].LifecycleState != astypes.LifecycleStateInService ||
			!aws.ToBool(g.Instances[0].ProtectedFromScaleIn) || g.WarmPoolConfiguration == nil {
			t.Errorf("group = %+v", g)
		}
		hooks := try(as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: g.AutoScalingGroupName})).must(t).LifecycleHooks
		if len(hooks) != 2 {
			t.Errorf("lifecycle hooks = %+v", hooks)
		}
		instances := groupInstances(t, ctx, c, out["asg_name"])
		// The launch template's AMI is the ECS-optimized one the public
		// SSM parameter names.
		if len(instances) != 1 || !strings.HasPrefix(out["ami"], "ami-") || aws.ToString(instances[0].ImageId) != out["ami"] {
			t.Fatalf("the group's EC2 instances = %+v", instances)
		}
		if v, ok := tagOf(instances[0].Tags, "AmazonECSManaged"); !ok || v != "true" {
			t.Errorf("instance tags = %+v", instances[0].Tags)
		}
		providers := try(c.ecs.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{CapacityProviders: []string{"shop-hosts"}})).must(t).CapacityProviders
		if len(providers) != 1 || aws.ToString(providers[0].AutoScalingGroupProvider.AutoScalingGroupArn) != out["asg_arn"] {
			t.Errorf("capacity provider = %+v", providers)
		}

		// A new version of the task definition rolls the service.
		tf.run("apply", "-auto-approve", "-var", "app_version=2")
		eventually(t, "version 2 answering through the ALB", func() bool {
			code, _, body := getWith(t, base+"/env?name=APP_VERSION", "", "")
			return code == 200 && body == "2"
		})
	})
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Fatalf("terraform destroy left %v", left)
	}
	if groups := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})).must(t).AutoScalingGroups; len(groups) != 0 {
		t.Fatalf("terraform destroy left groups %+v", groups)
	}
	running := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{filter("instance-state-name", "running")}})).must(t)
	if len(running.Reservations) != 0 {
		t.Fatalf("terraform destroy left instances running: %+v", running.Reservations)
	}
}
