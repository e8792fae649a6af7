package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// providerMirrors are where the Terraform AWS provider may be installed as
// a filesystem mirror (the machines' images put it in the first).
var providerMirrors = []string{"/opt/tf-plugins", "/usr/share/terraform/plugins", os.ExpandEnv("$HOME/.terraform.d/plugins")}

// terraform is one Terraform configuration of integration/terraform,
// copied with the shared provider block into a working directory, applied
// against the shared berth in a region of its own: a real region's name,
// which the provider's ARN checks want, that no other test uses.
type terraform struct {
	t      *testing.T
	dir    string
	region string
	vars   []string
}

func newTerraform(t *testing.T, config, region string, vars ...string) *terraform {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatal("terraform is not installed")
	}
	mirror := ""
	for _, m := range providerMirrors {
		if found, _ := filepath.Glob(filepath.Join(m, "registry.terraform.io/hashicorp/aws/*")); len(found) > 0 {
			mirror = m
			break
		}
	}
	if mirror == "" {
		t.Fatalf("the Terraform AWS provider is in none of %v", providerMirrors)
	}
	tf := &terraform{t: t, dir: t.TempDir(), region: region}
	for _, src := range []string{"terraform/provider.tf", filepath.Join("terraform", config, "main.tf")} {
		body, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tf.dir, filepath.Base(src)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tf.vars = append([]string{"-var", "endpoint=" + shared.url, "-var", "region=" + tf.region}, vars...)
	tf.run("init", "-plugin-dir="+mirror)
	return tf
}

// run runs a terraform command in the configuration's directory and
// returns its output, failing the test on an error.
func (tf *terraform) run(args ...string) string {
	tf.t.Helper()
	out, err := tf.exec(args...)
	if err != nil {
		tf.t.Fatalf("terraform %s: %v\n%s", args[0], err, out)
	}
	return out
}

func (tf *terraform) exec(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	switch args[0] {
	case "apply", "plan", "destroy":
		args = append(args, tf.vars...)
		fallthrough
	case "init":
		args = append(args, "-input=false")
	}
	cmd := exec.CommandContext(ctx, "terraform", append(args, "-no-color")...)
	cmd.Dir = tf.dir
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_CLI_CONFIG_FILE=/dev/null")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// lifecycle applies the configuration, checks that a plan then has no
// changes, runs check, destroys it all and checks that nothing is left.
func (tf *terraform) lifecycle(check func(outputs map[string]string)) {
	tf.t.Helper()
	tf.run("apply", "-auto-approve")
	if out, err := tf.exec("plan", "-detailed-exitcode"); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 2 {
			tf.t.Fatalf("terraform plan after apply wants changes:\n%s", out)
		}
		tf.t.Fatalf("terraform plan: %v\n%s", err, out)
	}
	var raw map[string]struct{ Value any }
	if err := json.Unmarshal([]byte(tf.run("output", "-json")), &raw); err != nil {
		tf.t.Fatal(err)
	}
	outputs := map[string]string{}
	for k, v := range raw {
		outputs[k] = fmt.Sprint(v.Value)
	}
	check(outputs)
	tf.run("destroy", "-auto-approve")
}

// leftBehind lists what a destroyed configuration left in its region:
// clusters, load balancers, target groups, non-default VPCs, containers
// and the tasks' own Docker volumes.
func leftBehind(t *testing.T, region string) []string {
	ctx, c := context.Background(), shared.clients(region)
	left := try(c.ecs.ListClusters(ctx, &ecs.ListClustersInput{})).must(t).ClusterArns
	for _, lb := range try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})).must(t).LoadBalancers {
		left = append(left, *lb.LoadBalancerArn)
	}
	for _, tg := range try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})).must(t).TargetGroups {
		left = append(left, *tg.TargetGroupArn)
	}
	for _, v := range try(c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})).must(t).Vpcs {
		if !aws.ToBool(v.IsDefault) {
			left = append(left, *v.VpcId)
		}
	}
	left = append(left, dockerLines("ps", "-aq", "--filter", "label=berth.instance="+shared.instance, "--filter", "label=berth.region="+region)...)
	left = append(left, dockerLines("volume", "ls", "-q", "--filter", "label=berth.instance="+shared.instance, "--filter", "label=berth.region="+region, "--filter", "label=berth.task-volume")...)
	return left
}

// TestTerraformLoadBalancers applies, in one configuration, an ECS service
// of the EC2 launch type (bridge networking, dynamic host ports) behind an
// ALB that routes /api/* to it, and a TCP service behind an internal NLB,
// with the AWS provider; a plan after the apply has no changes; a request
// through the ALB reaches the service, and a TCP connection through the
// NLB reaches the other; destroy leaves nothing behind. One apply rather
// than one a load balancer: the provider waits 30 s twice for each, and
// the waits overlap.
func TestTerraformLoadBalancers(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "ec2-alb-nlb", "eu-west-1", "-var", "image="+testImage)
	tf.lifecycle(func(out map[string]string) {
		t.Run("ALB", func(t *testing.T) {
			base := "http://" + hostAddress(t, shared, out["alb_dns_name"])
			if code, body := fetch(base+"/api/users", ""); code != 200 || !strings.Contains(body, `"app":"api"`) {
				t.Errorf("GET /api/users through the ALB = %d %q", code, body)
			}
			if code, body := fetch(base+"/", ""); code != 404 || body != "not here" {
				t.Errorf("GET / through the ALB = %d %q, want the fixed 404", code, body)
			}
		})
		t.Run("NLB", func(t *testing.T) {
			url := "http://" + net.JoinHostPort(hostAddress(t, shared, out["nlb_dns_name"]), "7000") + "/"
			if code, body := fetch(url, ""); code != 200 || !strings.Contains(body, `"app":"echo"`) {
				t.Errorf("GET through the NLB = %d %q", code, body)
			}
		})
	})
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Fatalf("terraform destroy left %v", left)
	}
}

// TestTerraformFargateVpc applies a Fargate service in a VPC of its own
// (two subnets, an internet gateway and route table, security groups and
// rules, an execution role, a log group the tasks write to) behind an ALB
// with an ip target group, whose task definition takes secrets from SSM
// Parameter Store and Secrets Manager; the same checks as above, the
// secrets' values in the app's environment, and the output of
// each task's app (through its FireLens log router sidecar, the second
// container holding the port mapping) and of the router is in the log
// group.
func TestTerraformFargateVpc(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "fargate-vpc", "eu-west-2", "-var", "image="+testImage)
	tf.lifecycle(func(out map[string]string) {
		base := "http://" + hostAddress(t, shared, out["dns_name"])
		if code, body := fetch(base+"/", ""); code != 200 || !strings.Contains(body, `"app":"shop"`) {
			t.Fatalf("GET / through the ALB = %d %q", code, body)
		}
		if out["account_id"] != "000000000000" {
			t.Fatalf("aws_caller_identity = %q", out["account_id"])
		}
		// The task got its settings and secrets from both stores.
		for name, want := range map[string]string{"DB_HOST": "db.shop.internal", "API_TOKEN": "tok-shop-7f3a", "DB_PASSWORD": "s3cret-Pa55word"} {
			if code, body := fetch(base+"/env?name="+name, ""); code != 200 || body != want {
				t.Fatalf("GET /env?name=%s through the ALB = %d %q, want %q", name, code, body, want)
			}
		}
		logs := shared.clients(tf.region).logs
		for _, prefix := range []string{"app-app-firelens-", "firelens/log_router/"} {
			eventually(t, "the output of each task's "+prefix+" in the log group", func() bool {
				events := try(logs.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{
					LogGroupName: aws.String(out["log_group"]), LogStreamNamePrefix: aws.String(prefix), FilterPattern: aws.String("listening"),
				})).must(t).Events
				return len(events) == 2
			})
		}
	})
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Fatalf("terraform destroy left %v", left)
	}
}
