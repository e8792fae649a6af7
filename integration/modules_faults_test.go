package integration

// Faults found by applying the terraform-aws-modules examples (vpc, alb,
// ecs) against berth, each with the behaviour AWS documents.

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestModulesElasticIPAssociation: terraform-aws-vpc's NAT gateway address
// is destroyed after its gateway, and the provider first disassociates
// the association it last read; the association left with the gateway,
// so EC2 answers InvalidAssociationID.NotFound, which the provider
// ignores. An instance's association comes and goes with
// AssociateAddress and DisassociateAddress; a NAT gateway's address is
// not disassociated but released with its gateway.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateAddress.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateAddress.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
func TestModulesElasticIPAssociation(t *testing.T) {
	ctx, c := setup(t)
	subnet := subnets(t, ctx, c)[0]
	eip := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	nat := try(c.ec2.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: eip.AllocationId})).must(t).NatGateway
	held := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{*eip.AllocationId}})).must(t).Addresses[0]
	_, err := c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: held.AssociationId})
	wantEC2Code(t, err, "AuthFailure")
	try(c.ec2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGatewayId})).must(t)
	_, err = c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: held.AssociationId})
	wantEC2Code(t, err, "InvalidAssociationID.NotFound")
	_, err = c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{})
	wantEC2Code(t, err, "MissingParameter")

	run := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).must(t).Instances[0]
	other := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	first := try(c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: other.AllocationId, InstanceId: run.InstanceId})).must(t).AssociationId
	// The instance's address moves to eip: the one it had is disassociated
	// and stays allocated.
	assoc := try(c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: run.InstanceId})).must(t).AssociationId
	got := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{filter("instance-id", *run.InstanceId)}})).must(t).Addresses
	if len(got) != 1 || *got[0].AllocationId != *eip.AllocationId || aws.ToString(got[0].AssociationId) != *assoc ||
		aws.ToString(got[0].PrivateIpAddress) != aws.ToString(run.PrivateIpAddress) {
		t.Fatalf("addresses of %s = %+v", *run.InstanceId, got)
	}
	_, err = c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: first})
	wantEC2Code(t, err, "InvalidAssociationID.NotFound")

	second := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).must(t).Instances[0]
	_, err = c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: second.InstanceId, AllowReassociation: aws.Bool(false)})
	wantEC2Code(t, err, "Resource.AlreadyAssociated")
	assoc = try(c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: second.InstanceId})).must(t).AssociationId
	if got := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{filter("instance-id", *run.InstanceId)}})).must(t).Addresses; len(got) != 0 {
		t.Fatalf("addresses of %s after reassociation = %+v", *run.InstanceId, got)
	}
	_, err = c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String("i-0123456789abcdef0")})
	wantEC2Code(t, err, "InvalidInstanceID.NotFound")
	_, err = c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})
	wantEC2Code(t, err, "InvalidIPAddress.InUse")
	try(c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc})).must(t)
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})).must(t)
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: other.AllocationId})).must(t)
}

// TestModulesListenerAttributeValues sets the listener attributes
// terraform-aws-alb's complete-alb example sets: header names longer than
// the 40 characters of a rule's http-header condition
// (X-Amzn-Mtls-Clientcert-Serial-Number-Custom), and TRACE among the
// methods of Access-Control-Allow-Methods, which API_ListenerAttribute
// lists (GET, HEAD, POST, DELETE, CONNECT, OPTIONS, PUT, TRACE, PATCH).
// Every value is read back as set.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
func TestModulesListenerAttributeValues(t *testing.T) {
	ctx, c := setup(t)
	s := newALB(t, ctx, c, "headers")
	set := map[string]string{
		"routing.http.response.server.enabled":                                  "false",
		"routing.http.response.strict_transport_security.header_value":          "max-age=31536000; includeSubDomains; preload",
		"routing.http.response.access_control_allow_origin.header_value":        "https://example.com",
		"routing.http.response.access_control_allow_methods.header_value":       "TRACE,GET",
		"routing.http.response.access_control_allow_headers.header_value":       "Accept-Language,Content-Language",
		"routing.http.response.access_control_allow_credentials.header_value":   "true",
		"routing.http.response.access_control_expose_headers.header_value":      "Cache-Control",
		"routing.http.response.access_control_max_age.header_value":             "86400",
		"routing.http.response.content_security_policy.header_value":            "*",
		"routing.http.response.x_content_type_options.header_value":             "nosniff",
		"routing.http.response.x_frame_options.header_value":                    "SAMEORIGIN",
		"routing.http.request.x_amzn_tls_version.header_name":                   "X-Amzn-Tls-Version-Custom",
		"routing.http.request.x_amzn_tls_cipher_suite.header_name":              "X-Amzn-Tls-Cipher-Suite-Custom",
		"routing.http.request.x_amzn_mtls_clientcert.header_name":               "X-Amzn-Mtls-Clientcert-Custom",
		"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name": "X-Amzn-Mtls-Clientcert-Serial-Number-Custom",
		"routing.http.request.x_amzn_mtls_clientcert_issuer.header_name":        "X-Amzn-Mtls-Clientcert-Issuer-Custom",
		"routing.http.request.x_amzn_mtls_clientcert_subject.header_name":       "X-Amzn-Mtls-Clientcert-Subject-Custom",
		"routing.http.request.x_amzn_mtls_clientcert_validity.header_name":      "X-Amzn-Mtls-Clientcert-Validity-Custom",
		"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name":          "X-Amzn-Mtls-Clientcert-Leaf-Custom",
	}
	var attrs []elbtypes.ListenerAttribute
	for k, v := range set {
		attrs = append(attrs, elbtypes.ListenerAttribute{Key: aws.String(k), Value: aws.String(v)})
	}
	try(c.elbv2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(s.listener), Attributes: attrs})).must(t)
	got := try(c.elbv2.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: aws.String(s.listener)})).must(t).Attributes
	for k, v := range set {
		if attr(got, k) != v {
			t.Errorf("%s = %q, want %q", k, attr(got, k), v)
		}
	}
	for key, value := range map[string]string{"routing.http.response.access_control_allow_methods.header_value": "GET,FETCH",
		"routing.http.request.x_amzn_tls_version.header_name": "X Tls"} {
		_, err := c.elbv2.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(s.listener),
			Attributes: []elbtypes.ListenerAttribute{{Key: aws.String(key), Value: aws.String(value)}}})
		wantErr[*elbtypes.InvalidConfigurationRequestException](t, err)
	}
}

// TestModulesNetworkACLEntryFilters: the provider reads an
// aws_network_acl_rule back with DescribeNetworkAcls filtered by
// network-acl-id, entry.egress and entry.rule-number (terraform-aws-vpc's
// network-acls example has a dozen). Every entry.* filter of the API
// reference matches an ACL that has any entry with the value.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkAcls.html
func TestModulesNetworkACLEntryFilters(t *testing.T) {
	ctx, c := setup(t)
	vpc := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.7.0.0/16")})).must(t).Vpc
	acl := try(c.ec2.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: vpc.VpcId})).must(t).NetworkAcl
	try(c.ec2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, RuleNumber: aws.Int32(110),
		Egress: aws.Bool(false), Protocol: aws.String("6"), RuleAction: types.RuleActionAllow, CidrBlock: aws.String("10.7.1.0/24"),
		PortRange: &types.PortRange{From: aws.Int32(1024), To: aws.Int32(65535)}})).must(t)
	try(c.ec2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAclId, RuleNumber: aws.Int32(120),
		Egress: aws.Bool(true), Protocol: aws.String("1"), RuleAction: types.RuleActionDeny, Ipv6CidrBlock: aws.String("::/0"),
		IcmpTypeCode: &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}})).must(t)
	count := func(filters ...types.Filter) int {
		t.Helper()
		out := try(c.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
			Filters: append(filters, filter("vpc-id", *vpc.VpcId), filter("default", "false"))})).must(t)
		return len(out.NetworkAcls)
	}
	for _, tc := range []struct {
		filter types.Filter
		want   int
	}{
		{filter("entry.egress", "false"), 1},
		{filter("entry.rule-number", "110"), 1},
		{filter("entry.rule-number", "130"), 0},
		{filter("entry.cidr", "10.7.1.0/24"), 1},
		{filter("entry.ipv6-cidr", "::/0"), 1},
		{filter("entry.protocol", "6"), 1},
		{filter("entry.rule-action", "deny"), 1},
		{filter("entry.port-range.from", "1024"), 1},
		{filter("entry.port-range.to", "65535"), 1},
		{filter("entry.icmp.type", "8"), 1},
		{filter("entry.icmp.code", "-1"), 1},
		{filter("entry.icmp.type", "0"), 0},
	} {
		if got := count(tc.filter); got != tc.want {
			t.Errorf("%s=%v: %d ACLs, want %d", *tc.filter.Name, tc.filter.Values, got, tc.want)
		}
	}
	if got := count(filter("network-acl-id", *acl.NetworkAclId), filter("entry.egress", "true"), filter("entry.rule-number", "120")); got != 1 {
		t.Errorf("the provider's lookup found %d ACLs, want 1", got)
	}
}

// TestModulesVpcSecondaryCidrBlocks: terraform-aws-vpc's
// secondary_cidr_blocks associates more IPv4 blocks with the VPC and puts
// subnets in them. Each block gets a local route in every route table of
// the VPC (new ones too); blocks may not overlap, nor come from another
// private range than the primary block's; five in all; the primary block
// stays, and a block stays while a subnet is in it.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateVpcCidrBlock.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateVpcCidrBlock.html
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
func TestModulesVpcSecondaryCidrBlocks(t *testing.T) {
	ctx, c := setup(t)
	vpc := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})).must(t).Vpc
	added := try(c.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.1.0.0/16")})).must(t)
	if a := added.CidrBlockAssociation; aws.ToString(a.CidrBlock) != "10.1.0.0/16" || a.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociating {
		t.Fatalf("AssociateVpcCidrBlock = %+v", a)
	}
	got := try(c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{
		filter("cidr-block-association.association-id", *added.CidrBlockAssociation.AssociationId)}})).must(t).Vpcs
	if len(got) != 1 || len(got[0].CidrBlockAssociationSet) != 2 || got[0].CidrBlockAssociationSet[1].CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated {
		t.Fatalf("DescribeVpcs = %+v", got)
	}
	localRoutes := func(rt types.RouteTable) []string {
		var out []string
		for _, r := range rt.Routes {
			if aws.ToString(r.GatewayId) == "local" {
				out = append(out, aws.ToString(r.DestinationCidrBlock))
			}
		}
		return out
	}
	main := try(c.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", *vpc.VpcId)}})).must(t).RouteTables[0]
	created := try(c.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.VpcId})).must(t).RouteTable
	for _, rt := range []types.RouteTable{main, *created} {
		if got := localRoutes(rt); len(got) != 2 || got[1] != "10.1.0.0/16" {
			t.Fatalf("local routes of %s = %v", *rt.RouteTableId, got)
		}
	}
	sn := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.1.4.0/24")})).must(t).Subnet

	for block, code := range map[string]string{"10.1.128.0/17": "InvalidVpc.Range", "172.16.0.0/16": "InvalidVpc.Range", "192.168.0.0/16": "InvalidVpc.Range"} {
		_, err := c.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpc.VpcId, CidrBlock: aws.String(block)})
		wantEC2Code(t, err, code)
	}
	for _, block := range []string{"10.2.0.0/16", "10.3.0.0/16", "100.64.0.0/16"} {
		try(c.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpc.VpcId, CidrBlock: aws.String(block)})).must(t)
	}
	_, err := c.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.4.0.0/16")})
	wantEC2Code(t, err, "CidrLimitExceeded")

	_, err = c.ec2.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: vpc.CidrBlockAssociationSet[0].AssociationId})
	wantEC2Code(t, err, "OperationNotPermitted")
	_, err = c.ec2.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: added.CidrBlockAssociation.AssociationId})
	wantEC2Code(t, err, "DependencyViolation")
	try(c.ec2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: sn.SubnetId})).must(t)
	try(c.ec2.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: added.CidrBlockAssociation.AssociationId})).must(t)
	_, err = c.ec2.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: added.CidrBlockAssociation.AssociationId})
	wantEC2Code(t, err, "InvalidVpcCidrBlockAssociationID.NotFound")
	main = try(c.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{*main.RouteTableId}})).must(t).RouteTables[0]
	if got := localRoutes(main); slices.Contains(got, "10.1.0.0/16") {
		t.Fatalf("local routes after disassociation = %v", got)
	}
	_, err = c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.VpcId, CidrBlock: aws.String("10.1.4.0/24")})
	wantEC2Code(t, err, "InvalidSubnet.Range")
}
