package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// The differences between berth's ELBv2 API and AWS's that a new-user
// review found. Each expectation names its source: a report of what AWS
// answered, or the API reference's rule (then the text is berth's and
// only the code is checked).

// TestELBv2MalformedARNs: an operation given a string that is not an ARN
// of the kind it takes answers ValidationError "'<arn>' is not a valid
// load balancer ARN" (resp. target group ARN, ...), not NotFound and not
// success; well-formed ARNs of missing resources keep their answers.
func TestELBv2MalformedARNs(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "arns")

	// aws/aws-cli#3673, aws/aws-cli#3260: "'<arn>' is not a valid load
	// balancer ARN" (ValidationError).
	_, err := c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{"garbage"}})
	wantExactMessage(t, err, "ValidationError", "'garbage' is not a valid load balancer ARN")
	cliFails(t, c.region, "ValidationError", "'garbage' is not a valid load balancer ARN",
		"elbv2", "describe-load-balancers", "--load-balancer-arns", "garbage")
	cliFails(t, c.region, "ValidationError", "'"+s.lb+"' is not a valid listener ARN",
		"elbv2", "describe-listener-certificates", "--listener-arn", s.lb)
	_, err = c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String("garbage")})
	wantExactMessage(t, err, "ValidationError", "'garbage' is not a valid load balancer ARN")
	_, err = c.elbv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(s.tg)})
	wantExactMessage(t, err, "ValidationError", "'"+s.tg+"' is not a valid load balancer ARN")
	_, err = c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(s.listener),
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("30")}}})
	wantExactMessage(t, err, "ValidationError", "'"+s.listener+"' is not a valid load balancer ARN")

	// hashicorp/terraform-provider-aws#4552: "'<arn>' is not a valid
	// target group ARN" (ValidationError).
	_, err = c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String("garbage")})
	wantExactMessage(t, err, "ValidationError", "'garbage' is not a valid target group ARN")
	_, err = c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{s.lb}})
	wantExactMessage(t, err, "ValidationError", "'"+s.lb+"' is not a valid target group ARN")
	_, err = c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String("tg"), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}})
	wantExactMessage(t, err, "ValidationError", "'tg' is not a valid target group ARN")
	// A forward action's target group too.
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}}, Actions: []types.Action{forwardTo("web")}})
	wantExactMessage(t, err, "ValidationError", "'web' is not a valid target group ARN")

	// Listener, rule and trust store ARNs: AWS's texts for these are not
	// on record; berth words them as for the two above, so the code is
	// what is checked.
	_, err = c.elbv2.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: aws.String(s.lb)})
	wantExactMessage(t, err, "ValidationError", "'"+s.lb+"' is not a valid listener ARN")
	_, err = c.elbv2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String("garbage")})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{s.listener}})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String("garbage")})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{TrustStoreArns: []string{"garbage"}})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.DeleteTrustStore(ctx, &elbv2.DeleteTrustStoreInput{TrustStoreArn: aws.String(s.lb)})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{strings.TrimSuffix(s.lb, s.lb[strings.LastIndex(s.lb, "/"):])},
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "ValidationError")

	// Well-formed ARNs of resources that do not exist keep their
	// answers: NotFound where the operation reads one, and success for
	// DeleteLoadBalancer ("If the load balancer does not exist or has
	// already been deleted, the call to DeleteLoadBalancer still
	// succeeds.", API_DeleteLoadBalancer) and DeleteTargetGroup (whose
	// only documented error is ResourceInUse, API_DeleteTargetGroup).
	missingLB := s.lb[:strings.LastIndex(s.lb, "/")+1] + "0123456789abcdef"
	missingTG := s.tg[:strings.LastIndex(s.tg, "/")+1] + "0123456789abcdef"
	_, err = c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
	wantErr[*types.LoadBalancerNotFoundException](t, err)
	try(c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(missingLB)})).must(t)
	try(c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(missingTG)})).must(t)
	_, err = c.elbv2.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: aws.String(s.listener + "0")})
	wantErr[*types.ListenerNotFoundException](t, err)
	_, err = c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{missingTG}})
	wantErr[*types.TargetGroupNotFoundException](t, err)
}

// TestELBv2RuleQuotaPerLoadBalancer: "Rules per Application Load Balancer
// (excluding default rules): 100", counted over all of its listeners;
// the next is TooManyRules.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
func TestELBv2RuleQuotaPerLoadBalancer(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "quota")
	second := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080),
		DefaultActions: []types.Action{forwardTo(s.tg)}})).must(t).Listeners[0]
	rule := func(listener string, p int32) error {
		_, err := c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(p),
			Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{fmt.Sprint("/", p)}}},
			Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse,
				FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
		return err
	}
	for p := int32(1); p <= 60; p++ {
		try(0, rule(s.listener, p)).must(t)
	}
	for p := int32(1); p <= 40; p++ {
		try(0, rule(*second.ListenerArn, p)).must(t)
	}
	wantErr[*types.TooManyRulesException](t, rule(s.listener, 61))
	wantErr[*types.TooManyRulesException](t, rule(*second.ListenerArn, 41))

	// Another load balancer has its own 100.
	other := newALB(t, ctx, c, "quota-other")
	try(0, rule(other.listener, 1)).must(t)
}

// TestELBv2AttributeRules: the attribute rules of API_TargetGroupAttribute
// and API_LoadBalancerAttribute (texts berth's).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
func TestELBv2AttributeRules(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "attrs")
	modify := func(kv ...string) error {
		var attrs []types.TargetGroupAttribute
		for i := 0; i < len(kv); i += 2 {
			attrs = append(attrs, types.TargetGroupAttribute{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(s.tg), Attributes: attrs})
		return err
	}
	// "Names that start with the following prefixes are not allowed:
	// AWSALB, AWSALBAPP, and AWSALBTG; they're reserved for use by the
	// load balancer."
	for _, name := range []string{"AWSALB", "AWSALBAPP-session", "AWSALBTGx"} {
		wantCode(t, modify("stickiness.enabled", "true", "stickiness.type", "app_cookie", "stickiness.app_cookie.cookie_name", name), "ValidationError")
	}
	try(0, modify("stickiness.enabled", "true", "stickiness.type", "app_cookie", "stickiness.app_cookie.cookie_name", "session")).must(t)
	try(0, modify("stickiness.enabled", "false")).must(t)

	// Anomaly mitigation: "Only available when load_balancing.algorithm.type
	// is weighted_random".
	wantCode(t, modify("load_balancing.algorithm.anomaly_mitigation", "on"), "InvalidConfigurationRequest")
	wantCode(t, modify("load_balancing.algorithm.type", "least_outstanding_requests", "load_balancing.algorithm.anomaly_mitigation", "on"), "InvalidConfigurationRequest")
	try(0, modify("load_balancing.algorithm.type", "weighted_random", "load_balancing.algorithm.anomaly_mitigation", "on")).must(t)
	// Leaving weighted random with mitigation on is refused too.
	wantCode(t, modify("load_balancing.algorithm.type", "round_robin"), "InvalidConfigurationRequest")
	try(0, modify("load_balancing.algorithm.type", "round_robin", "load_balancing.algorithm.anomaly_mitigation", "off")).must(t)

	// load_balancing.cross_zone.enabled: "The default for Application
	// Load Balancers is true, and cannot be changed."
	lbAttr := func(v string) error {
		_, err := c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(s.lb),
			Attributes: []types.LoadBalancerAttribute{{Key: aws.String("load_balancing.cross_zone.enabled"), Value: aws.String(v)}}})
		return err
	}
	wantCode(t, lbAttr("false"), "InvalidConfigurationRequest")
	try(0, lbAttr("true")).must(t)
	// An NLB's can be turned on and off.
	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("attrs-nlb"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	for _, v := range []string{"true", "false"} {
		try(c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: nlb.LoadBalancerArn,
			Attributes: []types.LoadBalancerAttribute{{Key: aws.String("load_balancing.cross_zone.enabled"), Value: aws.String(v)}}})).must(t)
	}
}

// TestCreateLoadBalancerReviewRules: subnets, addressing and security
// groups as CreateLoadBalancer and SetSecurityGroups take them.
func TestCreateLoadBalancerReviewRules(t *testing.T) {
	ctx, c := setup(t)
	nets := subnets(t, ctx, c)

	// berth's EC2 subnets have no IPv6 CIDR block, so dualstack is
	// refused: "You must specify subnets with an associated IPv6 CIDR
	// block." (kubernetes-sigs/aws-load-balancer-controller#4852).
	for _, ip := range []types.IpAddressType{types.IpAddressTypeDualstack, types.IpAddressTypeDualstackWithoutPublicIpv4} {
		_, err := c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("dual"), Subnets: nets[:2], IpAddressType: ip})
		wantExactMessage(t, err, "ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")
	}
	_, err := c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("dual-nlb"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: nets[:1], IpAddressType: types.IpAddressTypeDualstack})
	wantExactMessage(t, err, "ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")

	// The same for a load balancer turned dualstack later, by
	// SetIpAddressType or SetSubnets.
	alb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("single"), Subnets: nets[:2]})).must(t).LoadBalancers[0]
	_, err = c.elbv2.SetIpAddressType(ctx, &elbv2.SetIpAddressTypeInput{LoadBalancerArn: alb.LoadBalancerArn, IpAddressType: types.IpAddressTypeDualstack})
	wantExactMessage(t, err, "ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")
	_, err = c.elbv2.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: alb.LoadBalancerArn, Subnets: nets, IpAddressType: types.IpAddressTypeDualstack})
	wantExactMessage(t, err, "ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")

	// No subnets: "You must specify either subnets or subnet mappings."
	// (awsdocs/aws-cloudformation-user-guide#455).
	for _, typ := range []types.LoadBalancerTypeEnum{types.LoadBalancerTypeEnumApplication, types.LoadBalancerTypeEnumNetwork} {
		_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("nowhere"), Type: typ})
		wantExactMessage(t, err, "ValidationError", "You must specify either subnets or subnet mappings.")
	}

	// Gateway Load Balancers take neither a scheme nor security groups:
	// both members are "[Application Load Balancers and Network Load
	// Balancers]" only (API_CreateLoadBalancer).
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
	_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("gw"), Type: types.LoadBalancerTypeEnumGateway,
		Subnets: nets[:1], Scheme: types.LoadBalancerSchemeEnumInternal})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("gw"), Type: types.LoadBalancerTypeEnumGateway,
		Subnets: nets[:1], SecurityGroups: []string{defaultGroup(t, ctx, c)}})
	wantErr[*types.InvalidConfigurationRequestException](t, err)
	try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("gw"), Type: types.LoadBalancerTypeEnumGateway, Subnets: nets[:1]})).must(t)

	// "If you create a Network Load Balancer without associating any
	// security groups, you can't associate them with the load balancer
	// later on."
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
	// AWS's text: kubernetes-sigs/cluster-api-provider-aws#4790.
	bare := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("bare"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: nets[:1]})).must(t).LoadBalancers[0]
	_, err = c.elbv2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: bare.LoadBalancerArn, SecurityGroups: []string{defaultGroup(t, ctx, c)}})
	wantExactMessage(t, err, "InvalidConfigurationRequest", "You cannot set security groups on a Network Load Balancer which was created without any security groups.")
	// "After you create a Network Load Balancer with associated security
	// groups, you can change the security groups associated with the
	// load balancer at any time." (same page)
	guarded := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("guarded"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: nets[:1], SecurityGroups: []string{defaultGroup(t, ctx, c)}})).must(t).LoadBalancers[0]
	try(c.elbv2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: guarded.LoadBalancerArn, SecurityGroups: []string{defaultGroup(t, ctx, c)}})).must(t)
}

// TestRegisterTargetsReviewRules: instance targets must be instances that
// exist, and running; ip targets must not be publicly routable.
func TestRegisterTargetsReviewRules(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "targets")
	register := func(tg string, ids ...string) error {
		var targets []types.TargetDescription
		for _, id := range ids {
			targets = append(targets, types.TargetDescription{Id: aws.String(id), Port: aws.Int32(8080)})
		}
		_, err := c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets})
		return err
	}
	// "InvalidTarget: The following instances do not exist: 'i-…', 'i-…'"
	// (kubernetes-sigs/aws-load-balancer-controller#272).
	err := register(s.tg, "i-0123456789abcdef0", "i-0fedcba9876543210")
	wantExactMessage(t, err, "InvalidTarget", "The following instances do not exist: 'i-0123456789abcdef0', 'i-0fedcba9876543210'")

	img := ecsImage(t, ctx, c)
	id := *try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro})).must(t).Instances[0].InstanceId
	running := ec2.NewInstanceRunningWaiter(c.ec2, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, running.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	try(0, register(s.tg, id)).must(t)

	// "If the target is an EC2 instance, it must be in the running state
	// when you register it." (API_RegisterTargets); AWS's text:
	// "The following targets are not in a running state and cannot be
	// registered: 'i-…'" (hashicorp/terraform#20345).
	try(c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).must(t)
	stopped := ec2.NewInstanceStoppedWaiter(c.ec2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, stopped.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	other := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("targets-2"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(defaultVpcID(t, ctx, c))})).must(t).TargetGroups[0]
	wantExactMessage(t, register(*other.TargetGroupArn, id), "InvalidTarget", "The following targets are not in a running state and cannot be registered: '"+id+"'")

	// An instance an ECS agent registered is one ECS places tasks on and
	// registers as targets: it is taken.
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("agents")})).must(t)
	try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("agents"),
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0aaaaaaaaaaaaaaa1","availabilityZone":"us-east-1a"}`),
		TotalResources:           []ecstypes.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048}}})).must(t)
	try(0, register(s.tg, "i-0aaaaaaaaaaaaaaa1")).must(t)

	// "You can't specify publicly routable IP addresses": only the VPC's
	// ranges, 10.0.0.0/8, 100.64.0.0/10, 172.16.0.0/12 and 192.168.0.0/16
	// (API_TargetDescription; the text is berth's).
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetDescription.html
	ips := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("targets-ip"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(defaultVpcID(t, ctx, c)), TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	for _, public := range []string{"8.8.8.8", "52.95.110.1", "100.128.0.1"} {
		wantErr[*types.InvalidTargetException](t, register(*ips.TargetGroupArn, public))
	}
	try(0, register(*ips.TargetGroupArn, "10.1.2.3", "100.64.0.9", "172.31.5.6", "192.168.1.1")).must(t)
}

// TestListenerReviewRules: what CreateListener and ModifyListener refuse
// about certificates, policies and mutual TLS, and two rule and target
// group texts.
func TestListenerReviewRules(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "listeners")
	cert := acmCertificate(t, ctx, c, "listeners.example.test")
	create := func(protocol types.ProtocolEnum, port int32, edit func(*elbv2.CreateListenerInput)) error {
		in := &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: protocol, Port: aws.Int32(port), DefaultActions: []types.Action{forwardTo(s.tg)}}
		edit(in)
		_, err := c.elbv2.CreateListener(ctx, in)
		return err
	}
	certs := func(arns ...string) []types.Certificate {
		var out []types.Certificate
		for _, a := range arns {
			out = append(out, types.Certificate{CertificateArn: aws.String(a)})
		}
		return out
	}
	// One certificate in CreateListener: "Up to '1' certificate ARNs can
	// be specified, but '2' were specified" (aws/aws-cdk#3757,
	// aws/aws-cdk#16509, a limit error).
	err := create(types.ProtocolEnumHttps, 443, func(in *elbv2.CreateListenerInput) { in.Certificates = certs(cert, cert) })
	wantExactMessage(t, err, "TooManyCertificates", "Up to '1' certificate ARNs can be specified, but '2' were specified")
	// A certificate that is not an ARN (text berth's).
	err = create(types.ProtocolEnumHttps, 443, func(in *elbv2.CreateListenerInput) { in.Certificates = certs("my-cert") })
	wantExactMessage(t, err, "ValidationError", "'my-cert' is not a valid certificate ARN")
	// "You cannot set the isDefault parameter for a certificate."
	// (boto/boto3#1601).
	err = create(types.ProtocolEnumHttps, 443, func(in *elbv2.CreateListenerInput) {
		in.Certificates = []types.Certificate{{CertificateArn: aws.String(cert), IsDefault: aws.Bool(true)}}
	})
	wantExactMessage(t, err, "ValidationError", "You cannot set the isDefault parameter for a certificate.")

	// "A certificate cannot be specified for HTTP listeners"
	// (awslabs/fargatecli#104); "An SSL policy cannot be specifed for
	// HTTP listeners" (sic; theopensystemslab/planx-new#1051).
	err = create(types.ProtocolEnumHttp, 81, func(in *elbv2.CreateListenerInput) { in.Certificates = certs(cert) })
	wantExactMessage(t, err, "ValidationError", "A certificate cannot be specified for HTTP listeners")
	err = create(types.ProtocolEnumHttp, 81, func(in *elbv2.CreateListenerInput) { in.SslPolicy = aws.String("ELBSecurityPolicy-2016-08") })
	wantExactMessage(t, err, "ValidationError", "An SSL policy cannot be specifed for HTTP listeners")
	_, err = c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(s.listener), SslPolicy: aws.String("ELBSecurityPolicy-2016-08")})
	wantExactMessage(t, err, "ValidationError", "An SSL policy cannot be specifed for HTTP listeners")
	// "... for TCP listeners" (kubernetes-sigs/aws-load-balancer-controller#1661).
	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("listeners-nlb"), Type: types.LoadBalancerTypeEnumNetwork,
		Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: types.ProtocolEnumTcp, Port: aws.Int32(80),
		SslPolicy: aws.String("ELBSecurityPolicy-2016-08"), DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
	wantExactMessage(t, err, "ValidationError", "An SSL policy cannot be specifed for TCP listeners")

	// Mutual TLS is for HTTPS listeners, and verify mode names a trust
	// store (API_MutualAuthenticationAttributes; texts berth's).
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_MutualAuthenticationAttributes.html
	err = create(types.ProtocolEnumHttp, 82, func(in *elbv2.CreateListenerInput) {
		in.MutualAuthentication = &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")}
	})
	wantCode(t, err, "ValidationError")
	err = create(types.ProtocolEnumHttps, 443, func(in *elbv2.CreateListenerInput) {
		in.Certificates = certs(cert)
		in.MutualAuthentication = &types.MutualAuthenticationAttributes{Mode: aws.String("verify")}
	})
	wantCode(t, err, "ValidationError")
	https := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: certs(cert), MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("passthrough")},
		DefaultActions: []types.Action{forwardTo(s.tg)}})).must(t).Listeners[0]
	// Turning an HTTPS listener into an HTTP one drops what it had.
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: https.ListenerArn, Protocol: types.ProtocolEnumHttp,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("off")}})).must(t)

	// berth matches no regular expressions in rule conditions and says
	// so, naming the field (text berth's), rather than storing values it
	// would not route by.
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{RegexValues: []string{"^/api/v[0-9]+$"}}}},
		Actions:    []types.Action{forwardTo(s.tg)}})
	wantCode(t, err, "ValidationError")
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), "PathPatternConfig.RegexValues") {
		t.Fatalf("RegexValues refusal = %v, want the field named", err)
	}

	// A matcher with only a gRPC code on an HTTP target group: "Health
	// check matcher HTTP code cannot be empty" (hashicorp/waypoint#4868).
	_, err = c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("grpc-code"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(defaultVpcID(t, ctx, c)), Matcher: &types.Matcher{GrpcCode: aws.String("0")}})
	wantExactMessage(t, err, "ValidationError", "Health check matcher HTTP code cannot be empty")
	_, err = c.elbv2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(s.tg), Matcher: &types.Matcher{GrpcCode: aws.String("0")}})
	wantExactMessage(t, err, "ValidationError", "Health check matcher HTTP code cannot be empty")
	// And the other way round: "Health check matcher GRPC code can not be
	// empty" (sic; aws/copilot-cli#5958).
	_, err = c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("http-code"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		ProtocolVersion: aws.String("GRPC"), VpcId: aws.String(defaultVpcID(t, ctx, c)), Matcher: &types.Matcher{HttpCode: aws.String("200")}})
	wantExactMessage(t, err, "ValidationError", "Health check matcher GRPC code can not be empty")
}
