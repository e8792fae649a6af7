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

// Internet gateways, route tables and network ACLs.
// https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html

// attachedTo is the VPC an internet gateway is attached to, or "".
func attachedTo(g types.InternetGateway) string {
	if len(g.Attachments) == 0 {
		return ""
	}
	return aws.ToString(g.Attachments[0].VpcId)
}

// mapsPublicAddresses reports whether a VPC has public addresses mapped
// through its internet gateway: an instance's (its own or an Elastic IP
// address) or a public NAT gateway's. While it has, the gateway is not
// detached, nor an Elastic IP address associated without one.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html
func mapsPublicAddresses(tx *sqlite.Tx, s backend.Scope, vpcID string) (bool, error) {
	instances, err := all[instance](tx, s, kindInstance, "")
	if err != nil {
		return false, err
	}
	for _, i := range instances {
		if aws.ToString(i.Instance.VpcId) == vpcID && i.Instance.PublicIpAddress != nil && i.Instance.State.Name != types.InstanceStateNameTerminated {
			return true, nil
		}
	}
	gateways, err := all[types.NatGateway](tx, s, kindNatGateway, vpcID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(gateways, func(ng types.NatGateway) bool {
		return ng.State != types.NatGatewayStateDeleted && ng.ConnectivityType != types.ConnectivityTypePrivate
	}), nil
}

// hasInternetGateway reports whether an internet gateway is attached to
// a VPC.
func hasInternetGateway(tx *sqlite.Tx, s backend.Scope, vpcID string) (bool, error) {
	gateways, err := all[types.InternetGateway](tx, s, kindInternetGateway, "")
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(gateways, func(g types.InternetGateway) bool { return attachedTo(g) == vpcID }), nil
}

// CreateInternetGateway creates a detached internet gateway.
func (b *Backend) CreateInternetGateway(ctx context.Context, in *ec2api.CreateInternetGatewayInput) (*ec2api.CreateInternetGatewayOutput, error) {
	var g types.InternetGateway
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		g = types.InternetGateway{InternetGatewayId: aws.String(b.id("igw")), OwnerId: aws.String(s.Account),
			Attachments: []types.InternetGatewayAttachment{}, Tags: backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeInternetGateway))}
		return tx.Put(s.Row(kindInternetGateway, *g.InternetGatewayId, "", ""), g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateInternetGatewayOutput{InternetGateway: &g}, nil
}

// changeGateway changes a stored internet gateway.
func (b *Backend) changeGateway(ctx context.Context, id string, change func(tx *sqlite.Tx, s backend.Scope, g *types.InternetGateway) error) error {
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var g types.InternetGateway
		if err := get(tx, s, kindInternetGateway, id, &g); err != nil {
			return err
		}
		if err := change(tx, s, &g); err != nil {
			return err
		}
		return tx.Put(s.Row(kindInternetGateway, id, "", ""), g)
	})
}

// AttachInternetGateway attaches a gateway to a VPC that has none.
func (b *Backend) AttachInternetGateway(ctx context.Context, in *ec2api.AttachInternetGatewayInput) (*ec2api.AttachInternetGatewayOutput, error) {
	id, vpcID := aws.ToString(in.InternetGatewayId), aws.ToString(in.VpcId)
	err := b.changeGateway(ctx, id, func(tx *sqlite.Tx, s backend.Scope, g *types.InternetGateway) error {
		var v vpc
		if err := get(tx, s, kindVpc, vpcID, &v); err != nil {
			return err
		}
		if attached := attachedTo(*g); attached != "" {
			return awsproto.ClientError("Resource.AlreadyAssociated", "resource %s is already attached to network %s", id, attached)
		}
		if has, err := hasInternetGateway(tx, s, vpcID); err != nil || has {
			if err != nil {
				return err
			}
			return awsproto.ClientError("Resource.AlreadyAssociated", "Network %s already has an internet gateway attached", vpcID)
		}
		g.Attachments = []types.InternetGatewayAttachment{{VpcId: aws.String(vpcID), State: types.AttachmentStatus("available")}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AttachInternetGatewayOutput{}, nil
}

// DetachInternetGateway detaches a gateway from its VPC.
func (b *Backend) DetachInternetGateway(ctx context.Context, in *ec2api.DetachInternetGatewayInput) (*ec2api.DetachInternetGatewayOutput, error) {
	id, vpcID := aws.ToString(in.InternetGatewayId), aws.ToString(in.VpcId)
	err := b.changeGateway(ctx, id, func(tx *sqlite.Tx, s backend.Scope, g *types.InternetGateway) error {
		if attachedTo(*g) != vpcID {
			return awsproto.ClientError("Gateway.NotAttached", "resource %s is not attached to network %s", id, vpcID)
		}
		if mapped, err := mapsPublicAddresses(tx, s, vpcID); err != nil || mapped {
			if err != nil {
				return err
			}
			return errDependency("Network %s has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.", vpcID)
		}
		g.Attachments = []types.InternetGatewayAttachment{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DetachInternetGatewayOutput{}, nil
}

// DeleteInternetGateway deletes a detached gateway.
func (b *Backend) DeleteInternetGateway(ctx context.Context, in *ec2api.DeleteInternetGatewayInput) (*ec2api.DeleteInternetGatewayOutput, error) {
	id := aws.ToString(in.InternetGatewayId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var g types.InternetGateway
		if err := get(tx, s, kindInternetGateway, id, &g); err != nil {
			return err
		}
		if attachedTo(g) != "" {
			return errDependency("The internetGateway '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.Delete(s.Key(kindInternetGateway, id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteInternetGatewayOutput{}, nil
}

var gatewayFilter = filter[types.InternetGateway]{
	id:   func(g types.InternetGateway) string { return *g.InternetGatewayId },
	tags: func(g types.InternetGateway) []types.Tag { return g.Tags },
	fields: map[string]func(types.InternetGateway) []string{
		"internet-gateway-id": func(g types.InternetGateway) []string { return str(g.InternetGatewayId) },
		"owner-id":            func(g types.InternetGateway) []string { return str(g.OwnerId) },
		"attachment.vpc-id":   func(g types.InternetGateway) []string { return []string{attachedTo(g)} },
		"attachment.state": func(g types.InternetGateway) []string {
			if attachedTo(g) == "" {
				return nil
			}
			return []string{"available"}
		},
	},
}

// DescribeInternetGateways lists gateways by id and filters.
func (b *Backend) DescribeInternetGateways(ctx context.Context, in *ec2api.DescribeInternetGatewaysInput) (*ec2api.DescribeInternetGatewaysOutput, error) {
	out, next, err := describe(ctx, b, stored[types.InternetGateway](kindInternetGateway), gatewayFilter,
		in.InternetGatewayIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeInternetGatewaysOutput{InternetGateways: backend.OrEmpty(out), NextToken: next}, err
}

func (b *Backend) newRouteTable(s backend.Scope, vpcID string, routes ...types.Route) types.RouteTable {
	return types.RouteTable{RouteTableId: aws.String(b.id("rtb")), VpcId: aws.String(vpcID), OwnerId: aws.String(s.Account),
		Routes: routes, Associations: []types.RouteTableAssociation{}, PropagatingVgws: []types.PropagatingVgw{}, Tags: []types.Tag{}}
}

// CreateRouteTable creates a route table in a VPC with its local route.
func (b *Backend) CreateRouteTable(ctx context.Context, in *ec2api.CreateRouteTableInput) (*ec2api.CreateRouteTableOutput, error) {
	var rt types.RouteTable
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var v vpc
		if err := get(tx, s, kindVpc, aws.ToString(in.VpcId), &v); err != nil {
			return err
		}
		// A local route for each of the VPC's blocks.
		var local []types.Route
		for _, block := range vpcBlocks(v) {
			local = append(local, types.Route{DestinationCidrBlock: aws.String(block.String()), GatewayId: aws.String("local"),
				Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive})
		}
		rt = b.newRouteTable(s, *in.VpcId, local...)
		rt.Tags = backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeRouteTable))
		return tx.Put(s.Row(kindRouteTable, *rt.RouteTableId, *in.VpcId, ""), rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteTableOutput{RouteTable: &rt}, nil
}

// changeRouteTable changes a stored route table.
func (b *Backend) changeRouteTable(ctx context.Context, id string, change func(tx *sqlite.Tx, s backend.Scope, rt *types.RouteTable) error) error {
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var rt types.RouteTable
		if err := get(tx, s, kindRouteTable, id, &rt); err != nil {
			return err
		}
		if err := change(tx, s, &rt); err != nil {
			return err
		}
		return tx.Put(s.Row(kindRouteTable, id, *rt.VpcId, ""), rt)
	})
}

// target checks and returns a route's target as a Route with no
// destination: an internet gateway, or another target recorded as given.
func target(tx *sqlite.Tx, s backend.Scope, gateway, nat, eni, peering *string) (types.Route, error) {
	r := types.Route{Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive, GatewayId: gateway,
		NatGatewayId: nat, NetworkInterfaceId: eni, VpcPeeringConnectionId: peering}
	if gateway != nil {
		var g types.InternetGateway
		if err := tx.Get(s.Key(kindInternetGateway, *gateway), &g); err != nil {
			if isNotFound(err) {
				return r, awsproto.ClientError("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", *gateway)
			}
			return r, err
		}
	}
	if nat != nil {
		var ng types.NatGateway
		if err := get(tx, s, kindNatGateway, *nat, &ng); err != nil {
			return r, err
		}
	}
	if gateway == nil && nat == nil && eni == nil && peering == nil {
		return r, errMissing("target")
	}
	return r, nil
}

func routeIndex(rt types.RouteTable, destination string) int {
	return slices.IndexFunc(rt.Routes, func(r types.Route) bool { return aws.ToString(r.DestinationCidrBlock) == destination })
}

func destination(v *string) (string, error) {
	p, err := netip.ParsePrefix(aws.ToString(v))
	if err != nil {
		return "", errInvalid("Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", aws.ToString(v))
	}
	return p.Masked().String(), nil
}

// CreateRoute adds a route to a route table.
func (b *Backend) CreateRoute(ctx context.Context, in *ec2api.CreateRouteInput) (*ec2api.CreateRouteOutput, error) {
	dest, err := destination(in.DestinationCidrBlock)
	if err != nil {
		return nil, err
	}
	err = b.changeRouteTable(ctx, aws.ToString(in.RouteTableId), func(tx *sqlite.Tx, s backend.Scope, rt *types.RouteTable) error {
		if routeIndex(*rt, dest) >= 0 {
			return awsproto.ClientError("RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
		r, err := target(tx, s, in.GatewayId, in.NatGatewayId, in.NetworkInterfaceId, in.VpcPeeringConnectionId)
		r.DestinationCidrBlock = aws.String(dest)
		rt.Routes = append(rt.Routes, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteOutput{Return: aws.Bool(true)}, nil
}

// ReplaceRoute changes the target of a route.
func (b *Backend) ReplaceRoute(ctx context.Context, in *ec2api.ReplaceRouteInput) (*ec2api.ReplaceRouteOutput, error) {
	dest, err := destination(in.DestinationCidrBlock)
	if err != nil {
		return nil, err
	}
	err = b.changeRouteTable(ctx, aws.ToString(in.RouteTableId), func(tx *sqlite.Tx, s backend.Scope, rt *types.RouteTable) error {
		i := routeIndex(*rt, dest)
		if i < 0 {
			return awsproto.ClientError("InvalidRoute.NotFound", "There is no route defined for '%s' in the route table.", dest)
		}
		r, err := target(tx, s, in.GatewayId, in.NatGatewayId, in.NetworkInterfaceId, in.VpcPeeringConnectionId)
		r.DestinationCidrBlock = aws.String(dest)
		rt.Routes[i] = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceRouteOutput{}, nil
}

// DeleteRoute removes a route; the local route stays.
func (b *Backend) DeleteRoute(ctx context.Context, in *ec2api.DeleteRouteInput) (*ec2api.DeleteRouteOutput, error) {
	dest, err := destination(in.DestinationCidrBlock)
	if err != nil {
		return nil, err
	}
	err = b.changeRouteTable(ctx, aws.ToString(in.RouteTableId), func(_ *sqlite.Tx, _ backend.Scope, rt *types.RouteTable) error {
		i := routeIndex(*rt, dest)
		switch {
		case i < 0:
			return awsproto.ClientError("InvalidRoute.NotFound", "no route with destination-cidr-block %s in route table %s", dest, *rt.RouteTableId)
		case aws.ToString(rt.Routes[i].GatewayId) == "local":
			return errInvalid("cannot remove local route %s in route table %s", dest, *rt.RouteTableId)
		}
		rt.Routes = slices.Delete(rt.Routes, i, i+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteRouteOutput{}, nil
}

// AssociateRouteTable associates a route table with a subnet that has no
// explicit association.
func (b *Backend) AssociateRouteTable(ctx context.Context, in *ec2api.AssociateRouteTableInput) (*ec2api.AssociateRouteTableOutput, error) {
	if in.SubnetId == nil && in.GatewayId == nil {
		return nil, errMissing("SubnetId")
	}
	assoc := types.RouteTableAssociation{RouteTableAssociationId: aws.String(b.id("rtbassoc")), Main: aws.Bool(false),
		SubnetId: in.SubnetId, GatewayId: in.GatewayId, RouteTableId: in.RouteTableId,
		AssociationState: &types.RouteTableAssociationState{State: types.RouteTableAssociationStateCodeAssociated}}
	err := b.changeRouteTable(ctx, aws.ToString(in.RouteTableId), func(tx *sqlite.Tx, s backend.Scope, rt *types.RouteTable) error {
		if in.SubnetId != nil {
			sn, err := loadSubnet(tx, s, *in.SubnetId)
			if err != nil {
				return err
			}
			if *sn.VpcId != *rt.VpcId {
				return errInvalid("Route table %s and subnet %s belong to different networks", *rt.RouteTableId, *sn.SubnetId)
			}
		}
		tables, err := all[types.RouteTable](tx, s, kindRouteTable, *rt.VpcId)
		if err != nil {
			return err
		}
		for _, other := range tables {
			for _, a := range other.Associations {
				if in.SubnetId != nil && aws.ToString(a.SubnetId) == *in.SubnetId || in.GatewayId != nil && aws.ToString(a.GatewayId) == *in.GatewayId {
					return awsproto.ClientError("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", *rt.RouteTableId)
				}
			}
		}
		rt.Associations = append(rt.Associations, assoc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateRouteTableOutput{AssociationId: assoc.RouteTableAssociationId, AssociationState: assoc.AssociationState}, nil
}

// findAssociation finds the route table holding an association.
func findAssociation(tx *sqlite.Tx, s backend.Scope, id string) (types.RouteTable, int, error) {
	tables, err := all[types.RouteTable](tx, s, kindRouteTable, "")
	if err != nil {
		return types.RouteTable{}, 0, err
	}
	for _, rt := range tables {
		if i := slices.IndexFunc(rt.Associations, func(a types.RouteTableAssociation) bool { return *a.RouteTableAssociationId == id }); i >= 0 {
			return rt, i, nil
		}
	}
	return types.RouteTable{}, 0, notFound(id)
}

// DisassociateRouteTable removes an explicit association.
func (b *Backend) DisassociateRouteTable(ctx context.Context, in *ec2api.DisassociateRouteTableInput) (*ec2api.DisassociateRouteTableOutput, error) {
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		rt, i, err := findAssociation(tx, s, aws.ToString(in.AssociationId))
		if err != nil {
			return err
		}
		if aws.ToBool(rt.Associations[i].Main) {
			return errInvalid("cannot disassociate the main route table association %s", *in.AssociationId)
		}
		rt.Associations = slices.Delete(rt.Associations, i, i+1)
		return tx.Put(s.Row(kindRouteTable, *rt.RouteTableId, *rt.VpcId, ""), rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateRouteTableOutput{}, nil
}

// ReplaceRouteTableAssociation moves an association, the main one
// included, to another route table of the VPC.
func (b *Backend) ReplaceRouteTableAssociation(ctx context.Context, in *ec2api.ReplaceRouteTableAssociationInput) (*ec2api.ReplaceRouteTableAssociationOutput, error) {
	newID := b.id("rtbassoc")
	var state *types.RouteTableAssociationState
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		from, i, err := findAssociation(tx, s, aws.ToString(in.AssociationId))
		if err != nil {
			return err
		}
		var to types.RouteTable
		if err := get(tx, s, kindRouteTable, aws.ToString(in.RouteTableId), &to); err != nil {
			return err
		}
		a := from.Associations[i]
		from.Associations = slices.Delete(from.Associations, i, i+1)
		if err := tx.Put(s.Row(kindRouteTable, *from.RouteTableId, *from.VpcId, ""), from); err != nil {
			return err
		}
		if *to.RouteTableId == *from.RouteTableId {
			to = from
		}
		a.RouteTableAssociationId, a.RouteTableId, state = aws.String(newID), to.RouteTableId, a.AssociationState
		to.Associations = append(to.Associations, a)
		if aws.ToBool(a.Main) {
			var v vpc
			if err := get(tx, s, kindVpc, *to.VpcId, &v); err != nil {
				return err
			}
			v.MainRouteTable = *to.RouteTableId
			if err := tx.Put(s.Row(kindVpc, *v.Vpc.VpcId, "", ""), v); err != nil {
				return err
			}
		}
		return tx.Put(s.Row(kindRouteTable, *to.RouteTableId, *to.VpcId, ""), to)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceRouteTableAssociationOutput{NewAssociationId: aws.String(newID), AssociationState: state}, nil
}

// DeleteRouteTable deletes a route table with no associations.
func (b *Backend) DeleteRouteTable(ctx context.Context, in *ec2api.DeleteRouteTableInput) (*ec2api.DeleteRouteTableOutput, error) {
	id := aws.ToString(in.RouteTableId)
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var rt types.RouteTable
		if err := get(tx, s, kindRouteTable, id, &rt); err != nil {
			return err
		}
		if len(rt.Associations) > 0 {
			return errDependency("The routeTable '%s' has dependencies and cannot be deleted.", id)
		}
		return tx.Delete(s.Key(kindRouteTable, id))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteRouteTableOutput{}, nil
}

func associations(rt types.RouteTable, value func(types.RouteTableAssociation) *string) []string {
	var out []string
	for _, a := range rt.Associations {
		if v := value(a); v != nil {
			out = append(out, *v)
		}
	}
	return out
}

var routeTableFilter = filter[types.RouteTable]{
	id:   func(rt types.RouteTable) string { return *rt.RouteTableId },
	tags: func(rt types.RouteTable) []types.Tag { return rt.Tags },
	fields: map[string]func(types.RouteTable) []string{
		"route-table-id": func(rt types.RouteTable) []string { return str(rt.RouteTableId) },
		"vpc-id":         func(rt types.RouteTable) []string { return str(rt.VpcId) },
		"owner-id":       func(rt types.RouteTable) []string { return str(rt.OwnerId) },
		"association.main": func(rt types.RouteTable) []string {
			return associations(rt, func(a types.RouteTableAssociation) *string {
				return aws.String(boolean(a.Main)[0])
			})
		},
		"association.subnet-id": func(rt types.RouteTable) []string {
			return associations(rt, func(a types.RouteTableAssociation) *string { return a.SubnetId })
		},
		"association.gateway-id": func(rt types.RouteTable) []string {
			return associations(rt, func(a types.RouteTableAssociation) *string { return a.GatewayId })
		},
		"association.route-table-association-id": func(rt types.RouteTable) []string {
			return associations(rt, func(a types.RouteTableAssociation) *string { return a.RouteTableAssociationId })
		},
		"association.route-table-id": func(rt types.RouteTable) []string {
			return associations(rt, func(a types.RouteTableAssociation) *string { return a.RouteTableId })
		},
		"route.destination-cidr-block": func(rt types.RouteTable) []string {
			return each(rt.Routes, func(x types.Route) *string { return x.DestinationCidrBlock })
		},
		"route.gateway-id": func(rt types.RouteTable) []string {
			return each(rt.Routes, func(x types.Route) *string { return x.GatewayId })
		},
		"route.nat-gateway-id": func(rt types.RouteTable) []string {
			return each(rt.Routes, func(x types.Route) *string { return x.NatGatewayId })
		},
	},
}

// DescribeRouteTables lists route tables by id and filters.
func (b *Backend) DescribeRouteTables(ctx context.Context, in *ec2api.DescribeRouteTablesInput) (*ec2api.DescribeRouteTablesOutput, error) {
	out, next, err := describe(ctx, b, stored[types.RouteTable](kindRouteTable), routeTableFilter,
		in.RouteTableIds, in.Filters, in.NextToken, in.MaxResults)
	return &ec2api.DescribeRouteTablesOutput{RouteTables: backend.OrEmpty(out), NextToken: next}, err
}
