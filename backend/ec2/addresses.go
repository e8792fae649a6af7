package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Elastic IP addresses and NAT gateways, as records: the public
// addresses come from the documentation ranges and nothing is translated.
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html

// maxAddresses is the default quota of Elastic IP addresses per region,
// as DescribeAccountAttributes reports it.
const maxAddresses = 5

// publicPool is where Elastic IP addresses come from: TEST-NET-2, a range
// that routes nowhere.
var publicPool = netip.MustParsePrefix("198.51.100.0/24")

// AllocateAddress allocates an Elastic IP address for use in a VPC.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AllocateAddress.html
func (b *Backend) AllocateAddress(ctx context.Context, in *ec2api.AllocateAddressInput) (*ec2api.AllocateAddressOutput, error) {
	if in.Domain != "" && in.Domain != types.DomainTypeVpc {
		return nil, errInvalid("Invalid value '%s' for domain.", in.Domain)
	}
	var a types.Address
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		addresses, err := all[types.Address](tx, s, kindAddress, "")
		if err != nil {
			return err
		}
		if len(addresses) >= maxAddresses {
			return awsproto.ClientError("AddressLimitExceeded", "The maximum number of addresses has been reached.")
		}
		ip := publicPool.Addr().Next()
		for slices.ContainsFunc(addresses, func(a types.Address) bool { return aws.ToString(a.PublicIp) == ip.String() }) {
			ip = ip.Next()
		}
		a = types.Address{
			AllocationId: aws.String(b.id("eipalloc")), PublicIp: aws.String(ip.String()), Domain: types.DomainTypeVpc,
			PublicIpv4Pool: aws.String("amazon"), NetworkBorderGroup: aws.String(s.Region),
			Tags: backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeElasticIp)),
		}
		return tx.Put(s.Row(kindAddress, *a.AllocationId, "", ""), a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AllocateAddressOutput{AllocationId: a.AllocationId, PublicIp: a.PublicIp, Domain: a.Domain,
		PublicIpv4Pool: a.PublicIpv4Pool, NetworkBorderGroup: a.NetworkBorderGroup}, nil
}

var addressFilter = filter[types.Address]{
	id:   func(a types.Address) string { return *a.AllocationId },
	tags: func(a types.Address) []types.Tag { return a.Tags },
	fields: map[string]func(types.Address) []string{
		"allocation-id":        func(a types.Address) []string { return str(a.AllocationId) },
		"association-id":       func(a types.Address) []string { return str(a.AssociationId) },
		"instance-id":          func(a types.Address) []string { return str(a.InstanceId) },
		"domain":               func(a types.Address) []string { return []string{string(a.Domain)} },
		"network-interface-id": func(a types.Address) []string { return str(a.NetworkInterfaceId) },
		"private-ip-address":   func(a types.Address) []string { return str(a.PrivateIpAddress) },
		"public-ip":            func(a types.Address) []string { return str(a.PublicIp) },
		"network-border-group": func(a types.Address) []string { return str(a.NetworkBorderGroup) },
	},
}

// DescribeAddresses lists Elastic IP addresses, by allocation id, public
// IP or filter.
func (b *Backend) DescribeAddresses(ctx context.Context, in *ec2api.DescribeAddressesInput) (*ec2api.DescribeAddressesOutput, error) {
	out, _, err := describe(ctx, b, stored[types.Address](kindAddress), addressFilter, in.AllocationIds, in.Filters, nil, aws.Int32(1000))
	if err != nil {
		return nil, err
	}
	for _, ip := range in.PublicIps {
		if !slices.ContainsFunc(out, func(a types.Address) bool { return aws.ToString(a.PublicIp) == ip }) {
			return nil, awsproto.ClientError("InvalidAddress.NotFound", "Address '%s' not found.", ip)
		}
	}
	if len(in.PublicIps) > 0 {
		out = slices.DeleteFunc(out, func(a types.Address) bool { return !slices.Contains(in.PublicIps, aws.ToString(a.PublicIp)) })
	}
	return &ec2api.DescribeAddressesOutput{Addresses: backend.OrEmpty(out)}, nil
}

// ReleaseAddress releases an Elastic IP address that nothing uses.
func (b *Backend) ReleaseAddress(ctx context.Context, in *ec2api.ReleaseAddressInput) (*ec2api.ReleaseAddressOutput, error) {
	id := aws.ToString(in.AllocationId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var a types.Address
		if err := get(tx, s, kindAddress, id, &a); err != nil {
			return err
		}
		if a.AssociationId != nil {
			return awsproto.ClientError("InvalidIPAddress.InUse", "Address %s is in use.", aws.ToString(a.PublicIp))
		}
		if err := tx.Delete(s.Key(kindAddressDomain, id)); err != nil {
			return err
		}
		return tx.Delete(s.Key(kindAddress, id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReleaseAddressOutput{}, nil
}

// An address's one attribute is its reverse DNS name (the PTR record of
// its public IP). berth keeps it as a record and serves no reverse DNS, so
// an update completes at once.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddressesAttribute.html

// addressAttribute is the attribute of address a: its PTR record, when set.
func addressAttribute(tx *sqlite.Tx, s backend.Scope, a types.Address) (types.AddressAttribute, error) {
	attr := types.AddressAttribute{AllocationId: a.AllocationId, PublicIp: a.PublicIp}
	var name string
	switch err := tx.Get(s.Key(kindAddressDomain, *a.AllocationId), &name); {
	case err == nil:
		attr.PtrRecord = aws.String(name)
	case !isNotFound(err):
		return attr, err
	}
	return attr, nil
}

// checkAddressAttribute accepts the one attribute addresses have.
func checkAddressAttribute(name types.AddressAttributeName) error {
	if name != types.AddressAttributeNameDomainName {
		return errInvalid("Value (%s) for parameter attribute is invalid. Valid values: %s", name, types.AddressAttributeNameDomainName)
	}
	return nil
}

// DescribeAddressesAttribute describes the domain names of addresses, all
// of the region's when no allocation id is given.
func (b *Backend) DescribeAddressesAttribute(ctx context.Context, in *ec2api.DescribeAddressesAttributeInput) (*ec2api.DescribeAddressesAttributeOutput, error) {
	if in.Attribute != "" {
		if err := checkAddressAttribute(in.Attribute); err != nil {
			return nil, err
		}
	}
	var out []types.AddressAttribute
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var addresses []types.Address
		if len(in.AllocationIds) == 0 {
			var err error
			if addresses, err = all[types.Address](tx, s, kindAddress, ""); err != nil {
				return err
			}
		}
		for _, id := range in.AllocationIds {
			var a types.Address
			if err := get(tx, s, kindAddress, id, &a); err != nil {
				return err
			}
			addresses = append(addresses, a)
		}
		for _, a := range addresses {
			attr, err := addressAttribute(tx, s, a)
			if err != nil {
				return err
			}
			out = append(out, attr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeAddressesAttributeOutput{Addresses: backend.OrEmpty(out)}, nil
}

// setAddressDomain sets (or, with "", removes) an address's domain name
// and returns its attribute.
func (b *Backend) setAddressDomain(ctx context.Context, id *string, name string) (types.AddressAttribute, error) {
	if id == nil {
		return types.AddressAttribute{}, errMissing("AllocationId")
	}
	var attr types.AddressAttribute
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var a types.Address
		if err := get(tx, s, kindAddress, *id, &a); err != nil {
			return err
		}
		err := tx.Delete(s.Key(kindAddressDomain, *id))
		if err == nil && name != "" {
			err = tx.Put(s.Row(kindAddressDomain, *id, "", ""), name)
		}
		if err != nil {
			return err
		}
		attr, err = addressAttribute(tx, s, a)
		return err
	})
	return attr, err
}

// ModifyAddressAttribute sets an address's domain name.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyAddressAttribute.html
func (b *Backend) ModifyAddressAttribute(ctx context.Context, in *ec2api.ModifyAddressAttributeInput) (*ec2api.ModifyAddressAttributeOutput, error) {
	name := strings.TrimSuffix(aws.ToString(in.DomainName), ".")
	if name == "" {
		return nil, errMissing("DomainName")
	}
	attr, err := b.setAddressDomain(ctx, in.AllocationId, name+".")
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyAddressAttributeOutput{Address: &attr}, nil
}

// ResetAddressAttribute removes an address's domain name.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ResetAddressAttribute.html
func (b *Backend) ResetAddressAttribute(ctx context.Context, in *ec2api.ResetAddressAttributeInput) (*ec2api.ResetAddressAttributeOutput, error) {
	if err := checkAddressAttribute(in.Attribute); err != nil {
		return nil, err
	}
	attr, err := b.setAddressDomain(ctx, in.AllocationId, "")
	if err != nil {
		return nil, err
	}
	return &ec2api.ResetAddressAttributeOutput{Address: &attr}, nil
}

// CreateNatGateway creates a NAT gateway in a subnet: public ones with an
// Elastic IP address, which it then holds.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNatGateway.html
func (b *Backend) CreateNatGateway(ctx context.Context, in *ec2api.CreateNatGatewayInput) (*ec2api.CreateNatGatewayOutput, error) {
	if in.SubnetId == nil {
		return nil, errMissing("SubnetId")
	}
	connectivity := in.ConnectivityType
	if connectivity == "" {
		connectivity = types.ConnectivityTypePublic
	}
	if connectivity == types.ConnectivityTypePublic && in.AllocationId == nil {
		return nil, errMissing("AllocationId")
	}
	var ng types.NatGateway
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sn, err := loadSubnet(tx, s, *in.SubnetId)
		if err != nil {
			return err
		}
		used, err := subnetUsers(tx, s, *sn.SubnetId)
		if err != nil {
			return err
		}
		private, err := freeAddress(sn, used)
		if err != nil {
			return err
		}
		now := b.env.Clock().UTC()
		ng = types.NatGateway{
			NatGatewayId: aws.String(b.id("nat")), SubnetId: sn.SubnetId, VpcId: sn.VpcId, State: types.NatGatewayStateAvailable,
			ConnectivityType: connectivity, CreateTime: &now, Tags: backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeNatgateway)),
		}
		addr := types.NatGatewayAddress{NetworkInterfaceId: aws.String(b.id("eni")), PrivateIp: aws.String(private.String()),
			IsPrimary: aws.Bool(true), Status: types.NatGatewayAddressStatusSucceeded}
		if in.AllocationId != nil {
			var a types.Address
			if err := get(tx, s, kindAddress, *in.AllocationId, &a); err != nil {
				return err
			}
			if a.AssociationId != nil {
				return awsproto.ClientError("Resource.AlreadyAssociated", "Elastic IP address [%s] is already associated", *in.AllocationId)
			}
			a.AssociationId, a.NetworkInterfaceId, a.PrivateIpAddress = aws.String(b.id("eipassoc")), addr.NetworkInterfaceId, addr.PrivateIp
			a.NetworkInterfaceOwnerId = aws.String(s.Account)
			if err := tx.Put(s.Row(kindAddress, *a.AllocationId, "", ""), a); err != nil {
				return err
			}
			addr.AllocationId, addr.PublicIp, addr.AssociationId = a.AllocationId, a.PublicIp, a.AssociationId
		}
		ng.NatGatewayAddresses = []types.NatGatewayAddress{addr}
		return tx.Put(s.Row(kindNatGateway, *ng.NatGatewayId, *ng.VpcId, ""), ng)
	})
	if err != nil {
		return nil, err
	}
	// It reports pending once, as AWS does at first; available from then on.
	created := ng
	created.State = types.NatGatewayStatePending
	return &ec2api.CreateNatGatewayOutput{NatGateway: &created, ClientToken: in.ClientToken}, nil
}

var natGatewayFilter = filter[types.NatGateway]{
	id:   func(n types.NatGateway) string { return *n.NatGatewayId },
	tags: func(n types.NatGateway) []types.Tag { return n.Tags },
	fields: map[string]func(types.NatGateway) []string{
		"nat-gateway-id": func(n types.NatGateway) []string { return str(n.NatGatewayId) },
		"state":          func(n types.NatGateway) []string { return []string{string(n.State)} },
		"subnet-id":      func(n types.NatGateway) []string { return str(n.SubnetId) },
		"vpc-id":         func(n types.NatGateway) []string { return str(n.VpcId) },
	},
}

// DescribeNatGateways lists NAT gateways, deleted ones included, as AWS
// shows them for a while.
func (b *Backend) DescribeNatGateways(ctx context.Context, in *ec2api.DescribeNatGatewaysInput) (*ec2api.DescribeNatGatewaysOutput, error) {
	out, next, err := describe(ctx, b, stored[types.NatGateway](kindNatGateway), natGatewayFilter,
		in.NatGatewayIds, in.Filter, in.NextToken, in.MaxResults)
	return &ec2api.DescribeNatGatewaysOutput{NatGateways: backend.OrEmpty(out), NextToken: next}, err
}

// DeleteNatGateway deletes a NAT gateway, releasing its Elastic IP address
// for other use; the gateway stays visible as deleted.
func (b *Backend) DeleteNatGateway(ctx context.Context, in *ec2api.DeleteNatGatewayInput) (*ec2api.DeleteNatGatewayOutput, error) {
	id := aws.ToString(in.NatGatewayId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var ng types.NatGateway
		if err := get(tx, s, kindNatGateway, id, &ng); err != nil {
			return err
		}
		if ng.State == types.NatGatewayStateDeleted {
			return nil
		}
		for _, addr := range ng.NatGatewayAddresses {
			var a types.Address
			if addr.AllocationId == nil {
				continue
			}
			if err := tx.Get(s.Key(kindAddress, *addr.AllocationId), &a); isNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			if err := unassociate(tx, s, &a); err != nil {
				return err
			}
		}
		now := b.env.Clock().UTC()
		ng.State, ng.DeleteTime = types.NatGatewayStateDeleted, &now
		return tx.Put(s.Row(kindNatGateway, id, *ng.VpcId, ""), ng)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNatGatewayOutput{NatGatewayId: in.NatGatewayId}, nil
}

// freeAddress is the first private address of a subnet not in used (the
// addresses its NAT gateways and instances hold), after the four AWS
// reserves at its start.
func freeAddress(sn types.Subnet, used []string) (netip.Addr, error) {
	block := netip.MustParsePrefix(*sn.CidrBlock)
	ip := block.Addr()
	for range 4 {
		ip = ip.Next()
	}
	for ; block.Contains(ip); ip = ip.Next() {
		if !slices.Contains(used, ip.String()) {
			return ip, nil
		}
	}
	return netip.Addr{}, awsproto.ClientError("InsufficientFreeAddressesInSubnet", "Insufficient free IP addresses in subnet %s.", *sn.SubnetId)
}

// subnetUsers are the private addresses of the NAT gateways and
// instances, not deleted or terminated, in a subnet.
func subnetUsers(tx *sqlite.Tx, s backend.Scope, subnet string) ([]string, error) {
	gateways, err := all[types.NatGateway](tx, s, kindNatGateway, "")
	if err != nil {
		return nil, err
	}
	var used []string
	for _, ng := range gateways {
		if aws.ToString(ng.SubnetId) == subnet && ng.State != types.NatGatewayStateDeleted {
			for _, a := range ng.NatGatewayAddresses {
				used = append(used, aws.ToString(a.PrivateIp))
			}
		}
	}
	instances, err := all[instance](tx, s, kindInstance, "")
	if err != nil {
		return nil, err
	}
	for _, i := range instances {
		if aws.ToString(i.Instance.SubnetId) == subnet && i.Instance.State.Name != types.InstanceStateNameTerminated {
			used = append(used, aws.ToString(i.Instance.PrivateIpAddress))
		}
	}
	return used, nil
}

// runningInstances counts the instances of s that are not terminated.
func runningInstances(tx *sqlite.Tx, s backend.Scope) (int, error) {
	instances, err := all[instance](tx, s, kindInstance, "")
	n := 0
	for _, i := range instances {
		if i.Instance.State.Name != types.InstanceStateNameTerminated {
			n++
		}
	}
	return n, err
}
