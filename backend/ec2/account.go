package ec2

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/backend"
	"berth/sqlite"
)

// regions are the commercial regions DescribeRegions lists; berth serves
// any region name it is asked for.
var regions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1", "eu-central-1", "eu-central-2",
	"eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
	"me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

var regionFilter = filter[types.Region]{
	tags: func(types.Region) []types.Tag { return nil },
	fields: map[string]func(types.Region) []string{
		"region-name":   func(r types.Region) []string { return str(r.RegionName) },
		"endpoint":      func(r types.Region) []string { return str(r.Endpoint) },
		"opt-in-status": func(r types.Region) []string { return str(r.OptInStatus) },
	},
}

// DescribeRegions lists the regions.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html
func (b *Backend) DescribeRegions(ctx context.Context, in *ec2api.DescribeRegionsInput) (*ec2api.DescribeRegionsOutput, error) {
	names := slices.Clone(regions)
	if s := backend.ScopeFrom(ctx); !slices.Contains(names, s.Region) {
		names = append(names, s.Region)
	}
	var all []types.Region
	for _, name := range names {
		all = append(all, types.Region{RegionName: aws.String(name), Endpoint: aws.String("ec2." + name + ".amazonaws.com"),
			OptInStatus: aws.String("opt-in-not-required")})
	}
	var out []types.Region
	for _, r := range all {
		ok, err := regionFilter.match(in.Filters, r)
		if err != nil {
			return nil, err
		}
		if ok && (len(in.RegionNames) == 0 || slices.Contains(in.RegionNames, *r.RegionName)) {
			out = append(out, r)
		}
	}
	return &ec2api.DescribeRegionsOutput{Regions: backend.OrEmpty(out)}, nil
}

var zoneFilter = filter[types.AvailabilityZone]{
	tags: func(types.AvailabilityZone) []types.Tag { return nil },
	fields: map[string]func(types.AvailabilityZone) []string{
		"zone-name":            func(z types.AvailabilityZone) []string { return str(z.ZoneName) },
		"zone-id":              func(z types.AvailabilityZone) []string { return str(z.ZoneId) },
		"region-name":          func(z types.AvailabilityZone) []string { return str(z.RegionName) },
		"group-name":           func(z types.AvailabilityZone) []string { return str(z.GroupName) },
		"network-border-group": func(z types.AvailabilityZone) []string { return str(z.NetworkBorderGroup) },
		"zone-type":            func(z types.AvailabilityZone) []string { return str(z.ZoneType) },
		"state":                func(z types.AvailabilityZone) []string { return []string{string(z.State)} },
		"opt-in-status":        func(z types.AvailabilityZone) []string { return []string{string(z.OptInStatus)} },
	},
}

// DescribeAvailabilityZones lists the region's zones.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
func (b *Backend) DescribeAvailabilityZones(ctx context.Context, in *ec2api.DescribeAvailabilityZonesInput) (*ec2api.DescribeAvailabilityZonesOutput, error) {
	region := backend.ScopeFrom(ctx).Region
	var all []types.AvailabilityZone
	for _, z := range zones(region) {
		all = append(all, types.AvailabilityZone{ZoneName: aws.String(z.name), ZoneId: aws.String(z.id), RegionName: aws.String(region),
			State: types.AvailabilityZoneStateAvailable, OptInStatus: types.AvailabilityZoneOptInStatusOptInNotRequired,
			ZoneType: aws.String("availability-zone"), GroupName: aws.String(region), NetworkBorderGroup: aws.String(region),
			Messages: []types.AvailabilityZoneMessage{}})
	}
	for _, name := range in.ZoneNames {
		if !slices.ContainsFunc(all, func(z types.AvailabilityZone) bool { return *z.ZoneName == name }) {
			return nil, errInvalid("Invalid availability zone: [%s]", name)
		}
	}
	for _, id := range in.ZoneIds {
		if !slices.ContainsFunc(all, func(z types.AvailabilityZone) bool { return *z.ZoneId == id }) {
			return nil, errInvalid("Invalid availability zone id: [%s]", id)
		}
	}
	var out []types.AvailabilityZone
	for _, z := range all {
		ok, err := zoneFilter.match(in.Filters, z)
		if err != nil {
			return nil, err
		}
		if ok && (len(in.ZoneNames) == 0 || slices.Contains(in.ZoneNames, *z.ZoneName)) && (len(in.ZoneIds) == 0 || slices.Contains(in.ZoneIds, *z.ZoneId)) {
			out = append(out, z)
		}
	}
	return &ec2api.DescribeAvailabilityZonesOutput{AvailabilityZones: backend.OrEmpty(out)}, nil
}

// DescribeAccountAttributes reports the account's EC2 attributes: VPC
// only, its default VPC, and AWS's default limits.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAccountAttributes.html
func (b *Backend) DescribeAccountAttributes(ctx context.Context, in *ec2api.DescribeAccountAttributesInput) (*ec2api.DescribeAccountAttributesOutput, error) {
	var defaultVpc string
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error { return tx.Get(s.Key(kindDefaults, "vpc"), &defaultVpc) })
	if err != nil {
		return nil, err
	}
	if defaultVpc == "" {
		defaultVpc = "none"
	}
	values := map[types.AccountAttributeName][]string{
		"supported-platforms": {"VPC"}, "default-vpc": {defaultVpc}, "max-instances": {"20"},
		"vpc-max-security-groups-per-interface": {"5"}, "max-elastic-ips": {"5"}, "vpc-max-elastic-ips": {"5"},
	}
	names := in.AttributeNames
	if len(names) == 0 {
		names = []types.AccountAttributeName{"supported-platforms", "default-vpc", "max-instances", "vpc-max-security-groups-per-interface", "max-elastic-ips", "vpc-max-elastic-ips"}
	}
	out := []types.AccountAttribute{}
	for _, name := range names {
		attr := types.AccountAttribute{AttributeName: aws.String(string(name))}
		for _, v := range values[name] {
			attr.AttributeValues = append(attr.AttributeValues, types.AccountAttributeValue{AttributeValue: aws.String(v)})
		}
		out = append(out, attr)
	}
	return &ec2api.DescribeAccountAttributesOutput{AccountAttributes: out}, nil
}

var interfaceFilter = filter[types.NetworkInterface]{
	id:   func(n types.NetworkInterface) string { return *n.NetworkInterfaceId },
	tags: func(n types.NetworkInterface) []types.Tag { return n.TagSet },
	fields: map[string]func(types.NetworkInterface) []string{
		"network-interface-id": func(n types.NetworkInterface) []string { return str(n.NetworkInterfaceId) },
		"subnet-id":            func(n types.NetworkInterface) []string { return str(n.SubnetId) },
		"vpc-id":               func(n types.NetworkInterface) []string { return str(n.VpcId) },
		"availability-zone":    func(n types.NetworkInterface) []string { return str(n.AvailabilityZone) },
		"description":          func(n types.NetworkInterface) []string { return str(n.Description) },
		"status":               func(n types.NetworkInterface) []string { return []string{string(n.Status)} },
		"private-ip-address":   func(n types.NetworkInterface) []string { return str(n.PrivateIpAddress) },
		"mac-address":          func(n types.NetworkInterface) []string { return str(n.MacAddress) },
		"interface-type":       func(n types.NetworkInterface) []string { return []string{string(n.InterfaceType)} },
		"requester-managed":    func(n types.NetworkInterface) []string { return boolean(n.RequesterManaged) },
		"owner-id":             func(n types.NetworkInterface) []string { return str(n.OwnerId) },
		"attachment.instance-id": func(n types.NetworkInterface) []string {
			if n.Attachment == nil {
				return nil
			}
			return str(n.Attachment.InstanceId)
		},
		"group-id": func(n types.NetworkInterface) []string {
			return each(n.Groups, func(x types.GroupIdentifier) *string { return x.GroupId })
		},
	},
}

// DescribeNetworkInterfaces lists the elastic network interfaces of the
// awsvpc tasks that run, in the VPCs and zones of their subnets.
func (b *Backend) DescribeNetworkInterfaces(ctx context.Context, in *ec2api.DescribeNetworkInterfacesInput) (*ec2api.DescribeNetworkInterfacesOutput, error) {
	var enis []types.NetworkInterface
	if b.Tasks != nil {
		s, err := b.scope(ctx)
		if err != nil {
			return nil, err
		}
		if enis, err = b.Tasks.NetworkInterfaces(ctx, s); err != nil {
			return nil, err
		}
	}
	load := func(tx *sqlite.Tx, s backend.Scope) ([]types.NetworkInterface, error) {
		for i := range enis {
			n := &enis[i]
			n.OwnerId, n.Status, n.TagSet = aws.String(s.Account), types.NetworkInterfaceStatusInUse, backend.OrEmpty(n.TagSet)
			n.Groups = backend.OrEmpty(n.Groups)
			var sn types.Subnet
			if err := tx.Get(s.Key(kindSubnet, aws.ToString(n.SubnetId)), &sn); err == nil {
				n.VpcId, n.AvailabilityZone, n.AvailabilityZoneId = sn.VpcId, sn.AvailabilityZone, sn.AvailabilityZoneId
			} else if !isNotFound(err) {
				return nil, err
			}
		}
		instances, err := all[instance](tx, s, kindInstance, "")
		if err != nil {
			return nil, err
		}
		for _, i := range instances {
			if i.Instance.State.Name != types.InstanceStateNameTerminated {
				enis = append(enis, instanceInterfaces(s, i.Instance)...)
			}
		}
		return enis, nil
	}
	out, next, err := describe(ctx, b, load, interfaceFilter, in.NetworkInterfaceIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeNetworkInterfacesOutput{NetworkInterfaces: backend.OrEmpty(out), NextToken: next}, err
}
