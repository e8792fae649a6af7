package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmapi "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// The ELBv2 rule and target group semantics AWS has and berth must match
// (issue 19, kind 3). Each expected code and text names its source: the
// ELBv2 API Reference, or a report of what AWS answered.

// defaultVpcID returns the id of the region's default VPC.
func defaultVpcID(tb testing.TB, ctx context.Context, c clients) string {
	tb.Helper()
	out, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{filter("is-default", "true")}})
	if err != nil || len(out.Vpcs) != 1 {
		tb.Fatalf("the default VPC: %v %+v", err, out)
	}
	return *out.Vpcs[0].VpcId
}

// acmCertificate imports a self-signed certificate for name into berth's
// ACM and returns its ARN.
func acmCertificate(t *testing.T, ctx context.Context, c clients, name string) string {
	t.Helper()
	cert, key := selfSigned(t, name)
	return *try(c.acm.ImportCertificate(ctx, &acmapi.ImportCertificateInput{Certificate: cert, PrivateKey: key})).must(t).CertificateArn
}

// wantExactMessage checks an error's code and its exact message.
func wantExactMessage(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Fatalf("got error %v, want %s: %s", err, code, message)
	}
}

// cliFails runs an aws CLI command that must fail, and checks that its
// output names the error code and holds the message.
func cliFails(t *testing.T, region, code, message string, args ...string) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", shared.url, "--region", region}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "("+code+")") || !strings.Contains(string(out), message) {
		t.Fatalf("aws %s = %v %s, want %s: %s", strings.Join(args, " "), err, out, code, message)
	}
}

// TestRuleConditionValuesOrConfig: host-header and path-pattern take one
// legacy Value, or any number in their config, never both.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
// ("you can specify a single host name ... in Values"; "Alternatively, to
// specify multiple host names or multiple path patterns, use
// HostHeaderConfig or PathPatternConfig"); texts as moto answers them
// (tests/test_elbv2/test_elbv2_listener_rules.py).
func TestRuleConditionValuesOrConfig(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "conditions")
	create := func(priority int32, cond types.RuleCondition) (*elbv2.CreateRuleOutput, error) {
		return c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(priority),
			Conditions: []types.RuleCondition{cond}, Actions: []types.Action{forwardTo(s.tg)}})
	}
	_, err := create(1, types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"},
		PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/b"}}})
	wantExactMessage(t, err, "ValidationError", "You cannot provide both Values and 'PathPatternConfig' for a condition of type 'path-pattern'")
	_, err = create(1, types.RuleCondition{Field: aws.String("host-header"), Values: []string{"a.example.com"},
		HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"b.example.com"}}})
	wantExactMessage(t, err, "ValidationError", "You cannot provide both Values and 'HostHeaderConfig' for a condition of type 'host-header'")
	_, err = create(1, types.RuleCondition{Field: aws.String("host-header"), Values: []string{"a.example.com", "b.example.com"}})
	wantExactMessage(t, err, "ValidationError", "The 'host-header' field contains too many values; the limit is '1'")
	_, err = create(1, types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a", "/b"}})
	wantExactMessage(t, err, "ValidationError", "The 'path-pattern' field contains too many values; the limit is '1'")

	// Several values in the config are fine, and both forms come back.
	r := try(create(2, types.RuleCondition{Field: aws.String("host-header"),
		HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a.example.com", "b.example.com"}}})).must(t).Rules[0]
	if got := r.Conditions[0]; len(got.Values) != 2 || len(got.HostHeaderConfig.Values) != 2 {
		t.Fatalf("host-header condition = %+v", got)
	}
	// ModifyRule checks its conditions the same way.
	_, err = c.elbv2.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: r.RuleArn, Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"),
		Values: []string{"/a"}, PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/a"}}}}})
	wantCode(t, err, "ValidationError")

	// The aws CLI sends the legacy form.
	cliFails(t, c.region, "ValidationError", "The 'path-pattern' field contains too many values; the limit is '1'",
		"elbv2", "create-rule", "--listener-arn", s.listener, "--priority", "3",
		"--conditions", "Field=path-pattern,Values=/a,/b", "--actions", "Type=forward,TargetGroupArn="+s.tg)
}

// TestTargetGroupStickinessFidelity: each kind of target group takes its
// own stickiness types. API_TargetGroupAttribute: "lb_cookie and
// app_cookie for Application Load Balancers, source_ip for Network Load
// Balancers, source_ip_dest_ip and source_ip_dest_ip_proto for Gateway
// Load Balancers".
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
func TestTargetGroupStickinessFidelity(t *testing.T) {
	ctx, c := setup(t)
	vpc := defaultVpcID(t, ctx, c)
	group := func(name string, protocol types.ProtocolEnum, port int32) string {
		return *try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: protocol, Port: aws.Int32(port),
			VpcId: aws.String(vpc)})).must(t).TargetGroups[0].TargetGroupArn
	}
	modify := func(arn string, kv ...string) error {
		var attrs []types.TargetGroupAttribute
		for i := 0; i < len(kv); i += 2 {
			attrs = append(attrs, types.TargetGroupAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn), Attributes: attrs})
		return err
	}
	http, tcp, tls, geneve := group("http", types.ProtocolEnumHttp, 80), group("tcp", types.ProtocolEnumTcp, 80),
		group("tls", types.ProtocolEnumTls, 443), group("geneve", types.ProtocolEnumGeneve, 6081)

	// An application cookie needs its name: "You must set an application
	// cookie name to enable stickiness of type 'app_cookie'" (moto's
	// models.py and the cdk-preflight rule pf-elbv2-app-cookie-name quote
	// it).
	err := modify(http, "stickiness.enabled", "true", "stickiness.type", "app_cookie")
	wantExactMessage(t, err, "InvalidConfigurationRequest", "You must set an application cookie name to enable stickiness of type 'app_cookie'")
	if err := modify(http, "stickiness.enabled", "true", "stickiness.type", "app_cookie", "stickiness.app_cookie.cookie_name", "SESSION"); err != nil {
		t.Fatal(err)
	}

	// The Terraform provider's acceptance tests, run against AWS
	// (TestAccELBV2TargetGroup_Stickiness_invalidALB, _invalidNLB), and
	// moto's test_target_group_attributes_stickiness (getmoto/moto#6886)
	// give these.
	err = modify(http, "stickiness.enabled", "true", "stickiness.type", "source_ip")
	wantExactMessage(t, err, "InvalidConfigurationRequest", "Stickiness type 'source_ip' is not supported for target groups with the HTTP protocol")
	err = modify(tcp, "stickiness.enabled", "false", "stickiness.type", "lb_cookie")
	wantExactMessage(t, err, "InvalidConfigurationRequest", "Stickiness type 'lb_cookie' is not supported for target groups with the TCP protocol")
	err = modify(tls, "stickiness.enabled", "true", "stickiness.type", "source_ip")
	wantExactMessage(t, err, "InvalidConfigurationRequest", "You cannot enable stickiness on target groups with the TLS protocol")
	err = modify(http, "stickiness.enabled", "true", "stickiness.type", "lb_cookie", "load_balancing.algorithm.type", "weighted_random")
	if err == nil || !strings.Contains(err.Error(), "You cannot have both stickiness and weighted random algorithm enabled on the same target group.") {
		t.Fatalf("stickiness with weighted_random: %v", err)
	}
	err = modify(http, "stickiness.type", "source_ip_dest_ip")
	wantExactMessage(t, err, "ValidationError", "'Stickiness type' must be one of [app_cookie, lb_cookie, source_ip]")
	err = modify(geneve, "stickiness.enabled", "true", "stickiness.type", "source_ip")
	wantExactMessage(t, err, "ValidationError", "'source_ip' must be one of [source_ip_dest_ip_proto, source_ip_dest_ip]")
	err = modify(geneve, "stickiness.enabled", "true", "stickiness.type", "app_cookie", "stickiness.app_cookie.cookie_name", "SESSION")
	wantExactMessage(t, err, "ValidationError", "Target group attribute key 'stickiness.app_cookie.cookie_name' is not recognized")
	if err := modify(tcp, "stickiness.enabled", "true", "stickiness.type", "source_ip"); err != nil {
		t.Fatal(err)
	}
	if err := modify(geneve, "stickiness.enabled", "true", "stickiness.type", "source_ip_dest_ip"); err != nil {
		t.Fatal(err)
	}
	// A Gateway Load Balancer group has its own attributes: target
	// failover, and no client IP preservation.
	attrs := try(c.elbv2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(geneve)})).must(t).Attributes
	if attr(attrs, "target_failover.on_unhealthy") != "no_rebalance" || attr(attrs, "preserve_client_ip.enabled") != "<missing>" {
		t.Fatalf("GENEVE target group attributes = %+v", attrs)
	}

	// The aws CLI, as a user types it.
	cliFails(t, c.region, "InvalidConfigurationRequest", "You must set an application cookie name to enable stickiness of type 'app_cookie'",
		"elbv2", "modify-target-group-attributes", "--target-group-arn", http,
		"--attributes", "Key=stickiness.enabled,Value=true", "Key=stickiness.type,Value=app_cookie", "Key=stickiness.app_cookie.cookie_name,Value=")
}

// TestHealthCheckIntervalAndTimeout: the interval must exceed the timeout
// for Application Load Balancer groups only. AWS answers "Health check
// interval must be greater than the timeout." (ValidationError;
// aws/aws-cdk#3703, #22155, #29062); a Network Load Balancer group takes a
// timeout up to its interval (aws/aws-cdk#26031), so TCP with interval 10
// and the default timeout 10 is valid.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
func TestHealthCheckIntervalAndTimeout(t *testing.T) {
	ctx, c := setup(t)
	vpc := defaultVpcID(t, ctx, c)
	tcp := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("tcp"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(7000),
		VpcId: aws.String(vpc), HealthCheckIntervalSeconds: aws.Int32(10)})).must(t).TargetGroups[0]
	if aws.ToInt32(tcp.HealthCheckIntervalSeconds) != 10 || aws.ToInt32(tcp.HealthCheckTimeoutSeconds) != 10 {
		t.Fatalf("TCP group health check = %d/%d, want interval 10, timeout 10", aws.ToInt32(tcp.HealthCheckIntervalSeconds), aws.ToInt32(tcp.HealthCheckTimeoutSeconds))
	}
	_, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("http"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(vpc), HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(10)})
	wantExactMessage(t, err, "ValidationError", "Health check interval must be greater than the timeout.")
	http := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("http"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(vpc)})).must(t).TargetGroups[0]
	_, err = c.elbv2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: http.TargetGroupArn, HealthCheckTimeoutSeconds: aws.Int32(30)})
	wantExactMessage(t, err, "ValidationError", "Health check interval must be greater than the timeout.")
	cliFails(t, c.region, "ValidationError", "Health check interval must be greater than the timeout.",
		"elbv2", "create-target-group", "--name", "cli", "--protocol", "HTTPS", "--port", "443", "--vpc-id", vpc,
		"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "5")
}

// TestTargetGroupVPCMustExist: "The VPC ID 'vpc-...' is not found"
// (ValidationError; ansible/ansible#31919 quotes AWS).
func TestTargetGroupVPCMustExist(t *testing.T) {
	ctx, c := setup(t)
	_, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("lost"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String("vpc-0123456789abcdef0")})
	wantExactMessage(t, err, "ValidationError", "The VPC ID 'vpc-0123456789abcdef0' is not found")
	cliFails(t, c.region, "ValidationError", "The VPC ID 'vpc-0000000000000dead' is not found",
		"elbv2", "create-target-group", "--name", "lost", "--protocol", "TCP", "--port", "80", "--vpc-id", "vpc-0000000000000dead")
}

// TestListenerProtocolFitsLoadBalancerType: a protocol the load
// balancer's type lacks is a ValidationError naming the ones it has:
// "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'"
// (pulumi/pulumi-aws#1193, an NLB) and 'HTTPS, HTTP' for an ALB (issue 19).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
func TestListenerProtocolFitsLoadBalancerType(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "alb")
	_, err := c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81),
		DefaultActions: []types.Action{forwardTo(s.tg)}})
	wantExactMessage(t, err, "ValidationError", "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'")
	_, err = c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(s.listener), Protocol: types.ProtocolEnumUdp})
	wantExactMessage(t, err, "ValidationError", "Listener protocol 'UDP' must be one of 'HTTPS, HTTP'")

	// A target group whose protocol the listener cannot forward to is
	// another matter: IncompatibleProtocols, "The listener and the
	// following target groups have incompatible protocols" (as the README
	// of a public sandbox, tf_asg_dual_alb_nlb, quotes AWS).
	tcp := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("tcp"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80),
		VpcId: aws.String(defaultVpcID(t, ctx, c))})).must(t).TargetGroups[0]
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(82),
		DefaultActions: []types.Action{forwardTo(*tcp.TargetGroupArn)}})
	if e := wantErr[*types.IncompatibleProtocolsException](t, err); !strings.HasPrefix(e.ErrorMessage(), "The listener and the following target groups have incompatible protocols") {
		t.Errorf("IncompatibleProtocols: %q", e.ErrorMessage())
	}

	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("nlb"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	cliFails(t, c.region, "ValidationError", "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'",
		"elbv2", "create-listener", "--load-balancer-arn", *nlb.LoadBalancerArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=fixed-response,FixedResponseConfig={StatusCode=404}")
}

// TestNLBSecondaryIPsAttribute: secondary_ips.auto_assigned.per_subnet,
// 0 to 7, default 0, and "After you set this value, you can't decrease
// it"; Network Load Balancers only.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
func TestNLBSecondaryIPsAttribute(t *testing.T) {
	ctx, c := setup(t)
	const key = "secondary_ips.auto_assigned.per_subnet"
	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("nlb"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	set := func(arn *string, v string) error {
		_, err := c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: arn,
			Attributes: []types.LoadBalancerAttribute{{Key: aws.String(key), Value: aws.String(v)}}})
		return err
	}
	described := func() string {
		return attr(try(c.elbv2.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: nlb.LoadBalancerArn})).must(t).Attributes, key)
	}
	if got := described(); got != "0" {
		t.Fatalf("%s = %s, want the default 0", key, got)
	}
	if err := set(nlb.LoadBalancerArn, "3"); err != nil {
		t.Fatal(err)
	}
	if got := described(); got != "3" {
		t.Fatalf("%s = %s, want 3", key, got)
	}
	if err := set(nlb.LoadBalancerArn, "8"); err == nil {
		t.Error("8 secondary IPs per subnet were accepted; the range is 0 to 7")
	}
	if err := set(nlb.LoadBalancerArn, "2"); err == nil {
		t.Error("the number of secondary IPs was decreased")
	}
	if got := described(); got != "3" {
		t.Fatalf("%s = %s after refused changes, want 3", key, got)
	}
	// A key of another type of load balancer, and one no type has
	// (terraform-provider-aws#34135, #22037).
	s := newALB(t, ctx, c, "alb")
	wantExactMessage(t, set(aws.String(s.lb), "1"), "InvalidConfigurationRequest",
		"Load balancer attribute key 'secondary_ips.auto_assigned.per_subnet' is not supported on load balancers with type 'application'")
	_, err := c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: nlb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("secondary_ips.per_subnet"), Value: aws.String("1")}}})
	wantExactMessage(t, err, "ValidationError", "Load balancer attribute key 'secondary_ips.per_subnet' is not recognized")
}

// TestListenerCertificatesMustExist: an HTTPS or TLS listener, and
// AddListenerCertificates, refuse an ACM certificate ACM does not hold:
// CertificateNotFound, "Certificate '<arn>' not found" (400;
// API_CreateListener, API_AddListenerCertificates; the text as
// terraform-provider-aws#17505 and many reports quote it). An IAM server
// certificate is taken as given (berth's IAM keeps none).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
func TestListenerCertificatesMustExist(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "certs")
	missing := "arn:aws:acm:" + c.region + ":000000000000:certificate/00000000-0000-0000-0000-000000000000"
	https := func(port int32, arn string) (*elbv2.CreateListenerOutput, error) {
		return c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(port),
			Certificates: []types.Certificate{{CertificateArn: aws.String(arn)}}, DefaultActions: []types.Action{forwardTo(s.tg)}})
	}
	_, err := https(443, missing)
	wantExactMessage(t, err, "CertificateNotFound", "Certificate '"+missing+"' not found")
	wantErr[*types.CertificateNotFoundException](t, err)
	// A certificate of another region is not found either.
	held := acmCertificate(t, ctx, c, "certs.example.test")
	_, err = https(443, strings.Replace(held, ":"+c.region+":", ":eu-north-9:", 1))
	wantErr[*types.CertificateNotFoundException](t, err)

	l := try(https(443, held)).must(t).Listeners[0]
	_, err = c.elbv2.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: l.ListenerArn,
		Certificates: []types.Certificate{{CertificateArn: aws.String(missing)}}})
	wantExactMessage(t, err, "CertificateNotFound", "Certificate '"+missing+"' not found")
	_, err = c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: l.ListenerArn,
		Certificates: []types.Certificate{{CertificateArn: aws.String(missing)}}})
	wantErr[*types.CertificateNotFoundException](t, err)
	try(https(8443, "arn:aws:iam::000000000000:server-certificate/web")).must(t)

	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tls"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	cliFails(t, c.region, "CertificateNotFound", "Certificate '"+missing+"' not found",
		"elbv2", "create-listener", "--load-balancer-arn", *nlb.LoadBalancerArn, "--protocol", "TLS", "--port", "443",
		"--certificates", "CertificateArn="+missing, "--default-actions", "Type=fixed-response,FixedResponseConfig={StatusCode=404}")
}

// TestDescribeTargetGroupsByNameAndNotFound: DescribeTargetGroups lists by
// name, a page at a time (getmoto/moto#6812, a parity fix,
// test_describe_target_groups); a name or ARN it lacks is
// TargetGroupNotFound "One or more target groups not found"
// (aws-samples/service-screener-v2#212), and a forward action to a
// missing group names it: "Target groups '<arn>' not found"
// (aws/copilot-cli#3833).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
func TestDescribeTargetGroupsByNameAndNotFound(t *testing.T) {
	ctx, c := setup(t)
	vpc := defaultVpcID(t, ctx, c)
	arns := map[string]string{}
	for _, name := range []string{"c-target", "a-target", "b-target"} {
		arns[name] = *try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String(vpc)})).must(t).TargetGroups[0].TargetGroupArn
	}
	names := func(tgs []types.TargetGroup) string {
		var out []string
		for _, tg := range tgs {
			out = append(out, *tg.TargetGroupName)
		}
		return strings.Join(out, " ")
	}
	first := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(2)})).must(t)
	if got := names(first.TargetGroups); got != "a-target b-target" || first.NextMarker == nil {
		t.Fatalf("first page = %s, marker %v", got, first.NextMarker)
	}
	rest := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(2), Marker: first.NextMarker})).must(t)
	if got := names(rest.TargetGroups); got != "c-target" || rest.NextMarker != nil {
		t.Fatalf("second page = %s, marker %v", got, rest.NextMarker)
	}
	byArn := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arns["c-target"], arns["b-target"]}})).must(t)
	if got := names(byArn.TargetGroups); got != "b-target c-target" {
		t.Fatalf("by ARN = %s", got)
	}

	_, err := c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"a-target", "nope"}})
	wantExactMessage(t, err, "TargetGroupNotFound", "One or more target groups not found")
	gone := strings.Replace(arns["a-target"], "/a-target/", "/gone/", 1)
	_, err = c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{gone}})
	wantExactMessage(t, err, "TargetGroupNotFound", "One or more target groups not found")
	cliFails(t, c.region, "TargetGroupNotFound", "One or more target groups not found", "elbv2", "describe-target-groups", "--names", "nope")

	s := newALB(t, ctx, c, "web")
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []types.Action{forwardTo(gone)}})
	wantExactMessage(t, err, "TargetGroupNotFound", "Target groups '"+gone+"' not found")
}

// TestSSLPolicies: the predefined security policies of the ALB guide are
// all known, the FIPS and TLS 1.3 ones included, each with its protocols.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
func TestSSLPolicies(t *testing.T) {
	ctx, c := setup(t)
	for name, protocols := range map[string]string{
		"ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04": "TLSv1.2,TLSv1.3",
		"ELBSecurityPolicy-TLS-1-2-Ext-2018-06":    "TLSv1.2",
		"ELBSecurityPolicy-TLS13-1-3-2021-06":      "TLSv1.3",
		"ELBSecurityPolicy-FS-1-2-Res-2019-08":     "TLSv1.2",
		"ELBSecurityPolicy-TLS13-1-0-2021-06":      "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3",
	} {
		out := try(c.elbv2.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{name}})).must(t).SslPolicies
		if len(out) != 1 || strings.Join(out[0].SslProtocols, ",") != protocols || len(out[0].Ciphers) == 0 {
			t.Errorf("%s = %+v", name, out)
		}
	}
	_, err := c.elbv2.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-Nonexistent"}})
	wantErr[*types.SSLPolicyNotFoundException](t, err)
}
