package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
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

// TestEC2NatGatewaysAndInstances keeps Elastic IPs, NAT gateways and
// instances as records: a NAT gateway holds its address until it is
// deleted, and an instance launched by RunInstances registers as an ECS
// container instance whose tasks run on the local Docker Engine.
func TestEC2NatGatewaysAndInstances(t *testing.T) {
	ctx, c := setup(t)
	subnet := subnets(t, ctx, c)[0]
	eip := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	nat := try(c.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: eip.AllocationId})).must(t).NatGateway
	if nat.State != types.NatGatewayStatePending || aws.ToString(nat.NatGatewayAddresses[0].PublicIp) != aws.ToString(eip.PublicIp) {
		t.Fatalf("CreateNatGateway = %+v", nat)
	}
	w := ec2.NewNatGatewayAvailableWaiter(c.ec2, func(o *ec2.NatGatewayAvailableWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, w.Wait(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*nat.NatGatewayId}}, time.Minute)).must(t)
	held := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{*eip.AllocationId}})).must(t).Addresses[0]
	if aws.ToString(held.NetworkInterfaceId) != aws.ToString(nat.NatGatewayAddresses[0].NetworkInterfaceId) || held.AssociationId == nil {
		t.Fatalf("the NAT gateway's address = %+v", held)
	}
	_, err := c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})
	wantEC2Code(t, err, "InvalidIPAddress.InUse")
	_, err = c.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(subnet)})
	wantEC2Code(t, err, "DependencyViolation")
	_, err = c.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: aws.String("eipalloc-0123456789abcdef0")})
	wantEC2Code(t, err, "InvalidAllocationID.NotFound")
	try(c.ec2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGatewayId})).must(t)
	gone := try(c.ec2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{filter("state", "deleted")}})).must(t).NatGateways
	if len(gone) != 1 || *gone[0].NatGatewayId != *nat.NatGatewayId {
		t.Fatalf("deleted NAT gateways = %+v", gone)
	}
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})).must(t)

	run := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		InstanceType: types.InstanceTypeT3Micro, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("ecs-host")}}}}})).must(t)
	if len(run.Instances) != 2 || run.Instances[0].State.Name != types.InstanceStateNamePending || aws.ToString(run.Instances[0].SubnetId) != subnet {
		t.Fatalf("RunInstances = %+v", run)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	reservations := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		filter("instance-state-name", "running"), filter("tag:Name", "ecs-host")}})).must(t).Reservations
	if len(reservations) != 1 || len(reservations[0].Instances) != 2 || *reservations[0].ReservationId != *run.ReservationId {
		t.Fatalf("DescribeInstances = %+v", reservations)
	}

	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("hosts")})).must(t)
	identity := `{"instanceId":"` + id + `","availabilityZone":"` + c.region + `a"}`
	ci := try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("hosts"),
		InstanceIdentityDocument: aws.String(identity)})).must(t).ContainerInstance
	if aws.ToString(ci.Ec2InstanceId) != id {
		t.Fatalf("container instance = %+v", ci)
	}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("on-host"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{webContainer("app")}})).must(t)
	started := try(c.ecs.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("hosts"), TaskDefinition: aws.String("on-host"),
		ContainerInstances: []string{*ci.ContainerInstanceArn}})).must(t).Tasks[0]
	task := running(t, ctx, c, *started.TaskArn)
	if strings.TrimSpace(get(t, hostURL(t, task)+"/health")) != "ok" || aws.ToString(task.ContainerInstanceArn) != *ci.ContainerInstanceArn {
		t.Fatalf("task on the instance = %s", taskJSON(task))
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("hosts"), Task: task.TaskArn})).must(t)
	stopped(t, ctx, c, *task.TaskArn)

	out := try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})).must(t).TerminatingInstances
	if len(out) != 1 || out[0].CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Fatalf("TerminateInstances = %+v", out)
	}
	_, err = c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantEC2Code(t, err, "InvalidInstanceID.NotFound")
}

// TestEC2NetworkACLsAndAddressAttributes manages a VPC's network ACLs as
// terraform-aws-vpc does (the default ACL's entries replaced, a custom ACL
// associated with a subnet and back), reads an Elastic IP's domain-name
// attribute as Terraform's aws_eip does, and groups an all-protocols
// egress rule to two ranges into one permission.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddressesAttribute.html
func TestEC2NetworkACLsAndAddressAttributes(t *testing.T) {
	ctx, c := setup(t)
	vpc := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})).must(t).Vpc.VpcId
	subnet := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc, CidrBlock: aws.String("10.1.1.0/24")})).must(t).Subnet.SubnetId
	acls := try(c.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("vpc-id", *vpc), filter("default", "true")}})).must(t).NetworkAcls
	if len(acls) != 1 || len(acls[0].Entries) != 4 || len(acls[0].Associations) != 1 {
		t.Fatalf("default ACL = %+v", acls)
	}
	def := acls[0].NetworkAclId
	try(c.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: def, RuleNumber: aws.Int32(100), Egress: aws.Bool(false)})).must(t)
	_, err := c.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: def, RuleNumber: aws.Int32(100), Egress: aws.Bool(false)})
	wantEC2Code(t, err, "InvalidNetworkAclEntry.NotFound")
	https := ec2.CreateNetworkAclEntryInput{NetworkAclId: def, RuleNumber: aws.Int32(100), Protocol: aws.String("tcp"), RuleAction: types.RuleActionAllow,
		Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0"), PortRange: &types.PortRange{From: aws.Int32(443), To: aws.Int32(443)}}
	try(c.ec2.CreateNetworkAclEntry(ctx, &https)).must(t)
	_, err = c.ec2.CreateNetworkAclEntry(ctx, &https)
	wantEC2Code(t, err, "NetworkAclEntryAlreadyExists")
	bad := https
	bad.RuleNumber = aws.Int32(40000)
	_, err = c.ec2.CreateNetworkAclEntry(ctx, &bad)
	wantEC2Code(t, err, "InvalidParameterValue")
	try(c.ec2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: def, RuleNumber: aws.Int32(100), Protocol: aws.String("-1"),
		RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})).must(t)
	_, err = c.ec2.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: def, RuleNumber: aws.Int32(200), Protocol: aws.String("-1"),
		RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
	wantEC2Code(t, err, "InvalidNetworkAclEntry.NotFound")
	entries := try(c.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{*def}})).must(t).NetworkAcls[0].Entries
	if len(entries) != 4 || aws.ToString(entries[2].Protocol) != "-1" || entries[2].PortRange != nil || aws.ToBool(entries[2].Egress) {
		t.Fatalf("entries after replace = %+v", entries)
	}

	custom := try(c.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: vpc})).must(t).NetworkAcl
	if aws.ToBool(custom.IsDefault) || len(custom.Entries) != 2 || custom.Entries[0].RuleAction != types.RuleActionDeny {
		t.Fatalf("custom ACL = %+v", custom)
	}
	first := acls[0].Associations[0].NetworkAclAssociationId
	moved := try(c.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: first, NetworkAclId: custom.NetworkAclId})).must(t).NewAssociationId
	on := try(c.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{filter("association.subnet-id", *subnet)}})).must(t).NetworkAcls
	if len(on) != 1 || *on[0].NetworkAclId != *custom.NetworkAclId || *on[0].Associations[0].NetworkAclAssociationId != *moved {
		t.Fatalf("the subnet's ACL = %+v", on)
	}
	_, err = c.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: first, NetworkAclId: def})
	wantEC2Code(t, err, "InvalidAssociationID.NotFound")
	_, err = c.ec2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: custom.NetworkAclId})
	wantEC2Code(t, err, "DependencyViolation")
	_, err = c.ec2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: def})
	wantEC2Code(t, err, "InvalidParameterValue")
	try(c.ec2.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: moved, NetworkAclId: def})).must(t)
	try(c.ec2.DeleteNetworkAcl(ctx, &ec2.DeleteNetworkAclInput{NetworkAclId: custom.NetworkAclId})).must(t)

	eip := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	attrs := try(c.ec2.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{AllocationIds: []string{*eip.AllocationId},
		Attribute: types.AddressAttributeNameDomainName})).must(t).Addresses
	if len(attrs) != 1 || *attrs[0].PublicIp != *eip.PublicIp || attrs[0].PtrRecord != nil {
		t.Fatalf("DescribeAddressesAttribute = %+v", attrs)
	}
	set := try(c.ec2.ModifyAddressAttribute(ctx, &ec2.ModifyAddressAttributeInput{AllocationId: eip.AllocationId, DomainName: aws.String("mail.example.com")})).must(t).Address
	if aws.ToString(set.PtrRecord) != "mail.example.com." {
		t.Fatalf("ModifyAddressAttribute = %+v", set)
	}
	try(c.ec2.ResetAddressAttribute(ctx, &ec2.ResetAddressAttributeInput{AllocationId: eip.AllocationId, Attribute: types.AddressAttributeNameDomainName})).must(t)
	_, err = c.ec2.DescribeAddressesAttribute(ctx, &ec2.DescribeAddressesAttributeInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"},
		Attribute: types.AddressAttributeNameDomainName})
	wantEC2Code(t, err, "InvalidAllocationID.NotFound")
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})).must(t)

	sg := try(c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("out"), Description: aws.String("egress"), VpcId: vpc})).must(t).GroupId
	everywhere := types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
		Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}
	try(c.ec2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: sg,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})).must(t)
	try(c.ec2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: sg, IpPermissions: []types.IpPermission{everywhere}})).must(t)
	egress := try(c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{*sg}})).must(t).SecurityGroups[0].IpPermissionsEgress
	if len(egress) != 1 || len(egress[0].IpRanges) != 1 || len(egress[0].Ipv6Ranges) != 1 {
		t.Fatalf("egress permissions = %+v", egress)
	}
}

// TestEC2InstanceTypes reads instance types as Terraform's aws_instance
// and data "aws_ec2_instance_type" do: t3.micro has 2 vCPUs (1 core, 2
// threads) and 1 GiB; it is offered in every zone.
// https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html
func TestEC2InstanceTypes(t *testing.T) {
	ctx, c := setup(t)
	types3 := try(c.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceTypeT3Micro}})).must(t).InstanceTypes
	if len(types3) != 1 || *types3[0].VCpuInfo.DefaultVCpus != 2 || *types3[0].VCpuInfo.DefaultCores != 1 || *types3[0].MemoryInfo.SizeInMiB != 1024 ||
		!*types3[0].FreeTierEligible || !*types3[0].BurstablePerformanceSupported {
		t.Fatalf("t3.micro = %+v", types3)
	}
	arm := try(c.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: []types.Filter{
		filter("processor-info.supported-architecture", "arm64"), filter("instance-type", "t4g.*")}})).must(t).InstanceTypes
	if len(arm) != 7 || arm[0].InstanceType != types.InstanceTypeT4g2xlarge {
		t.Fatalf("t4g types = %d, first %v", len(arm), arm[0].InstanceType)
	}
	_, err := c.ec2.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"t3.colossal"}})
	wantEC2Code(t, err, "InvalidInstanceType")
	offered := try(c.ec2.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: types.LocationTypeAvailabilityZone,
		Filters: []types.Filter{filter("instance-type", "t3.micro")}})).must(t).InstanceTypeOfferings
	if len(offered) != 3 || *offered[0].Location != c.region+"a" {
		t.Fatalf("t3.micro offerings = %+v", offered)
	}
}
