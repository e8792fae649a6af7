package integration

// Faults found by applying the terraform-aws-modules examples (vpc, alb,
// ecs) against berth, each with the behaviour AWS documents.

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
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
