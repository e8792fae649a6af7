package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// zone is one availability zone of a region.
type zone struct{ name, id string }

// zones are a region's availability zones: berth gives every region three,
// a to c, with ids in AWS's form (use1-az1 for us-east-1a).
func zones(region string) []zone {
	parts := strings.Split(region, "-")
	short := parts[0]
	if len(parts) > 1 {
		for _, p := range parts[1 : len(parts)-1] {
			if p != "" {
				short += p[:1]
			}
		}
		short += parts[len(parts)-1]
	}
	var out []zone
	for i, letter := range []string{"a", "b", "c"} {
		out = append(out, zone{name: region + letter, id: short + "-az" + strconv.Itoa(i+1)})
	}
	return out
}

func (b *Backend) newSubnet(s backend.Scope, vpcID string, block netip.Prefix, z zone, tags []types.Tag) types.Subnet {
	id := b.id("subnet")
	return types.Subnet{
		SubnetId: aws.String(id), SubnetArn: aws.String(arn(s, "subnet/"+id)), VpcId: aws.String(vpcID), OwnerId: aws.String(s.Account),
		CidrBlock: aws.String(block.String()), AvailabilityZone: aws.String(z.name), AvailabilityZoneId: aws.String(z.id),
		AvailableIpAddressCount: aws.Int32(int32(1)<<(32-block.Bits()) - 5), // AWS reserves five addresses
		State:                   types.SubnetStateAvailable, DefaultForAz: aws.Bool(false), MapPublicIpOnLaunch: aws.Bool(false),
		AssignIpv6AddressOnCreation: aws.Bool(false), EnableDns64: aws.Bool(false), Ipv6Native: aws.Bool(false),
		MapCustomerOwnedIpOnLaunch: aws.Bool(false), Ipv6CidrBlockAssociationSet: []types.SubnetIpv6CidrBlockAssociation{},
		PrivateDnsNameOptionsOnLaunch: &types.PrivateDnsNameOptionsOnLaunch{HostnameType: types.HostnameTypeIpName,
			EnableResourceNameDnsARecord: aws.Bool(false), EnableResourceNameDnsAAAARecord: aws.Bool(false)},
		Tags: backend.OrEmpty(tags),
	}
}

// CreateSubnet creates a subnet in a VPC, inside its CIDR block and
// overlapping no other subnet's.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html
func (b *Backend) CreateSubnet(ctx context.Context, in *ec2api.CreateSubnetInput) (*ec2api.CreateSubnetOutput, error) {
	if in.VpcId == nil {
		return nil, errMissing("VpcId")
	}
	if in.CidrBlock == nil {
		return nil, errMissing("CidrBlock")
	}
	block, err := cidr(*in.CidrBlock, "subnet")
	if err != nil {
		return nil, err
	}
	var sn types.Subnet
	err = b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, *in.VpcId, &v); err != nil {
			return err
		}
		// Inside one of the VPC's blocks, the primary or a secondary one.
		if !slices.ContainsFunc(vpcBlocks(v), func(outer netip.Prefix) bool { return outer.Contains(block.Addr()) && block.Bits() >= outer.Bits() }) {
			return awsproto.ClientError("InvalidSubnet.Range", "The CIDR '%s' is invalid.", block)
		}
		z, err := zoneOf(s.Region, aws.ToString(in.AvailabilityZone), aws.ToString(in.AvailabilityZoneId))
		if err != nil {
			return err
		}
		subnets, err := all[types.Subnet](tx, s, kindSubnet, *in.VpcId)
		if err != nil {
			return err
		}
		for _, other := range subnets {
			if netip.MustParsePrefix(*other.CidrBlock).Overlaps(block) {
				return awsproto.ClientError("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", block)
			}
		}
		sn = b.newSubnet(s, *in.VpcId, block, z, tagsFor(in.TagSpecifications, types.ResourceTypeSubnet))
		return tx.Put(s.Row(kindSubnet, *sn.SubnetId, *in.VpcId, ""), sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSubnetOutput{Subnet: &sn}, nil
}

// zoneOf finds a zone of the region by name or id; neither means the first.
func zoneOf(region, name, id string) (zone, error) {
	all := zones(region)
	if name == "" && id == "" {
		return all[0], nil
	}
	for _, z := range all {
		if z.name == name || z.id == id {
			return z, nil
		}
	}
	var names []string
	for _, z := range all {
		names = append(names, z.name)
	}
	return zone{}, errInvalid("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.",
		name+id, strings.Join(names, ", "))
}

var subnetFilter = filter[types.Subnet]{
	id:   func(sn types.Subnet) string { return *sn.SubnetId },
	tags: func(sn types.Subnet) []types.Tag { return sn.Tags },
	fields: map[string]func(types.Subnet) []string{
		"subnet-id":               func(sn types.Subnet) []string { return str(sn.SubnetId) },
		"subnet-arn":              func(sn types.Subnet) []string { return str(sn.SubnetArn) },
		"vpc-id":                  func(sn types.Subnet) []string { return str(sn.VpcId) },
		"cidr-block":              func(sn types.Subnet) []string { return str(sn.CidrBlock) },
		"cidr":                    func(sn types.Subnet) []string { return str(sn.CidrBlock) },
		"cidrBlock":               func(sn types.Subnet) []string { return str(sn.CidrBlock) },
		"availability-zone":       func(sn types.Subnet) []string { return str(sn.AvailabilityZone) },
		"availabilityZone":        func(sn types.Subnet) []string { return str(sn.AvailabilityZone) },
		"availability-zone-id":    func(sn types.Subnet) []string { return str(sn.AvailabilityZoneId) },
		"default-for-az":          func(sn types.Subnet) []string { return boolean(sn.DefaultForAz) },
		"defaultForAz":            func(sn types.Subnet) []string { return boolean(sn.DefaultForAz) },
		"map-public-ip-on-launch": func(sn types.Subnet) []string { return boolean(sn.MapPublicIpOnLaunch) },
		"state":                   func(sn types.Subnet) []string { return []string{string(sn.State)} },
		"owner-id":                func(sn types.Subnet) []string { return str(sn.OwnerId) },
	},
}

// DescribeSubnets lists subnets by id and filters.
func (b *Backend) DescribeSubnets(ctx context.Context, in *ec2api.DescribeSubnetsInput) (*ec2api.DescribeSubnetsOutput, error) {
	out, next, err := describe(ctx, b, stored[types.Subnet](kindSubnet), subnetFilter, in.SubnetIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeSubnetsOutput{Subnets: backend.OrEmpty(out), NextToken: next}, err
}

// loadSubnet loads a subnet by id, wherever its VPC.
func loadSubnet(tx *sqlite.Tx, s backend.Scope, id string) (types.Subnet, error) {
	var sn types.Subnet
	return sn, get(tx, s, kindSubnet, id, &sn)
}

// DeleteSubnet deletes a subnet that no NAT gateway or instance is in,
// and its route table association.
func (b *Backend) DeleteSubnet(ctx context.Context, in *ec2api.DeleteSubnetInput) (*ec2api.DeleteSubnetOutput, error) {
	id := aws.ToString(in.SubnetId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sn, err := loadSubnet(tx, s, id)
		if err != nil {
			return err
		}
		if users, err := subnetUsers(tx, s, id); err != nil || len(users) > 0 {
			if err == nil {
				err = errDependency("The subnet '%s' has dependencies and cannot be deleted.", id)
			}
			return err
		}
		tables, err := all[types.RouteTable](tx, s, kindRouteTable, *sn.VpcId)
		if err != nil {
			return err
		}
		for _, rt := range tables {
			kept := slices.DeleteFunc(slices.Clone(rt.Associations), func(a types.RouteTableAssociation) bool { return aws.ToString(a.SubnetId) == id })
			if len(kept) != len(rt.Associations) {
				rt.Associations = kept
				if err := tx.Put(s.Row(kindRouteTable, *rt.RouteTableId, *rt.VpcId, ""), rt); err != nil {
					return err
				}
			}
		}
		if err := tx.Delete(s.Key(kindACLAssociation, id)); err != nil {
			return err
		}
		return tx.Delete(s.Key(kindSubnet, id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteSubnetOutput{}, nil
}

// ModifySubnetAttribute sets a subnet's launch attributes.
func (b *Backend) ModifySubnetAttribute(ctx context.Context, in *ec2api.ModifySubnetAttributeInput) (*ec2api.ModifySubnetAttributeOutput, error) {
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sn, err := loadSubnet(tx, s, aws.ToString(in.SubnetId))
		if err != nil {
			return err
		}
		for _, a := range []struct {
			value *types.AttributeBooleanValue
			field **bool
		}{
			{in.MapPublicIpOnLaunch, &sn.MapPublicIpOnLaunch}, {in.AssignIpv6AddressOnCreation, &sn.AssignIpv6AddressOnCreation},
			{in.EnableDns64, &sn.EnableDns64}, {in.MapCustomerOwnedIpOnLaunch, &sn.MapCustomerOwnedIpOnLaunch},
			{in.EnableResourceNameDnsARecordOnLaunch, &sn.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord},
			{in.EnableResourceNameDnsAAAARecordOnLaunch, &sn.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord},
		} {
			if a.value != nil && a.value.Value != nil {
				*a.field = aws.Bool(*a.value.Value)
			}
		}
		if in.PrivateDnsHostnameTypeOnLaunch != "" {
			sn.PrivateDnsNameOptionsOnLaunch.HostnameType = in.PrivateDnsHostnameTypeOnLaunch
		}
		return tx.Put(s.Row(kindSubnet, *sn.SubnetId, *sn.VpcId, ""), sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifySubnetAttributeOutput{}, nil
}
