package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// albStack is an ALB with an HTTP listener whose default action is a
// fixed 404, and one target group.
type albStack struct {
	lb, listener, tg string
}

func newALB(t *testing.T, ctx context.Context, c clients, name string) albStack {
	t.Helper()
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Subnets: subnets(t, ctx, c)[:2], Scheme: types.LoadBalancerSchemeEnumInternal,
	})).must(t).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name + "-tg"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId,
	})).must(t).TargetGroups[0]
	l := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("not here"),
		}}},
	})).must(t).Listeners[0]
	return albStack{lb: *lb.LoadBalancerArn, listener: *l.ListenerArn, tg: *tg.TargetGroupArn}
}

func TestLoadBalancers(t *testing.T) {
	ctx, c := setup(t)
	created := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("web"), Subnets: subnets(t, ctx, c)[:2],
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}},
	})).must(t).LoadBalancers[0]
	if created.State.Code != types.LoadBalancerStateEnumProvisioning || created.Type != types.LoadBalancerTypeEnumApplication ||
		created.Scheme != types.LoadBalancerSchemeEnumInternetFacing || len(created.AvailabilityZones) != 2 || aws.ToString(created.DNSName) == "" {
		t.Fatalf("CreateLoadBalancer = %+v", created)
	}
	again := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: subnets(t, ctx, c)[:2]})).must(t)
	if *again.LoadBalancers[0].LoadBalancerArn != *created.LoadBalancerArn {
		t.Fatal("CreateLoadBalancer with the same settings must return the existing one")
	}
	_, err := c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})
	wantErr[*types.DuplicateLoadBalancerNameException](t, err)
	_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("one-subnet"), Subnets: subnets(t, ctx, c)[:1]})
	wantCode(t, err, "ValidationError")
	_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("bad"), Subnets: []string{"nope", subnets(t, ctx, c)[1]}})
	wantErr[*types.SubnetNotFoundException](t, err)
	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tcp"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]

	d := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})).must(t)
	if len(d.LoadBalancers) != 1 || d.LoadBalancers[0].State.Code != types.LoadBalancerStateEnumActive {
		t.Fatalf("DescribeLoadBalancers = %+v", d)
	}
	_, err = c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"missing"}})
	wantErr[*types.LoadBalancerNotFoundException](t, err)
	_, err = c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*created.LoadBalancerArn + "x"}})
	wantErr[*types.LoadBalancerNotFoundException](t, err)
	p1 := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1)})).must(t)
	p2 := try(c.elbv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1), Marker: p1.NextMarker})).must(t)
	if len(p1.LoadBalancers) != 1 || len(p2.LoadBalancers) != 1 || p2.NextMarker != nil || *p2.LoadBalancers[0].LoadBalancerArn != *nlb.LoadBalancerArn {
		t.Fatalf("pages = %+v / %+v", p1, p2)
	}

	attrs := try(c.elbv2.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: created.LoadBalancerArn})).must(t)
	if v := attr(attrs.Attributes, "idle_timeout.timeout_seconds"); v != "60" {
		t.Fatalf("idle_timeout default = %q", v)
	}
	try(c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: created.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}})).must(t)
	_, err = c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: created.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("no.such.key"), Value: aws.String("1")}}})
	wantCode(t, err, "ValidationError") // "... is not recognized", terraform-provider-aws#22037
	_, err = c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: created.LoadBalancerArn})
	wantErr[*types.OperationNotPermittedException](t, err)
	try(c.elbv2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{LoadBalancerArn: created.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("false")}}})).must(t)

	sn := try(c.elbv2.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: created.LoadBalancerArn, Subnets: subnets(t, ctx, c)})).must(t)
	if len(sn.AvailabilityZones) != 3 {
		t.Fatalf("SetSubnets = %+v", sn)
	}
	group := defaultGroup(t, ctx, c)
	sg := try(c.elbv2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: created.LoadBalancerArn, SecurityGroups: []string{group}})).must(t)
	if !slices.Equal(sg.SecurityGroupIds, []string{group}) {
		t.Fatalf("SetSecurityGroups = %+v", sg)
	}
	_, err = c.elbv2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: created.LoadBalancerArn, SecurityGroups: []string{"bogus"}})
	wantErr[*types.InvalidSecurityGroupException](t, err)
	_, err = c.elbv2.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: created.LoadBalancerArn, SecurityGroups: []string{"sg-0123456789abcdef0"}})
	wantErr[*types.InvalidSecurityGroupException](t, err)
	// Dualstack needs subnets with an IPv6 CIDR block, which berth's EC2
	// does not give: "You must specify subnets with an associated IPv6
	// CIDR block." (kubernetes-sigs/aws-load-balancer-controller#4852).
	_, err = c.elbv2.SetIpAddressType(ctx, &elbv2.SetIpAddressTypeInput{LoadBalancerArn: created.LoadBalancerArn, IpAddressType: types.IpAddressTypeDualstack})
	wantExactMessage(t, err, "ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")
	ip := try(c.elbv2.SetIpAddressType(ctx, &elbv2.SetIpAddressTypeInput{LoadBalancerArn: created.LoadBalancerArn, IpAddressType: types.IpAddressTypeIpv4})).must(t)
	if ip.IpAddressType != types.IpAddressTypeIpv4 {
		t.Fatalf("SetIpAddressType = %v", ip.IpAddressType)
	}
	cr := try(c.elbv2.DescribeCapacityReservation(ctx, &elbv2.DescribeCapacityReservationInput{LoadBalancerArn: created.LoadBalancerArn})).must(t)
	if cr.MinimumLoadBalancerCapacity != nil || cr.CapacityReservationState == nil {
		t.Fatalf("DescribeCapacityReservation = %+v", cr)
	}
	mcr := try(c.elbv2.ModifyCapacityReservation(ctx, &elbv2.ModifyCapacityReservationInput{LoadBalancerArn: created.LoadBalancerArn,
		MinimumLoadBalancerCapacity: &types.MinimumLoadBalancerCapacity{CapacityUnits: aws.Int32(300)}})).must(t)
	if len(mcr.CapacityReservationState) != 3 {
		t.Fatalf("ModifyCapacityReservation = %+v", mcr)
	}
	try(c.elbv2.ModifyIpPools(ctx, &elbv2.ModifyIpPoolsInput{LoadBalancerArn: created.LoadBalancerArn, IpamPools: &types.IpamPools{Ipv4IpamPoolId: aws.String("ipam-pool-1")}})).must(t)

	try(c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: created.LoadBalancerArn})).must(t)
	// Deleting a load balancer that is gone succeeds, as in AWS.
	try(c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: created.LoadBalancerArn})).must(t)
	_, err = c.elbv2.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: created.LoadBalancerArn})
	wantErr[*types.LoadBalancerNotFoundException](t, err)
}

func attr[A interface {
	types.LoadBalancerAttribute | types.TargetGroupAttribute | types.ListenerAttribute
}](attrs []A, key string) string {
	for _, a := range attrs {
		switch a := any(a).(type) {
		case types.LoadBalancerAttribute:
			if *a.Key == key {
				return *a.Value
			}
		case types.TargetGroupAttribute:
			if *a.Key == key {
				return *a.Value
			}
		case types.ListenerAttribute:
			if *a.Key == key {
				return *a.Value
			}
		}
	}
	return "<missing>"
}

func TestTargetGroups(t *testing.T) {
	ctx, c := setup(t)
	vpc := defaultVpcID(t, ctx, c)
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("users"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(vpc),
	})).must(t).TargetGroups[0]
	if aws.ToString(tg.HealthCheckPath) != "/" || aws.ToString(tg.Matcher.HttpCode) != "200" || aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 ||
		aws.ToInt32(tg.HealthyThresholdCount) != 5 || aws.ToString(tg.ProtocolVersion) != "HTTP1" || tg.TargetType != types.TargetTypeEnumInstance {
		t.Fatalf("ALB target group defaults = %+v", tg)
	}
	tcp := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("tcp"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(5432), VpcId: aws.String(vpc), TargetType: types.TargetTypeEnumIp,
	})).must(t).TargetGroups[0]
	if tcp.HealthCheckProtocol != types.ProtocolEnumTcp || tcp.HealthCheckPath != nil || aws.ToInt32(tcp.HealthCheckTimeoutSeconds) != 10 {
		t.Fatalf("NLB target group defaults = %+v", tcp)
	}
	same := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("users"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: aws.String(vpc)})).must(t)
	if *same.TargetGroups[0].TargetGroupArn != *tg.TargetGroupArn {
		t.Fatal("CreateTargetGroup with the same settings must return the existing one")
	}
	_, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("users"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), VpcId: aws.String(vpc)})
	wantErr[*types.DuplicateTargetGroupNameException](t, err)
	_, err = c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("alb"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc), TargetType: types.TargetTypeEnumAlb})
	wantErr[*types.InvalidConfigurationRequestException](t, err)
	for name, in := range map[string]*elbv2.CreateTargetGroupInput{
		"timeout not below interval": {HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)},
		"bad matcher":                {Matcher: &types.Matcher{HttpCode: aws.String("600")}},
		"bad path":                   {HealthCheckPath: aws.String("health")},
		"no vpc":                     {VpcId: aws.String("")},
	} {
		in.Name, in.Protocol, in.Port = aws.String("x"), types.ProtocolEnumHttp, aws.Int32(80)
		if in.VpcId == nil {
			in.VpcId = aws.String(vpc)
		} else {
			in.VpcId = nil
		}
		_, err := c.elbv2.CreateTargetGroup(ctx, in)
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantCode(t, err, "ValidationError")
	}
	_, err = c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"nope"}})
	wantErr[*types.TargetGroupNotFoundException](t, err)
	m := try(c.elbv2.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: aws.String("/health"), Matcher: &types.Matcher{HttpCode: aws.String("200-299")}})).must(t)
	if aws.ToString(m.TargetGroups[0].HealthCheckPath) != "/health" {
		t.Fatalf("ModifyTargetGroup = %+v", m.TargetGroups[0])
	}
	attrs := try(c.elbv2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})).must(t)
	if attr(attrs.Attributes, "deregistration_delay.timeout_seconds") != "300" || attr(attrs.Attributes, "load_balancing.algorithm.type") != "round_robin" ||
		attr(attrs.Attributes, "load_balancing.cross_zone.enabled") != "use_load_balancer_configuration" {
		t.Fatalf("target group attributes = %+v", attrs.Attributes)
	}
	tattrs := try(c.elbv2.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tcp.TargetGroupArn})).must(t)
	if attr(tattrs.Attributes, "preserve_client_ip.enabled") == "<missing>" || attr(tattrs.Attributes, "stickiness.type") != "source_ip" {
		t.Fatalf("NLB target group attributes = %+v", tattrs.Attributes)
	}
	mod := try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("2")}}})).must(t)
	if attr(mod.Attributes, "deregistration_delay.timeout_seconds") != "2" {
		t.Fatalf("ModifyTargetGroupAttributes = %+v", mod.Attributes)
	}
	_, err = c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("slow_start.duration_seconds"), Value: aws.String("5")}}})
	wantErr[*types.InvalidConfigurationRequestException](t, err)
	try(c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tcp.TargetGroupArn})).must(t)
	try(c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tcp.TargetGroupArn})).must(t)
	_, err = c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{*tcp.TargetGroupArn}})
	wantErr[*types.TargetGroupNotFoundException](t, err)
}

func TestListenersAndRules(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "web")
	vpc := defaultVpcID(t, ctx, c)
	messages := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("messages"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})).must(t).TargetGroups[0]
	rule := func(priority int32, path, tg string) (*elbv2.CreateRuleOutput, error) {
		return c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{
			ListenerArn: aws.String(s.listener), Priority: aws.Int32(priority),
			Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{path}}},
			Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}},
		})
	}
	users := try(rule(10, "/api/users*", s.tg)).must(t).Rules[0]
	if users.Conditions[0].PathPatternConfig == nil || users.Actions[0].ForwardConfig == nil {
		t.Fatalf("CreateRule fills the typed configs: %+v", users)
	}
	try(rule(20, "/api/messages*", *messages.TargetGroupArn)).must(t)
	_, err := rule(20, "/other*", s.tg)
	wantErr[*types.PriorityInUseException](t, err)
	_, err = rule(30, "/x", "arn:aws:elasticloadbalancing:"+c.region+":000000000000:targetgroup/none/0000000000000000")
	wantErr[*types.TargetGroupNotFoundException](t, err)

	tgs := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(s.lb)})).must(t)
	if len(tgs.TargetGroups) != 2 || !slices.Contains(tgs.TargetGroups[0].LoadBalancerArns, s.lb) {
		t.Fatalf("target groups of the load balancer = %+v", tgs.TargetGroups)
	}
	_, err = c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(s.tg)})
	wantErr[*types.ResourceInUseException](t, err)

	rules := try(c.elbv2.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(s.listener)})).must(t).Rules
	var priorities []string
	for _, r := range rules {
		priorities = append(priorities, *r.Priority)
	}
	if !slices.Equal(priorities, []string{"10", "20", "default"}) || !aws.ToBool(rules[2].IsDefault) {
		t.Fatalf("DescribeRules priorities = %v", priorities)
	}
	_, err = c.elbv2.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: rules[2].RuleArn})
	wantErr[*types.OperationNotPermittedException](t, err)
	set := try(c.elbv2.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: rules[0].RuleArn, Priority: aws.Int32(20)}, {RuleArn: rules[1].RuleArn, Priority: aws.Int32(10)},
	}})).must(t)
	if len(set.Rules) != 2 {
		t.Fatalf("SetRulePriorities = %+v", set)
	}
	_, err = c.elbv2.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: rules[0].RuleArn, Priority: aws.Int32(10)}}})
	wantErr[*types.PriorityInUseException](t, err)
	weighted := try(c.elbv2.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: rules[0].RuleArn, Actions: []types.Action{{
		Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(s.tg), Weight: aws.Int32(80)}, {TargetGroupArn: messages.TargetGroupArn, Weight: aws.Int32(20)},
		}},
	}}})).must(t)
	if len(weighted.Rules[0].Actions[0].ForwardConfig.TargetGroups) != 2 {
		t.Fatalf("ModifyRule = %+v", weighted.Rules[0])
	}
	_, err = c.elbv2.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(*rules[0].RuleArn + "0")})
	wantErr[*types.RuleNotFoundException](t, err)

	// Condition and action validation.
	for name, in := range map[string]*elbv2.CreateRuleInput{
		"two host conditions": {Conditions: []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"a.example.com"}}, {Field: aws.String("host-header"), Values: []string{"b.example.com"}}}},
		"too many values":     {Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a", "/b", "/c", "/d"}}}},
		"bad field":           {Conditions: []types.RuleCondition{{Field: aws.String("cookie"), Values: []string{"a"}}}},
		"bad cidr":            {Conditions: []types.RuleCondition{{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.0/99"}}}}},
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html
		"lower-case method": {Conditions: []types.RuleCondition{{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"get"}}}}},
		"header name with a space": {Conditions: []types.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{
			HttpHeaderName: aws.String("User Agent"), Values: []string{"curl*"}}}}},
		"path with a space": {Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a b"}}}},
		"bad fixed status":  {Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("302")}}}},
		"weight too large": {Actions: []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
			TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(s.tg), Weight: aws.Int32(1000)}}}}}},
	} {
		in.ListenerArn, in.Priority = aws.String(s.listener), aws.Int32(99)
		if in.Conditions == nil {
			in.Conditions = []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/v"}}}
		}
		if in.Actions == nil {
			in.Actions = []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}
		}
		if _, err := c.elbv2.CreateRule(ctx, in); err == nil {
			t.Errorf("%s: created", name)
		} else {
			wantCode(t, err, "ValidationError")
		}
	}
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(98),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/r"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})
	wantErr[*types.InvalidLoadBalancerActionException](t, err)
	redirect := try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(98),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/r"}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{
			StatusCode: types.RedirectActionStatusCodeEnumHttp301, Protocol: aws.String("HTTPS"), Port: aws.String("443")}}}})).must(t).Rules[0]
	if rc := redirect.Actions[0].RedirectConfig; aws.ToString(rc.Host) != "#{host}" || aws.ToString(rc.Path) != "/#{path}" {
		t.Fatalf("redirect defaults = %+v", rc)
	}
	// Header values may hold spaces, as a User-Agent does.
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(97),
		Conditions: []types.RuleCondition{{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{
			HttpHeaderName: aws.String("User-Agent"), Values: []string{"Mozilla/5.0 (X11; Linux x86_64)*"}}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})).must(t)

	// Listeners: duplicates, protocols, attributes, certificates.
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})
	wantErr[*types.DuplicateListenerException](t, err)
	// A protocol the load balancer type lacks is a ValidationError, not
	// IncompatibleProtocols (see TestListenerProtocolFitsLoadBalancerType).
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})
	wantCode(t, err, "ValidationError")
	first, second := acmCertificate(t, ctx, c, "web.example.test"), acmCertificate(t, ctx, c, "www.example.test")
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		SslPolicy: aws.String("NoSuchPolicy"), Certificates: []types.Certificate{{CertificateArn: aws.String(first)}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})
	wantErr[*types.SSLPolicyNotFoundException](t, err)
	https := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates:   []types.Certificate{{CertificateArn: aws.String(first)}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})).must(t).Listeners[0]
	if aws.ToString(https.SslPolicy) != "ELBSecurityPolicy-2016-08" {
		t.Fatalf("HTTPS listener = %+v", https)
	}
	try(c.elbv2.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(second)}}})).must(t)
	certs := try(c.elbv2.DescribeListenerCertificates(ctx, &elbv2.DescribeListenerCertificatesInput{ListenerArn: https.ListenerArn})).must(t)
	if len(certs.Certificates) != 2 || !aws.ToBool(certs.Certificates[0].IsDefault) {
		t.Fatalf("DescribeListenerCertificates = %+v", certs)
	}
	try(c.elbv2.RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(second)}}})).must(t)
	la := try(c.elbv2.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: aws.String(s.listener)})).must(t)
	if attr(la.Attributes, "routing.http.response.server.enabled") != "true" {
		t.Fatalf("listener attributes = %+v", la.Attributes)
	}
	// Every ALB listener attribute the API reference lists, with its
	// default, as the Terraform provider sends them all.
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
	if len(la.Attributes) != 19 || attr(la.Attributes, "routing.http.request.x_amzn_tls_version.header_name") != "X-Amzn-Tls-Version" ||
		attr(la.Attributes, "routing.http.response.strict_transport_security.header_value") != "" {
		t.Fatalf("listener attributes = %+v", la.Attributes)
	}
	try(c.elbv2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(s.listener),
		Attributes: []types.ListenerAttribute{{Key: aws.String("routing.http.response.server.enabled"), Value: aws.String("false")},
			{Key: aws.String("routing.http.response.strict_transport_security.header_value"), Value: aws.String("max-age=31536000; includeSubDomains")},
			{Key: aws.String("routing.http.response.x_content_type_options.header_value"), Value: aws.String("nosniff")},
			{Key: aws.String("routing.http.request.x_amzn_tls_version.header_name"), Value: aws.String("X-Tls-Version")}}})).must(t)
	for key, value := range map[string]string{"routing.http.response.x_frame_options.header_value": "ALLOWALL",
		"routing.http.request.x_amzn_tls_cipher_suite.header_name": "Bad Name", "routing.http.response.access_control_allow_methods.header_value": "GET,FETCH"} {
		_, err = c.elbv2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(s.listener),
			Attributes: []types.ListenerAttribute{{Key: aws.String(key), Value: aws.String(value)}}})
		wantErr[*types.InvalidConfigurationRequestException](t, err)
	}
	ml := try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(s.listener), Port: aws.Int32(8080),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: messages.TargetGroupArn}}})).must(t).Listeners[0]
	if aws.ToInt32(ml.Port) != 8080 || aws.ToString(ml.DefaultActions[0].TargetGroupArn) != *messages.TargetGroupArn {
		t.Fatalf("ModifyListener = %+v", ml)
	}
	ls := try(c.elbv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(s.lb)})).must(t)
	if len(ls.Listeners) != 2 {
		t.Fatalf("DescribeListeners = %d", len(ls.Listeners))
	}
	_, err = c.elbv2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{s.listener + "0"}})
	wantErr[*types.ListenerNotFoundException](t, err)

	// A target group serves one load balancer.
	other := newALB(t, ctx, c, "other")
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(other.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})
	wantErr[*types.TargetGroupAssociationLimitException](t, err)

	try(c.elbv2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: https.ListenerArn})).must(t)
	try(c.elbv2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(s.lb)})).must(t)
	free := try(c.elbv2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{s.tg}})).must(t)
	if len(free.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Fatalf("deleting the load balancer frees its target groups: %+v", free.TargetGroups[0])
	}
	try(c.elbv2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(s.tg)})).must(t)
	_, err = c.elbv2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(s.listener)})
	wantErr[*types.ListenerNotFoundException](t, err)
}

func TestTargets(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "web")
	health := func(targets ...types.TargetDescription) []types.TargetHealthDescription {
		return try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg), Targets: targets})).must(t).TargetHealthDescriptions
	}
	// An instance target must be an instance that exists
	// (elbv2_review_test.go, TestRegisterTargetsReviewRules).
	instance := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: ecsImage(t, ctx, c).ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro})).must(t).Instances[0]
	one := types.TargetDescription{Id: instance.InstanceId, Port: aws.Int32(32768)}
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []types.TargetDescription{one}})).must(t)
	h := health()
	if len(h) != 1 || h[0].TargetHealth.State != types.TargetHealthStateEnumUnused || h[0].TargetHealth.Reason != types.TargetHealthReasonEnumNotInUse {
		t.Fatalf("target of a group no listener uses = %+v", h[0].TargetHealth)
	}
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(s.listener), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})).must(t)
	// Initial until its first checks end (the data plane may have run one).
	if h := health(); h[0].TargetHealth.State != types.TargetHealthStateEnumInitial ||
		h[0].TargetHealth.Reason != types.TargetHealthReasonEnumRegistrationInProgress && h[0].TargetHealth.Reason != types.TargetHealthReasonEnumInitialHealthChecking {
		t.Fatalf("registered target = %+v", h[0].TargetHealth)
	}
	unknown := health(types.TargetDescription{Id: aws.String("i-0000000000000000f"), Port: aws.Int32(80)})
	if unknown[0].TargetHealth.State != types.TargetHealthStateEnumUnused || unknown[0].TargetHealth.Reason != types.TargetHealthReasonEnumNotRegistered {
		t.Fatalf("unregistered target = %+v", unknown[0].TargetHealth)
	}
	_, err := c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []types.TargetDescription{{Id: aws.String("10.0.0.1")}}})
	wantErr[*types.InvalidTargetException](t, err)
	_, err = c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(s.tg + "0"), Targets: []types.TargetDescription{one}})
	wantErr[*types.TargetGroupNotFoundException](t, err)

	try(c.elbv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []types.TargetDescription{one}})).must(t)
	if h := health(); len(h) != 1 || h[0].TargetHealth.State != types.TargetHealthStateEnumDraining || h[0].TargetHealth.Reason != types.TargetHealthReasonEnumDeregistrationInProgress {
		t.Fatalf("deregistered target = %+v", h)
	}
	// Deregistering a target that is not registered succeeds.
	try(c.elbv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []types.TargetDescription{{Id: aws.String("i-0000000000000000f")}}})).must(t)

	ipg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("ips"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(defaultVpcID(t, ctx, c)), TargetType: types.TargetTypeEnumIp})).must(t).TargetGroups[0]
	try(c.elbv2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: ipg.TargetGroupArn,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("0")}}})).must(t)
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: ipg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("172.17.0.2")}}})).must(t)
	try(c.elbv2.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: ipg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("172.17.0.2")}}})).must(t)
	if h := try(c.elbv2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: ipg.TargetGroupArn})).must(t); len(h.TargetHealthDescriptions) != 0 {
		t.Fatalf("with no delay a deregistered target is gone at once: %+v", h.TargetHealthDescriptions)
	}
}

func TestELBv2TagsAndAccount(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "web")
	arns := []string{s.lb, s.tg, s.listener}
	try(c.elbv2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: arns, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})).must(t)
	try(c.elbv2.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: arns, TagKeys: []string{"a"}})).must(t)
	d := try(c.elbv2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})).must(t)
	if len(d.TagDescriptions) != 3 || len(d.TagDescriptions[1].Tags) != 1 || *d.TagDescriptions[1].Tags[0].Key != "b" {
		t.Fatalf("DescribeTags = %+v", d)
	}
	_, err := c.elbv2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{s.lb}, Tags: []types.Tag{{Key: aws.String("k")}, {Key: aws.String("k")}}})
	wantErr[*types.DuplicateTagKeysException](t, err)
	_, err = c.elbv2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{s.tg + "0"}})
	wantErr[*types.TargetGroupNotFoundException](t, err)
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")}
	}
	_, err = c.elbv2.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{s.lb}, Tags: many})
	wantErr[*types.TooManyTagsException](t, err)

	limits := try(c.elbv2.DescribeAccountLimits(ctx, &elbv2.DescribeAccountLimitsInput{})).must(t)
	if len(limits.Limits) < 10 {
		t.Fatalf("DescribeAccountLimits = %+v", limits)
	}
	pols := try(c.elbv2.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-2016-08"}})).must(t)
	if len(pols.SslPolicies) != 1 || len(pols.SslPolicies[0].Ciphers) == 0 {
		t.Fatalf("DescribeSSLPolicies = %+v", pols)
	}
	_, err = c.elbv2.DescribeSSLPolicies(ctx, &elbv2.DescribeSSLPoliciesInput{Names: []string{"nope"}})
	wantErr[*types.SSLPolicyNotFoundException](t, err)
	_, err = c.elbv2.GetResourcePolicy(ctx, &elbv2.GetResourcePolicyInput{ResourceArn: aws.String(s.lb)})
	wantErr[*types.ResourceNotFoundException](t, err)

	ts := try(c.elbv2.CreateTrustStore(ctx, &elbv2.CreateTrustStoreInput{Name: aws.String("ca"), CaCertificatesBundleS3Bucket: aws.String("b"), CaCertificatesBundleS3Key: aws.String("k")})).must(t).TrustStores[0]
	_, err = c.elbv2.CreateTrustStore(ctx, &elbv2.CreateTrustStoreInput{Name: aws.String("ca"), CaCertificatesBundleS3Bucket: aws.String("b"), CaCertificatesBundleS3Key: aws.String("k")})
	wantErr[*types.DuplicateTrustStoreNameException](t, err)
	rev := try(c.elbv2.AddTrustStoreRevocations(ctx, &elbv2.AddTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn, RevocationContents: []types.RevocationContent{{S3Bucket: aws.String("b"), S3Key: aws.String("crl")}}})).must(t)
	revs := try(c.elbv2.DescribeTrustStoreRevocations(ctx, &elbv2.DescribeTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn})).must(t)
	if len(revs.TrustStoreRevocations) != 1 {
		t.Fatalf("DescribeTrustStoreRevocations = %+v", revs)
	}
	try(c.elbv2.GetTrustStoreRevocationContent(ctx, &elbv2.GetTrustStoreRevocationContentInput{TrustStoreArn: ts.TrustStoreArn, RevocationId: rev.TrustStoreRevocations[0].RevocationId})).must(t)
	try(c.elbv2.GetTrustStoreCaCertificatesBundle(ctx, &elbv2.GetTrustStoreCaCertificatesBundleInput{TrustStoreArn: ts.TrustStoreArn})).must(t)
	try(c.elbv2.RemoveTrustStoreRevocations(ctx, &elbv2.RemoveTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn, RevocationIds: []int64{*rev.TrustStoreRevocations[0].RevocationId}})).must(t)
	_, err = c.elbv2.RemoveTrustStoreRevocations(ctx, &elbv2.RemoveTrustStoreRevocationsInput{TrustStoreArn: ts.TrustStoreArn, RevocationIds: []int64{99}})
	wantErr[*types.RevocationIdNotFoundException](t, err)
	try(c.elbv2.ModifyTrustStore(ctx, &elbv2.ModifyTrustStoreInput{TrustStoreArn: ts.TrustStoreArn, CaCertificatesBundleS3Bucket: aws.String("b2"), CaCertificatesBundleS3Key: aws.String("k2")})).must(t)
	assoc := try(c.elbv2.DescribeTrustStoreAssociations(ctx, &elbv2.DescribeTrustStoreAssociationsInput{TrustStoreArn: ts.TrustStoreArn})).must(t)
	if len(assoc.TrustStoreAssociations) != 0 {
		t.Fatalf("DescribeTrustStoreAssociations = %+v", assoc)
	}
	_, err = c.elbv2.DeleteSharedTrustStoreAssociation(ctx, &elbv2.DeleteSharedTrustStoreAssociationInput{TrustStoreArn: ts.TrustStoreArn, ResourceArn: aws.String(s.lb)})
	wantErr[*types.TrustStoreAssociationNotFoundException](t, err)
	try(c.elbv2.DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{Names: []string{"ca"}})).must(t)
	try(c.elbv2.DeleteTrustStore(ctx, &elbv2.DeleteTrustStoreInput{TrustStoreArn: ts.TrustStoreArn})).must(t)
	_, err = c.elbv2.DeleteTrustStore(ctx, &elbv2.DeleteTrustStoreInput{TrustStoreArn: ts.TrustStoreArn})
	wantErr[*types.TrustStoreNotFoundException](t, err)
}

// TestELBv2Limits produces the quota and reference errors of listeners,
// rules, certificates, targets and trust stores.
func TestELBv2Limits(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "lim")
	vpc := defaultVpcID(t, ctx, c)
	held := acmCertificate(t, ctx, c, "lim.example.test")
	cert := func(i int) types.Certificate {
		if i == 0 {
			return types.Certificate{CertificateArn: aws.String(held)}
		}
		return types.Certificate{CertificateArn: aws.String(fmt.Sprintf("arn:aws:acm:x:0:certificate/%d", i))}
	}
	https := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates: []types.Certificate{cert(0)}, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})).must(t).Listeners[0]
	_, err := c.elbv2.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String("not-an-arn")}}})
	wantErr[*types.CertificateNotFoundException](t, err)
	var many []types.Certificate
	for i := 1; i <= 26; i++ {
		many = append(many, cert(i))
	}
	_, err = c.elbv2.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: https.ListenerArn, Certificates: many})
	wantErr[*types.TooManyCertificatesException](t, err)

	// Six target groups in one forward action are one too many.
	var tuples []types.TargetGroupTuple
	for i := range 6 {
		tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprint("w", i)), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})).must(t).TargetGroups[0]
		tuples = append(tuples, types.TargetGroupTuple{TargetGroupArn: tg.TargetGroupArn})
	}
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/w"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: tuples}}}})
	wantErr[*types.TooManyTargetGroupsException](t, err)

	// 100 rules per listener, not counting the default rule.
	for p := int32(1); p <= 100; p++ {
		try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(p),
			Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{fmt.Sprint("/", p)}}},
			Actions:    []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})).must(t)
	}
	_, err = c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(s.listener), Priority: aws.Int32(101),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/101"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
	wantErr[*types.TooManyRulesException](t, err)

	// 50 listeners per load balancer (two exist already).
	for port := int32(1000); port < 1048; port++ {
		try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port),
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})).must(t)
	}
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(2000),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})
	wantErr[*types.TooManyListenersException](t, err)

	// A lambda target group takes one function.
	fn := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("fn"), TargetType: types.TargetTypeEnumLambda})).must(t).TargetGroups[0]
	_, err = c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: fn.TargetGroupArn, Targets: []types.TargetDescription{
		{Id: aws.String("arn:aws:lambda:x:0:function:a")}, {Id: aws.String("arn:aws:lambda:x:0:function:b")}}})
	wantErr[*types.TooManyTargetsException](t, err)

	nlb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("tls"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: subnets(t, ctx, c)[:1]})).must(t).LoadBalancers[0]
	tcp := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("tcp"), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(443), VpcId: aws.String(vpc)})).must(t).TargetGroups[0]
	_, err = c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: types.ProtocolEnumTls, Port: aws.Int32(443),
		Certificates: []types.Certificate{cert(0)}, AlpnPolicy: []string{"HTTP3Only"}, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tcp.TargetGroupArn}}})
	wantErr[*types.ALPNPolicyNotSupportedException](t, err)
	try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: types.ProtocolEnumTls, Port: aws.Int32(443),
		Certificates: []types.Certificate{cert(0)}, AlpnPolicy: []string{"HTTP2Preferred"}, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tcp.TargetGroupArn}}})).must(t)

	// Mutual TLS needs a trust store that exists; one in use cannot be deleted.
	_, err = c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: https.ListenerArn,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"),
			TrustStoreArn: aws.String("arn:aws:elasticloadbalancing:" + c.region + ":000000000000:truststore/no-store/0123456789abcdef")}})
	wantErr[*types.TrustStoreNotFoundException](t, err)
	ts := try(c.elbv2.CreateTrustStore(ctx, &elbv2.CreateTrustStoreInput{Name: aws.String("ca"), CaCertificatesBundleS3Bucket: aws.String("b"), CaCertificatesBundleS3Key: aws.String("k")})).must(t).TrustStores[0]
	try(c.elbv2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: https.ListenerArn,
		MutualAuthentication: &types.MutualAuthenticationAttributes{Mode: aws.String("verify"), TrustStoreArn: ts.TrustStoreArn}})).must(t)
	_, err = c.elbv2.DeleteTrustStore(ctx, &elbv2.DeleteTrustStoreInput{TrustStoreArn: ts.TrustStoreArn})
	wantErr[*types.TrustStoreInUseException](t, err)

	// 50 application load balancers per region (one exists already).
	for i := range 49 {
		try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(fmt.Sprint("alb", i)), Subnets: subnets(t, ctx, c)[:2]})).must(t)
	}
	_, err = c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("one-more"), Subnets: subnets(t, ctx, c)[:2]})
	wantErr[*types.TooManyLoadBalancersException](t, err)
}
