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

// An Elastic IP address associated with an instance is its public
// address in place of the one it got at launch; disassociated, the
// instance gets a new one if it got one at launch.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html

// addressOf is the Elastic IP address associated with an instance, if
// one is.
func addressOf(tx *sqlite.Tx, s backend.Scope, instanceID string) (*types.Address, error) {
	addresses, err := all[types.Address](tx, s, kindAddress, "")
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(addresses, func(a types.Address) bool { return aws.ToString(a.InstanceId) == instanceID })
	if i < 0 {
		return nil, nil
	}
	return &addresses[i], nil
}

// unassociate ends an address's association, whatever holds it, and
// stores it.
func unassociate(tx *sqlite.Tx, s backend.Scope, a *types.Address) error {
	a.AssociationId, a.InstanceId, a.NetworkInterfaceId, a.PrivateIpAddress, a.NetworkInterfaceOwnerId = nil, nil, nil, nil, nil
	return tx.Put(s.Row(kindAddress, *a.AllocationId, "", ""), *a)
}

// detachAddress ends an address's association with an instance: the
// instance, unless terminated, gets a new public address when it got one
// at launch and is running.
func detachAddress(tx *sqlite.Tx, s backend.Scope, a *types.Address) error {
	id := aws.ToString(a.InstanceId)
	if err := unassociate(tx, s, a); err != nil || id == "" {
		return err
	}
	var i instance
	if err := get(tx, s, kindInstance, id, &i); err != nil {
		return err
	}
	if i.Instance.State.Name == types.InstanceStateNameTerminated {
		return nil
	}
	addr := netip.Addr{}
	if i.PublicOnLaunch && i.Instance.State.Name == types.InstanceStateNameRunning {
		var err error
		if addr, err = freePublicAddress(tx, s); err != nil {
			return err
		}
	}
	setPublicAddress(&i.Instance, s, addr)
	return putInstance(tx, s, i)
}

// AssociateAddress associates an Elastic IP address with an instance (or
// its primary network interface). An address already associated with
// another instance moves to this one ("reassociation is automatic")
// unless AllowReassociation is false; the address the instance held
// before is disassociated and stays allocated.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateAddress.html
func (b *Backend) AssociateAddress(ctx context.Context, in *ec2api.AssociateAddressInput) (*ec2api.AssociateAddressOutput, error) {
	if in.AllocationId == nil && in.PublicIp == nil {
		return nil, errMissing("AllocationId")
	}
	if in.InstanceId == nil && in.NetworkInterfaceId == nil {
		return nil, errMissing("InstanceId")
	}
	var association string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		addresses, err := all[types.Address](tx, s, kindAddress, "")
		if err != nil {
			return err
		}
		n := slices.IndexFunc(addresses, func(a types.Address) bool {
			return in.AllocationId != nil && *a.AllocationId == *in.AllocationId || in.AllocationId == nil && *a.PublicIp == *in.PublicIp
		})
		if n < 0 {
			if in.AllocationId != nil {
				return notFound(*in.AllocationId)
			}
			return awsproto.ClientError("InvalidAddress.NotFound", "Address '%s' not found.", *in.PublicIp)
		}
		a := addresses[n]
		instances, err := all[instance](tx, s, kindInstance, "")
		if err != nil {
			return err
		}
		k := slices.IndexFunc(instances, func(i instance) bool {
			if in.InstanceId != nil {
				return *i.Instance.InstanceId == *in.InstanceId
			}
			return len(i.Instance.NetworkInterfaces) > 0 && *i.Instance.NetworkInterfaces[0].NetworkInterfaceId == *in.NetworkInterfaceId
		})
		if k < 0 {
			if in.InstanceId != nil {
				return notFound(*in.InstanceId)
			}
			return notFound(*in.NetworkInterfaceId)
		}
		i := instances[k]
		switch {
		case i.Instance.State.Name != types.InstanceStateNameRunning && i.Instance.State.Name != types.InstanceStateNameStopped:
			return awsproto.ClientError("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", *i.Instance.InstanceId)
		case aws.ToString(a.InstanceId) == *i.Instance.InstanceId:
			association = *a.AssociationId
			return nil
		case a.AssociationId != nil && a.InstanceId == nil:
			return awsproto.ClientError("Resource.AlreadyAssociated", "Elastic IP address [%s] is in use by a NAT gateway", *a.AllocationId)
		case a.AssociationId != nil && in.AllowReassociation != nil && !*in.AllowReassociation:
			return awsproto.ClientError("Resource.AlreadyAssociated", "Elastic IP address [%s] is already associated", *a.AllocationId)
		}
		if ok, err := hasInternetGateway(tx, s, aws.ToString(i.Instance.VpcId)); err != nil || !ok {
			if err != nil {
				return err
			}
			return awsproto.ClientError("Gateway.NotAttached", "Network %s is not attached to any internet gateway", aws.ToString(i.Instance.VpcId))
		}
		if a.AssociationId != nil {
			if err := detachAddress(tx, s, &a); err != nil {
				return err
			}
			if err := get(tx, s, kindInstance, *i.Instance.InstanceId, &i); err != nil {
				return err
			}
		}
		if old, err := addressOf(tx, s, *i.Instance.InstanceId); err != nil {
			return err
		} else if old != nil {
			if err := unassociate(tx, s, old); err != nil {
				return err
			}
		}
		setPublicAddress(&i.Instance, s, netip.MustParseAddr(*a.PublicIp))
		nic := &i.Instance.NetworkInterfaces[0]
		nic.Association.IpOwnerId = aws.String(s.Account)
		a.AssociationId, a.InstanceId, a.NetworkInterfaceId = aws.String(b.id("eipassoc")), i.Instance.InstanceId, nic.NetworkInterfaceId
		a.PrivateIpAddress, a.NetworkInterfaceOwnerId = nic.PrivateIpAddress, aws.String(s.Account)
		if err := tx.Put(s.Row(kindAddress, *a.AllocationId, "", ""), a); err != nil {
			return err
		}
		association = *a.AssociationId
		return putInstance(tx, s, i)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateAddressOutput{AssociationId: aws.String(association)}, nil
}

// DisassociateAddress ends an Elastic IP address's association with an
// instance; an association id that names none is
// InvalidAssociationID.NotFound, which the provider relies on when the
// association went with the NAT gateway or instance that held it. The
// address of a NAT gateway stays with it until the gateway is deleted.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateAddress.html
func (b *Backend) DisassociateAddress(ctx context.Context, in *ec2api.DisassociateAddressInput) (*ec2api.DisassociateAddressOutput, error) {
	if in.AssociationId == nil && in.PublicIp == nil {
		return nil, errMissing("AssociationId")
	}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		addresses, err := all[types.Address](tx, s, kindAddress, "")
		if err != nil {
			return err
		}
		n := slices.IndexFunc(addresses, func(a types.Address) bool {
			if in.AssociationId != nil {
				return aws.ToString(a.AssociationId) == *in.AssociationId
			}
			return *a.PublicIp == *in.PublicIp
		})
		switch {
		case n < 0 && in.AssociationId != nil:
			return awsproto.ClientError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", *in.AssociationId)
		case n < 0:
			return awsproto.ClientError("InvalidAddress.NotFound", "Address '%s' not found.", *in.PublicIp)
		case addresses[n].AssociationId == nil:
			return nil
		case addresses[n].InstanceId == nil:
			// The NAT gateway's network interface is AWS's, not the
			// caller's to change.
			return awsproto.ClientError("AuthFailure", "You do not have permission to access the specified resource.")
		}
		return detachAddress(tx, s, &addresses[n])
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateAddressOutput{}, nil
}

// GetInstanceUefiData returns an instance's UEFI variable store: empty,
// for berth's instances keep none.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceUefiData.html
func (b *Backend) GetInstanceUefiData(ctx context.Context, in *ec2api.GetInstanceUefiDataInput) (*ec2api.GetInstanceUefiDataOutput, error) {
	id := aws.ToString(in.InstanceId)
	if !instanceID.MatchString(id) {
		return nil, awsproto.ClientError("InvalidInstanceID.Malformed", "Invalid id: \"%s\" (expecting \"i-...\")", id)
	}
	if _, err := b.loadInstance(ctx, in.InstanceId); err != nil {
		return nil, err
	}
	return &ec2api.GetInstanceUefiDataOutput{InstanceId: in.InstanceId, UefiData: aws.String("")}, nil
}
