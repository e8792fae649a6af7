package ec2

import (
	"context"
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

// Instances are records: an instance is "running" at once and runs
// nothing. They give EC2-launch-type container instances a real instance
// id to register with; their tasks run on the local Docker Engine.

// instance is a stored instance with the reservation it was launched in.
type instance struct {
	Instance      types.Instance
	ReservationId string
}

// maxLaunch bounds the instances one RunInstances call launches.
const maxLaunch = 20

// Instance states with their codes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
var (
	statePending      = &types.InstanceState{Code: aws.Int32(0), Name: types.InstanceStateNamePending}
	stateRunning      = &types.InstanceState{Code: aws.Int32(16), Name: types.InstanceStateNameRunning}
	stateShuttingDown = &types.InstanceState{Code: aws.Int32(32), Name: types.InstanceStateNameShuttingDown}
	stateTerminated   = &types.InstanceState{Code: aws.Int32(48), Name: types.InstanceStateNameTerminated}
)

// RunInstances launches instances in a subnet (by default the default
// VPC's first), with their security groups (by default the VPC's
// default group).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
func (b *Backend) RunInstances(ctx context.Context, in *ec2api.RunInstancesInput) (*ec2api.RunInstancesOutput, error) {
	if in.ImageId == nil {
		return nil, errMissing("ImageId")
	}
	low, high := aws.ToInt32(in.MinCount), aws.ToInt32(in.MaxCount)
	if low < 1 || high < low {
		return nil, errInvalid("Invalid value for MinCount (%d) and MaxCount (%d): both at least 1, MinCount at most MaxCount.", low, high)
	}
	if low > maxLaunch {
		return nil, awsproto.ClientError("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of %d allows.", low, maxLaunch)
	}
	instanceType := in.InstanceType
	if instanceType == "" {
		instanceType = types.InstanceTypeM1Small
	}
	out := &ec2api.RunInstancesOutput{ReservationId: aws.String(b.id("r")), Groups: []types.GroupIdentifier{}}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		sn, err := launchSubnet(tx, s, aws.ToString(in.SubnetId), in.Placement)
		if err != nil {
			return err
		}
		groups, err := launchGroups(tx, s, *sn.VpcId, in.SecurityGroupIds, in.SecurityGroups)
		if err != nil {
			return err
		}
		used, err := subnetUsers(tx, s, *sn.SubnetId)
		if err != nil {
			return err
		}
		out.OwnerId = aws.String(s.Account)
		now := b.env.Clock().UTC()
		for i := range min(high, maxLaunch) {
			ip, err := freeAddress(sn, used)
			if err != nil {
				return err
			}
			used = append(used, ip.String())
			private := "ip-" + strings.ReplaceAll(ip.String(), ".", "-") + "." + privateDomain(s.Region)
			inst := types.Instance{
				InstanceId: aws.String(b.id("i")), ImageId: in.ImageId, InstanceType: instanceType, State: stateRunning,
				AmiLaunchIndex: aws.Int32(i), LaunchTime: &now, KeyName: in.KeyName, SubnetId: sn.SubnetId, VpcId: sn.VpcId,
				PrivateIpAddress: aws.String(ip.String()), PrivateDnsName: aws.String(private), PublicDnsName: aws.String(""),
				Placement:      &types.Placement{AvailabilityZone: sn.AvailabilityZone, Tenancy: types.TenancyDefault, GroupName: aws.String("")},
				SecurityGroups: groups, Architecture: types.ArchitectureValuesX8664, RootDeviceType: types.DeviceTypeEbs,
				RootDeviceName: aws.String("/dev/xvda"), BlockDeviceMappings: []types.InstanceBlockDeviceMapping{},
				Hypervisor: types.HypervisorTypeXen, VirtualizationType: types.VirtualizationTypeHvm,
				Monitoring: &types.Monitoring{State: types.MonitoringStateDisabled}, EbsOptimized: aws.Bool(false),
				EnaSupport: aws.Bool(true), SourceDestCheck: aws.Bool(true), PlatformDetails: aws.String("Linux/UNIX"),
				UsageOperation: aws.String("RunInstances"), ClientToken: in.ClientToken, ProductCodes: []types.ProductCode{},
				NetworkInterfaces: []types.InstanceNetworkInterface{},
				MetadataOptions: &types.InstanceMetadataOptionsResponse{HttpTokens: types.HttpTokensStateOptional, HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
					HttpPutResponseHopLimit: aws.Int32(1), State: types.InstanceMetadataOptionsStateApplied},
				Tags: backend.OrEmpty(tagsFor(in.TagSpecifications, types.ResourceTypeInstance)),
			}
			if p := in.IamInstanceProfile; p != nil {
				profile := aws.ToString(p.Arn)
				if profile == "" {
					profile = "arn:aws:iam::" + s.Account + ":instance-profile/" + aws.ToString(p.Name)
				}
				inst.IamInstanceProfile = &types.IamInstanceProfile{Arn: aws.String(profile), Id: aws.String("AIPA" + strings.ToUpper(b.env.IDs.Hex(17)))}
			}
			if err := tx.Put(s.Row(kindInstance, *inst.InstanceId, *sn.VpcId, ""), instance{Instance: inst, ReservationId: *out.ReservationId}); err != nil {
				return err
			}
			inst.State = statePending // as RunInstances reports it; running from then on
			out.Instances = append(out.Instances, inst)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// privateDomain is the domain of private DNS names in a region.
func privateDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// launchSubnet is the subnet named, or the default VPC's subnet in the
// placement's zone (the first when none is given).
func launchSubnet(tx *sqlite.Tx, s backend.Scope, id string, placement *types.Placement) (types.Subnet, error) {
	if id != "" {
		return loadSubnet(tx, s, id)
	}
	vpcID, err := vpcOrDefault(tx, s, "")
	if err != nil {
		return types.Subnet{}, awsproto.ClientError("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
	}
	subnets, err := all[types.Subnet](tx, s, kindSubnet, vpcID)
	if err != nil {
		return types.Subnet{}, err
	}
	slices.SortFunc(subnets, func(a, b types.Subnet) int { return strings.Compare(*a.AvailabilityZone, *b.AvailabilityZone) })
	for _, sn := range subnets {
		if aws.ToBool(sn.DefaultForAz) && (placement == nil || placement.AvailabilityZone == nil || *placement.AvailabilityZone == *sn.AvailabilityZone) {
			return sn, nil
		}
	}
	return types.Subnet{}, awsproto.ClientError("MissingInput", "No subnets found for the default VPC '%s'. Please specify a subnet.", vpcID)
}

// launchGroups are the security groups named by id or, in the default
// VPC, by name, all in the VPC; the VPC's default group if none is.
func launchGroups(tx *sqlite.Tx, s backend.Scope, vpcID string, ids, names []string) ([]types.GroupIdentifier, error) {
	var groups []types.SecurityGroup
	for _, id := range ids {
		sg, err := groupNamed(tx, s, id, "")
		if err != nil {
			return nil, err
		}
		groups = append(groups, sg)
	}
	for _, name := range names {
		sg, err := groupNamed(tx, s, "", name)
		if err != nil {
			return nil, err
		}
		groups = append(groups, sg)
	}
	if len(groups) == 0 {
		var v vpc
		if err := get(tx, s, kindVpc, vpcID, &v); err != nil {
			return nil, err
		}
		sg, err := groupNamed(tx, s, v.DefaultSecurityGroup, "")
		if err != nil {
			return nil, err
		}
		groups = append(groups, sg)
	}
	out := []types.GroupIdentifier{}
	for _, sg := range groups {
		if *sg.VpcId != vpcID {
			return nil, errInvalid("Security group %s and subnet are from different networks.", *sg.GroupId)
		}
		out = append(out, types.GroupIdentifier{GroupId: sg.GroupId, GroupName: sg.GroupName})
	}
	return out, nil
}

var instanceFilter = filter[instance]{
	id:   func(i instance) string { return *i.Instance.InstanceId },
	tags: func(i instance) []types.Tag { return i.Instance.Tags },
	fields: map[string]func(instance) []string{
		"instance-id":         func(i instance) []string { return str(i.Instance.InstanceId) },
		"instance-state-name": func(i instance) []string { return []string{string(i.Instance.State.Name)} },
		"instance-state-code": func(i instance) []string { return []string{strconv.Itoa(int(aws.ToInt32(i.Instance.State.Code)))} },
		"instance-type":       func(i instance) []string { return []string{string(i.Instance.InstanceType)} },
		"image-id":            func(i instance) []string { return str(i.Instance.ImageId) },
		"vpc-id":              func(i instance) []string { return str(i.Instance.VpcId) },
		"subnet-id":           func(i instance) []string { return str(i.Instance.SubnetId) },
		"availability-zone":   func(i instance) []string { return str(i.Instance.Placement.AvailabilityZone) },
		"private-ip-address":  func(i instance) []string { return str(i.Instance.PrivateIpAddress) },
		"private-dns-name":    func(i instance) []string { return str(i.Instance.PrivateDnsName) },
		"reservation-id":      func(i instance) []string { return []string{i.ReservationId} },
		"key-name":            func(i instance) []string { return str(i.Instance.KeyName) },
		"instance.group-id": func(i instance) []string {
			return each(i.Instance.SecurityGroups, func(x types.GroupIdentifier) *string { return x.GroupId })
		},
	},
}

// DescribeInstances lists instances, terminated ones included, as AWS
// shows them for a while, in their reservations.
func (b *Backend) DescribeInstances(ctx context.Context, in *ec2api.DescribeInstancesInput) (*ec2api.DescribeInstancesOutput, error) {
	found, next, err := describe(ctx, b, stored[instance](kindInstance), instanceFilter, in.InstanceIds, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstancesOutput{Reservations: []types.Reservation{}, NextToken: next}
	s := backend.ScopeFrom(ctx)
	for _, i := range found {
		n := slices.IndexFunc(out.Reservations, func(r types.Reservation) bool { return *r.ReservationId == i.ReservationId })
		if n < 0 {
			out.Reservations = append(out.Reservations, types.Reservation{ReservationId: aws.String(i.ReservationId),
				OwnerId: aws.String(s.Account), Groups: []types.GroupIdentifier{}})
			n = len(out.Reservations) - 1
		}
		out.Reservations[n].Instances = append(out.Reservations[n].Instances, i.Instance)
	}
	return out, nil
}

// TerminateInstances terminates instances; they stay visible as
// terminated.
func (b *Backend) TerminateInstances(ctx context.Context, in *ec2api.TerminateInstancesInput) (*ec2api.TerminateInstancesOutput, error) {
	if len(in.InstanceIds) == 0 {
		return nil, errMissing("InstanceId")
	}
	out := &ec2api.TerminateInstancesOutput{}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		for _, id := range in.InstanceIds {
			var i instance
			if err := get(tx, s, kindInstance, id, &i); err != nil {
				return err
			}
			change := types.InstanceStateChange{InstanceId: aws.String(id), PreviousState: i.Instance.State, CurrentState: stateShuttingDown}
			if i.Instance.State.Name == types.InstanceStateNameTerminated {
				change.CurrentState = stateTerminated
			}
			out.TerminatingInstances = append(out.TerminatingInstances, change)
			i.Instance.State = stateTerminated
			i.Instance.PrivateIpAddress = nil
			if err := tx.Put(s.Row(kindInstance, id, *i.Instance.VpcId, ""), i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
