package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// wantEC2Code checks that err is the EC2 error with code.
func wantEC2Code(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// TestEC2DefaultVpc reads the region's default VPC as Terraform's data
// sources do: the VPC, its subnets (one per zone), its default security
// group, its main route table through the internet gateway, and the
// account attributes and zones.
// https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html
func TestEC2DefaultVpc(t *testing.T) {
	ctx, c := setup(t)
	vpcs := try(c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("isDefault", "true")}})).must(t).Vpcs
	if len(vpcs) != 1 || aws.ToString(vpcs[0].CidrBlock) != "172.31.0.0/16" || !aws.ToBool(vpcs[0].IsDefault) {
		t.Fatalf("default VPC = %+v", vpcs)
	}
	vpc := aws.ToString(vpcs[0].VpcId)
	subnets := try(c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpc), filter("default-for-az", "true")}})).must(t).Subnets
	zones := try(c.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})).must(t).AvailabilityZones
	if len(subnets) != 3 || len(zones) != 3 || aws.ToString(zones[0].ZoneName) != c.region+"a" {
		t.Fatalf("default subnets = %+v, zones = %+v", subnets, zones)
	}
	groups := try(c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", vpc), filter("group-name", "default")}})).must(t).SecurityGroups
	if len(groups) != 1 || len(groups[0].IpPermissions) != 1 || len(groups[0].IpPermissions[0].UserIdGroupPairs) != 1 || len(groups[0].IpPermissionsEgress) != 1 {
		t.Fatalf("default security group = %+v", groups)
	}
	main := try(c.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpc), filter("association.main", "true")}})).must(t).RouteTables
	if len(main) != 1 || len(main[0].Routes) != 2 || aws.ToString(main[0].Routes[1].DestinationCidrBlock) != "0.0.0.0/0" {
		t.Fatalf("main route table = %+v", main)
	}
	igws := try(c.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", vpc)}})).must(t).InternetGateways
	if len(igws) != 1 || aws.ToString(main[0].Routes[1].GatewayId) != aws.ToString(igws[0].InternetGatewayId) {
		t.Fatalf("internet gateways = %+v", igws)
	}
	attrs := try(c.ec2.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{"default-vpc"}})).must(t).AccountAttributes
	if len(attrs) != 1 || aws.ToString(attrs[0].AttributeValues[0].AttributeValue) != vpc {
		t.Fatalf("account attributes = %+v", attrs)
	}
	_, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
	wantEC2Code(t, err, "InvalidParameterValue")

	// A load balancer in the default subnets is in their VPC and zones.
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("in-vpc"),
		Subnets: []string{*subnets[1].SubnetId, *subnets[2].SubnetId}})).must(t).LoadBalancers[0]
	if aws.ToString(lb.VpcId) != vpc || aws.ToString(lb.AvailabilityZones[0].ZoneName) != aws.ToString(subnets[1].AvailabilityZone) {
		t.Fatalf("load balancer in the default subnets = %+v", lb)
	}
}

// TestEC2Network builds a VPC as the Fargate Terraform modules do, with
// the SDK: two subnets, an internet gateway, a public route table, and
// security groups whose rules refer to each other; then checks EC2's
// refusals, and tears it all down.
func TestEC2Network(t *testing.T) {
	ctx, c := setup(t)
	tag := []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("app")}}}}
	vpc := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), TagSpecifications: tag})).must(t).Vpc
	id := vpc.VpcId
	_, err := c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/8")})
	wantEC2Code(t, err, "InvalidVpc.Range")
	try(c.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: id, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})).must(t)
	attr := try(c.ec2.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: id, Attribute: types.VpcAttributeNameEnableDnsHostnames})).must(t)
	if !aws.ToBool(attr.EnableDnsHostnames.Value) {
		t.Fatal("enableDnsHostnames not set")
	}
	named := try(c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", "ap*")}})).must(t).Vpcs
	if len(named) != 1 || aws.ToString(named[0].VpcId) != aws.ToString(id) {
		t.Fatalf("VPCs by tag = %+v", named)
	}

	a := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: id, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String(c.region + "a")})).must(t).Subnet
	b := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: id, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZone: aws.String(c.region + "b")})).must(t).Subnet
	if aws.ToInt32(a.AvailableIpAddressCount) != 251 || aws.ToString(b.AvailabilityZoneId) == "" {
		t.Fatalf("subnet = %+v", b)
	}
	_, err = c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: id, CidrBlock: aws.String("10.0.1.128/25")})
	wantEC2Code(t, err, "InvalidSubnet.Conflict")
	_, err = c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: id, CidrBlock: aws.String("10.1.0.0/24")})
	wantEC2Code(t, err, "InvalidSubnet.Range")
	_, err = c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-0000000000000dead"), CidrBlock: aws.String("10.0.3.0/24")})
	wantEC2Code(t, err, "InvalidVpcID.NotFound")

	igw := try(c.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).must(t).InternetGateway.InternetGatewayId
	try(c.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw, VpcId: id})).must(t)
	rt := try(c.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: id})).must(t).RouteTable.RouteTableId
	try(c.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw})).must(t)
	_, err = c.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw})
	wantEC2Code(t, err, "RouteAlreadyExists")
	assoc := try(c.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt, SubnetId: a.SubnetId})).must(t).AssociationId

	lb := try(c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("lb"), Description: aws.String("load balancer"), VpcId: id})).must(t).GroupId
	app := try(c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("tasks"), VpcId: id})).must(t).GroupId
	_, err = c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("app"), Description: aws.String("again"), VpcId: id})
	wantEC2Code(t, err, "InvalidGroup.Duplicate")
	web := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}, {CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("inside")}}}
	rules := try(c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: lb, IpPermissions: []types.IpPermission{web}})).must(t).SecurityGroupRules
	if len(rules) != 2 || aws.ToString(rules[1].Description) != "inside" {
		t.Fatalf("rules = %+v", rules)
	}
	_, err = c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: lb, IpPermissions: []types.IpPermission{web}})
	wantEC2Code(t, err, "InvalidPermission.Duplicate")
	fromLB := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: lb}}}
	try(c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: app, IpPermissions: []types.IpPermission{fromLB}})).must(t)
	groups := try(c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{*lb, *app}})).must(t).SecurityGroups
	for _, g := range groups {
		if len(g.IpPermissions) != 1 || len(g.IpPermissionsEgress) != 1 {
			t.Fatalf("group %s = %+v", *g.GroupName, g)
		}
	}
	_, err = c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: lb})
	wantEC2Code(t, err, "DependencyViolation")
	_, err = c.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: id})
	wantEC2Code(t, err, "DependencyViolation")

	try(c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*a.SubnetId, *lb}, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("public")}}})).must(t)
	tagged := try(c.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("key", "tier")}})).must(t).Tags
	if len(tagged) != 2 {
		t.Fatalf("DescribeTags = %+v", tagged)
	}

	// The aws CLI reads the same network.
	awscli := cli{t: t, url: shared.url, region: c.region}
	var described struct {
		Subnets []struct{ SubnetId, CidrBlock string }
	}
	awscli.run(&described, "ec2", "describe-subnets", "--filters", "Name=vpc-id,Values="+*id, "Name=tag:tier,Values=public")
	if len(described.Subnets) != 1 || described.Subnets[0].CidrBlock != "10.0.1.0/24" {
		t.Fatalf("aws ec2 describe-subnets = %+v", described)
	}
	awscli.fails("InvalidGroup.NotFound", "ec2", "delete-security-group", "--group-id", "sg-00000000000000000")

	try(c.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: app, IpPermissions: []types.IpPermission{fromLB}})).must(t)
	for _, g := range []*string{lb, app} {
		try(c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: g})).must(t)
	}
	try(c.ec2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: assoc})).must(t)
	try(c.ec2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: rt})).must(t)
	try(c.ec2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igw, VpcId: id})).must(t)
	try(c.ec2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: igw})).must(t)
	for _, sn := range []*string{a.SubnetId, b.SubnetId} {
		try(c.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: sn})).must(t)
	}
	try(c.ec2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: id})).must(t)
	_, err = c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{*id}})
	wantEC2Code(t, err, "InvalidVpcID.NotFound")
}

// subnets are the ids of the region's default subnets, one per zone, in
// zone order.
func subnets(tb testing.TB, ctx context.Context, c clients) []string {
	tb.Helper()
	out, err := c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("default-for-az", "true")}})
	if err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(out.Subnets, func(a, b types.Subnet) int { return strings.Compare(*a.AvailabilityZone, *b.AvailabilityZone) })
	var ids []string
	for _, s := range out.Subnets {
		ids = append(ids, *s.SubnetId)
	}
	return ids
}

// defaultGroup is the id of the default security group of the region's
// default VPC.
func defaultGroup(tb testing.TB, ctx context.Context, c clients) string {
	tb.Helper()
	vpcs, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("isDefault", "true")}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		tb.Fatalf("default VPC: %v %v", vpcs, err)
	}
	out, err := c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		filter("vpc-id", *vpcs.Vpcs[0].VpcId), filter("group-name", "default")}})
	if err != nil || len(out.SecurityGroups) != 1 {
		tb.Fatalf("default security group: %v %v", out, err)
	}
	return *out.SecurityGroups[0].GroupId
}
