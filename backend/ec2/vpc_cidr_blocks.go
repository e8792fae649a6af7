package ec2

import (
	"context"
	"net/netip"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Secondary IPv4 CIDR blocks of a VPC: up to five blocks in all (the
// default quota), none overlapping another, none from a private range
// other than the primary block's, each with a local route in every route
// table of the VPC. berth serves no IPv6 blocks.
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html
// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html

// maxVpcBlocks is the default quota of IPv4 CIDR blocks per VPC.
const maxVpcBlocks = 5

// privateRanges are the RFC 1918 ranges: a VPC whose primary block is in
// one of them cannot add a block from another.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
}

// vpcBlocks are the IPv4 blocks associated with a VPC.
func vpcBlocks(v vpc) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range v.Vpc.CidrBlockAssociationSet {
		if a.CidrBlockState != nil && a.CidrBlockState.State == types.VpcCidrBlockStateCodeAssociated {
			out = append(out, netip.MustParsePrefix(*a.CidrBlock))
		}
	}
	return out
}

// restricted reports whether block is from a private range other than the
// one primary is in.
func restricted(primary, block netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Overlaps(block) && !r.Contains(primary.Addr()) {
			return true
		}
	}
	return false
}

// AssociateVpcCidrBlock adds an IPv4 CIDR block to a VPC, with a local
// route to it in each of the VPC's route tables. It answers the
// association as associating, as EC2 does; it is associated from then on.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateVpcCidrBlock.html
func (b *Backend) AssociateVpcCidrBlock(ctx context.Context, in *ec2api.AssociateVpcCidrBlockInput) (*ec2api.AssociateVpcCidrBlockOutput, error) {
	if in.VpcId == nil {
		return nil, errMissing("VpcId")
	}
	if aws.ToBool(in.AmazonProvidedIpv6CidrBlock) || in.Ipv6CidrBlock != nil || in.Ipv6Pool != nil || in.Ipv6IpamPoolId != nil {
		return nil, awsproto.ClientError("OperationNotPermitted", "berth does not serve IPv6 CIDR blocks")
	}
	if in.Ipv4IpamPoolId != nil {
		return nil, awsproto.ClientError("OperationNotPermitted", "berth does not serve IPAM pools")
	}
	if in.CidrBlock == nil {
		return nil, errMissing("CidrBlock")
	}
	block, err := cidr(*in.CidrBlock, "cidrBlock")
	if err != nil {
		return nil, err
	}
	var assoc types.VpcCidrBlockAssociation
	err = b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, *in.VpcId, &v); err != nil {
			return err
		}
		blocks := vpcBlocks(v)
		if len(blocks) >= maxVpcBlocks {
			return awsproto.ClientError("CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: %d", *in.VpcId, maxVpcBlocks)
		}
		for _, other := range blocks {
			if other.Overlaps(block) {
				return awsproto.ClientError("InvalidVpc.Range", "The CIDR '%s' conflicts with another CIDR block of the VPC.", block)
			}
		}
		if restricted(netip.MustParsePrefix(*v.Vpc.CidrBlock), block) {
			return awsproto.ClientError("InvalidVpc.Range", "The CIDR '%s' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.", block)
		}
		assoc = types.VpcCidrBlockAssociation{AssociationId: aws.String(b.id("vpc-cidr-assoc")), CidrBlock: aws.String(block.String()),
			CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}}
		v.Vpc.CidrBlockAssociationSet = append(v.Vpc.CidrBlockAssociationSet, assoc)
		if err := tx.Put(s.Row(kindVpc, *in.VpcId, "", ""), v); err != nil {
			return err
		}
		return b.editLocalRoutes(tx, s, *in.VpcId, func(routes []types.Route) []types.Route {
			return append(routes, types.Route{DestinationCidrBlock: aws.String(block.String()), GatewayId: aws.String("local"),
				Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive})
		})
	})
	if err != nil {
		return nil, err
	}
	answered := assoc
	answered.CidrBlockState = &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociating}
	return &ec2api.AssociateVpcCidrBlockOutput{VpcId: in.VpcId, CidrBlockAssociation: &answered}, nil
}

// DisassociateVpcCidrBlock removes a secondary IPv4 CIDR block from a VPC,
// and its local routes. The primary block stays; a block that still holds
// subnets stays too.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateVpcCidrBlock.html
func (b *Backend) DisassociateVpcCidrBlock(ctx context.Context, in *ec2api.DisassociateVpcCidrBlockInput) (*ec2api.DisassociateVpcCidrBlockOutput, error) {
	if in.AssociationId == nil {
		return nil, errMissing("AssociationId")
	}
	out := &ec2api.DisassociateVpcCidrBlockOutput{}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		vpcs, err := all[vpc](tx, s, kindVpc, "")
		if err != nil {
			return err
		}
		for _, v := range vpcs {
			i := slices.IndexFunc(v.Vpc.CidrBlockAssociationSet, func(a types.VpcCidrBlockAssociation) bool {
				return aws.ToString(a.AssociationId) == *in.AssociationId
			})
			if i < 0 {
				continue
			}
			assoc := v.Vpc.CidrBlockAssociationSet[i]
			if *assoc.CidrBlock == *v.Vpc.CidrBlock {
				return awsproto.ClientError("OperationNotPermitted", "The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC", *in.AssociationId)
			}
			block := netip.MustParsePrefix(*assoc.CidrBlock)
			subnets, err := all[types.Subnet](tx, s, kindSubnet, *v.Vpc.VpcId)
			if err != nil {
				return err
			}
			for _, sn := range subnets {
				if block.Contains(netip.MustParsePrefix(*sn.CidrBlock).Addr()) {
					return errDependency("The vpc CIDR block with association ID %s may not be disassociated while subnet %s is in it.", *in.AssociationId, *sn.SubnetId)
				}
			}
			v.Vpc.CidrBlockAssociationSet = slices.Delete(v.Vpc.CidrBlockAssociationSet, i, i+1)
			if err := tx.Put(s.Row(kindVpc, *v.Vpc.VpcId, "", ""), v); err != nil {
				return err
			}
			out.VpcId = v.Vpc.VpcId
			out.CidrBlockAssociation = &assoc
			out.CidrBlockAssociation.CidrBlockState = &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeDisassociating}
			return b.editLocalRoutes(tx, s, *v.Vpc.VpcId, func(routes []types.Route) []types.Route {
				return slices.DeleteFunc(routes, func(r types.Route) bool {
					return aws.ToString(r.GatewayId) == "local" && aws.ToString(r.DestinationCidrBlock) == block.String()
				})
			})
		}
		return awsproto.ClientError("InvalidVpcCidrBlockAssociationID.NotFound", "The vpc CIDR block association ID '%s' does not exist", *in.AssociationId)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// editLocalRoutes changes the routes of every route table of a VPC.
func (b *Backend) editLocalRoutes(tx *sqlite.Tx, s backend.Scope, vpcID string, edit func([]types.Route) []types.Route) error {
	tables, err := all[types.RouteTable](tx, s, kindRouteTable, vpcID)
	if err != nil {
		return err
	}
	for _, rt := range tables {
		rt.Routes = edit(rt.Routes)
		if err := tx.Put(s.Row(kindRouteTable, *rt.RouteTableId, vpcID, ""), rt); err != nil {
			return err
		}
	}
	return nil
}
