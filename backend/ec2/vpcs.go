package ec2

import (
	"context"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// The default VPC and its subnets, one per availability zone, as AWS makes
// them.
// https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html
const defaultVpcCidr = "172.31.0.0/16"

var defaultSubnetCidrs = []string{"172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"}

// cidr parses an IPv4 CIDR block whose prefix length is between /16 and
// /28, as VPCs and subnets take.
func cidr(s, param string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return p, errInvalid("Value (%s) for parameter %s is invalid. This is not a valid CIDR block.", s, param)
	}
	if p.Bits() < 16 || p.Bits() > 28 {
		code := map[string]string{"cidrBlock": "InvalidVpc.Range", "subnet": "InvalidSubnet.Range"}[param]
		return p, awsproto.ClientError(code, "The CIDR '%s' is invalid.", s)
	}
	return p, nil
}

// makeDefaultVpc makes the region's default VPC: its subnets, an internet
// gateway and a route to it.
func (b *Backend) makeDefaultVpc(tx *sqlite.Tx, s backend.Scope) (string, error) {
	v, err := b.createVpc(tx, s, netip.MustParsePrefix(defaultVpcCidr), true, nil)
	if err != nil {
		return "", err
	}
	id := *v.Vpc.VpcId
	for i, zone := range zones(s.Region) {
		sn := b.newSubnet(s, id, netip.MustParsePrefix(defaultSubnetCidrs[i]), zone, nil)
		sn.DefaultForAz, sn.MapPublicIpOnLaunch = aws.Bool(true), aws.Bool(true)
		if err := tx.Put(s.Row(kindSubnet, *sn.SubnetId, id, ""), sn); err != nil {
			return "", err
		}
	}
	igw := types.InternetGateway{InternetGatewayId: aws.String(b.id("igw")), OwnerId: aws.String(s.Account), Tags: []types.Tag{},
		Attachments: []types.InternetGatewayAttachment{{VpcId: aws.String(id), State: types.AttachmentStatus("available")}}}
	if err := tx.Put(s.Row(kindInternetGateway, *igw.InternetGatewayId, "", ""), igw); err != nil {
		return "", err
	}
	var rt types.RouteTable
	if err := tx.Get(s.Key(kindRouteTable, v.MainRouteTable), &rt); err != nil {
		return "", err
	}
	rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGatewayId,
		Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive})
	return id, tx.Put(s.Row(kindRouteTable, v.MainRouteTable, id, ""), rt)
}

// createVpc stores a new VPC with its main route table, default network
// ACL and default security group.
func (b *Backend) createVpc(tx *sqlite.Tx, s backend.Scope, block netip.Prefix, isDefault bool, tags []types.Tag) (vpc, error) {
	id := b.id("vpc")
	v := vpc{DNSSupport: true, DNSHostnames: isDefault, Vpc: types.Vpc{
		VpcId: aws.String(id), CidrBlock: aws.String(block.String()), State: types.VpcStateAvailable, OwnerId: aws.String(s.Account),
		InstanceTenancy: types.TenancyDefault, IsDefault: aws.Bool(isDefault), DhcpOptionsId: aws.String("dopt-" + b.env.IDs.Hex(17)),
		CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{{
			AssociationId: aws.String(b.id("vpc-cidr-assoc")), CidrBlock: aws.String(block.String()),
			CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated},
		}},
		Tags: backend.OrEmpty(tags),
	}}
	local := types.Route{DestinationCidrBlock: aws.String(block.String()), GatewayId: aws.String("local"),
		Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive}
	rt := b.newRouteTable(s, id, local)
	rt.Associations = []types.RouteTableAssociation{{
		Main: aws.Bool(true), RouteTableAssociationId: aws.String(b.id("rtbassoc")), RouteTableId: rt.RouteTableId,
		AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated},
	}}
	v.MainRouteTable = *rt.RouteTableId
	if err := tx.Put(s.Row(kindRouteTable, *rt.RouteTableId, id, ""), rt); err != nil {
		return v, err
	}
	acl := defaultNetworkACL(s, b.id("acl"), id)
	v.DefaultNetworkACL = *acl.NetworkAclId
	if err := tx.Put(s.Row(kindNetworkACL, *acl.NetworkAclId, id, ""), acl); err != nil {
		return v, err
	}
	sg, err := b.createSecurityGroup(tx, s, "default", "default VPC security group", id, nil)
	if err != nil {
		return v, err
	}
	self := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: sg.GroupId, UserId: aws.String(s.Account)}}}
	if _, err := b.addRules(tx, s, sg, false, []types.IpPermission{self}, nil); err != nil {
		return v, err
	}
	v.DefaultSecurityGroup = *sg.GroupId
	return v, tx.Put(s.Row(kindVpc, id, "", ""), v)
}

// CreateVpc creates a VPC.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html
func (b *Backend) CreateVpc(ctx context.Context, in *ec2api.CreateVpcInput) (*ec2api.CreateVpcOutput, error) {
	if in.CidrBlock == nil {
		return nil, errMissing("CidrBlock")
	}
	block, err := cidr(*in.CidrBlock, "cidrBlock")
	if err != nil {
		return nil, err
	}
	var v vpc
	err = b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		v, err = b.createVpc(tx, s, block, false, tagsFor(in.TagSpecifications, types.ResourceTypeVpc))
		return err
	})
	if err != nil {
		return nil, err
	}
	if in.InstanceTenancy != "" {
		v.Vpc.InstanceTenancy = in.InstanceTenancy
	}
	return &ec2api.CreateVpcOutput{Vpc: &v.Vpc}, nil
}

var vpcFilter = filter[types.Vpc]{
	id:   func(v types.Vpc) string { return *v.VpcId },
	tags: func(v types.Vpc) []types.Tag { return v.Tags },
	fields: map[string]func(types.Vpc) []string{
		"vpc-id":     func(v types.Vpc) []string { return str(v.VpcId) },
		"cidr":       func(v types.Vpc) []string { return str(v.CidrBlock) },
		"cidr-block": func(v types.Vpc) []string { return str(v.CidrBlock) },
		"cidr-block-association.cidr-block": func(v types.Vpc) []string {
			return each(v.CidrBlockAssociationSet, func(x types.VpcCidrBlockAssociation) *string { return x.CidrBlock })
		},
		"cidr-block-association.association-id": func(v types.Vpc) []string {
			return each(v.CidrBlockAssociationSet, func(x types.VpcCidrBlockAssociation) *string { return x.AssociationId })
		},
		"cidr-block-association.state": func(v types.Vpc) []string {
			return each(v.CidrBlockAssociationSet, func(x types.VpcCidrBlockAssociation) *string {
				if x.CidrBlockState == nil {
					return nil
				}
				return aws.String(string(x.CidrBlockState.State))
			})
		},
		"is-default":      func(v types.Vpc) []string { return boolean(v.IsDefault) },
		"isDefault":       func(v types.Vpc) []string { return boolean(v.IsDefault) },
		"state":           func(v types.Vpc) []string { return []string{string(v.State)} },
		"owner-id":        func(v types.Vpc) []string { return str(v.OwnerId) },
		"dhcp-options-id": func(v types.Vpc) []string { return str(v.DhcpOptionsId) },
	},
}

// DescribeVpcs lists VPCs by id and filters.
func (b *Backend) DescribeVpcs(ctx context.Context, in *ec2api.DescribeVpcsInput) (*ec2api.DescribeVpcsOutput, error) {
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.Vpc, error) {
		stored, err := all[vpc](tx, s, kindVpc, "")
		vpcs := make([]types.Vpc, len(stored))
		for i, v := range stored {
			vpcs[i] = v.Vpc
		}
		return vpcs, err
	}
	out, next, err := describe(ctx, b, load, vpcFilter, in.VpcIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeVpcsOutput{Vpcs: backend.OrEmpty(out), NextToken: next}, err
}

// DeleteVpc deletes a VPC that holds nothing but its defaults.
func (b *Backend) DeleteVpc(ctx context.Context, in *ec2api.DeleteVpcInput) (*ec2api.DeleteVpcOutput, error) {
	id := aws.ToString(in.VpcId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, id, &v); err != nil {
			return err
		}
		busy := errDependency("The vpc '%s' has dependencies and cannot be deleted.", id)
		for kind, own := range map[string]string{kindSubnet: "", kindSecurityGroup: v.DefaultSecurityGroup, kindRouteTable: v.MainRouteTable, kindNetworkACL: v.DefaultNetworkACL} {
			ids, _, err := tx.ListIDs(s.Query(kind, id))
			if err != nil {
				return err
			}
			for _, other := range ids {
				if other != own {
					return busy
				}
			}
		}
		if has, err := hasInternetGateway(tx, s, id); err != nil || has {
			if err != nil {
				return err
			}
			return busy
		}
		if err := b.deleteSecurityGroup(tx, s, v.DefaultSecurityGroup); err != nil {
			return err
		}
		for _, k := range []sqlite.Key{s.Key(kindRouteTable, v.MainRouteTable), s.Key(kindNetworkACL, v.DefaultNetworkACL), s.Key(kindVpc, id)} {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		var defaultID string
		if err := tx.Get(s.Key(kindDefaults, "vpc"), &defaultID); err == nil && defaultID == id {
			return tx.Put(s.Row(kindDefaults, "vpc", "", ""), "") // deleted: AWS does not make it again
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteVpcOutput{}, nil
}

// ModifyVpcAttribute sets one of a VPC's DNS or address usage attributes.
func (b *Backend) ModifyVpcAttribute(ctx context.Context, in *ec2api.ModifyVpcAttributeInput) (*ec2api.ModifyVpcAttributeOutput, error) {
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, aws.ToString(in.VpcId), &v); err != nil {
			return err
		}
		set := 0
		for _, a := range []struct {
			value *types.AttributeBooleanValue
			field *bool
		}{{in.EnableDnsSupport, &v.DNSSupport}, {in.EnableDnsHostnames, &v.DNSHostnames}, {in.EnableNetworkAddressUsageMetrics, &v.AddressUsageMetrics}} {
			if a.value != nil && a.value.Value != nil {
				*a.field = *a.value.Value
				set++
			}
		}
		if set != 1 {
			return errInvalid("Exactly one attribute must be modified at a time")
		}
		return tx.Put(s.Row(kindVpc, *v.Vpc.VpcId, "", ""), v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyVpcAttributeOutput{}, nil
}

// DescribeVpcAttribute reports one attribute of a VPC.
func (b *Backend) DescribeVpcAttribute(ctx context.Context, in *ec2api.DescribeVpcAttributeInput) (*ec2api.DescribeVpcAttributeOutput, error) {
	var v vpc
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error { return get(tx, s, kindVpc, aws.ToString(in.VpcId), &v) })
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVpcAttributeOutput{VpcId: v.Vpc.VpcId}
	value := func(b bool) *types.AttributeBooleanValue { return &types.AttributeBooleanValue{Value: aws.Bool(b)} }
	switch in.Attribute {
	case types.VpcAttributeNameEnableDnsSupport:
		out.EnableDnsSupport = value(v.DNSSupport)
	case types.VpcAttributeNameEnableDnsHostnames:
		out.EnableDnsHostnames = value(v.DNSHostnames)
	case types.VpcAttributeNameEnableNetworkAddressUsageMetrics:
		out.EnableNetworkAddressUsageMetrics = value(v.AddressUsageMetrics)
	default:
		return nil, errInvalid("Value (%s) for parameter attribute is invalid. Unknown attribute.", in.Attribute)
	}
	return out, nil
}
