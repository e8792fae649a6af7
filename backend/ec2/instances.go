package ec2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

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

// instance is a stored instance with the reservation it was launched in
// and the attributes DescribeInstanceAttribute reports that
// DescribeInstances does not show.
type instance struct {
	Instance      types.Instance
	ReservationId string

	UserData              string // base64, as given
	DisableApiTermination bool
	DisableApiStop        bool
	ShutdownBehavior      types.ShutdownBehavior // "" is stop
	CpuCredits            string                 // standard or unlimited, for burstable types
	PublicOnLaunch        bool                   // it got a public address at launch
}

// maxLaunch bounds the instances one RunInstances call launches.
const maxLaunch = 20

// defaultInstanceLimit bounds the instances, not terminated, that one
// account runs in a region, as the EC2 service quotas on running
// instances do; past it RunInstances fails with InstanceLimitExceeded
// ("You've reached the limit on the number of instances you can run
// concurrently", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
// It keeps one request (an Auto Scaling group with a desired capacity
// of millions) from launching without end.
const defaultInstanceLimit = 500

// Instance states with their codes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
var (
	statePending      = &types.InstanceState{Code: aws.Int32(0), Name: types.InstanceStateNamePending}
	stateRunning      = &types.InstanceState{Code: aws.Int32(16), Name: types.InstanceStateNameRunning}
	stateShuttingDown = &types.InstanceState{Code: aws.Int32(32), Name: types.InstanceStateNameShuttingDown}
	stateTerminated   = &types.InstanceState{Code: aws.Int32(48), Name: types.InstanceStateNameTerminated}
	stateStopping     = &types.InstanceState{Code: aws.Int32(64), Name: types.InstanceStateNameStopping}
	stateStopped      = &types.InstanceState{Code: aws.Int32(80), Name: types.InstanceStateNameStopped}
)

// autoAssignedPool is where the public addresses that instances get on
// launch come from: TEST-NET-3, which routes nowhere.
var autoAssignedPool = netip.MustParsePrefix("203.0.113.0/24")

// RunInstances launches instances in a subnet (by default the default
// VPC's first), with their security groups (by default the VPC's
// default group), from a launch template whose parameters the request's
// own override. Each gets a primary network interface, a public address
// when its subnet maps one on launch (or the request asks), and an EBS
// volume for each of its image's block devices as the request changes
// them. An image id of the catalogue gives the instance its
// architecture, root device and volumes; another well-formed image id is
// taken as an x86_64 image with an 8 GiB gp2 root volume at /dev/xvda
// (AWS would refuse it), so that tests need not look one up.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
func (b *Backend) RunInstances(ctx context.Context, in *ec2api.RunInstancesInput) (*ec2api.RunInstancesOutput, error) {
	var template *types.LaunchTemplateVersion
	if spec := in.LaunchTemplate; spec != nil {
		v, err := b.LaunchTemplateVersion(ctx, backend.ScopeFrom(ctx), aws.ToString(spec.LaunchTemplateId), aws.ToString(spec.LaunchTemplateName), aws.ToString(spec.Version))
		if err != nil {
			return nil, err
		}
		if in, err = withTemplate(in, v.LaunchTemplateData); err != nil {
			return nil, err
		}
		template = v
	}
	if in.ImageId == nil {
		return nil, errMissing("ImageId")
	}
	if !imageID.MatchString(*in.ImageId) {
		return nil, awsproto.ClientError("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", *in.ImageId)
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
	// The types EC2 has are the SDK's enumeration; EC2's answer to
	// another is reported in https://github.com/getmoto/moto/issues/1695.
	if !slices.Contains(instanceType.Values(), instanceType) {
		return nil, errInvalid("Invalid value '%s' for InstanceType.", instanceType)
	}
	info := typeInfo(instanceType)
	credits := ""
	if aws.ToBool(info.BurstablePerformanceSupported) {
		credits = defaultCredits(instanceType)
	}
	if c := in.CreditSpecification; c != nil && c.CpuCredits != nil {
		switch {
		case *c.CpuCredits != "standard" && *c.CpuCredits != "unlimited":
			return nil, errInvalid("Value (%s) for parameter cpuCredits is invalid. Valid values: standard, unlimited", *c.CpuCredits)
		case credits == "":
			return nil, awsproto.ClientError("InstanceCreditSpecification.NotSupported", "The %s instance type does not support CPU credit options.", instanceType)
		}
		credits = *c.CpuCredits
	}
	s := backend.ScopeFrom(ctx)
	img, known := image(s.Region, *in.ImageId)
	if !known {
		img = unknownImage(*in.ImageId, info)
	}
	devices, err := launchDevices(img, in.BlockDeviceMappings)
	if err != nil {
		return nil, err
	}
	nic := types.InstanceNetworkInterfaceSpecification{SubnetId: in.SubnetId, Groups: in.SecurityGroupIds}
	if len(in.NetworkInterfaces) > 0 {
		nic = in.NetworkInterfaces[0]
		if nic.SubnetId == nil {
			nic.SubnetId = in.SubnetId
		}
		if len(nic.Groups) == 0 {
			nic.Groups = in.SecurityGroupIds
		}
	}
	tags := tagsFor(in.TagSpecifications, types.ResourceTypeInstance)
	if template != nil {
		tags = append(tags, types.Tag{Key: aws.String("aws:ec2launchtemplate:id"), Value: template.LaunchTemplateId},
			types.Tag{Key: aws.String("aws:ec2launchtemplate:version"), Value: aws.String(strconv.FormatInt(*template.VersionNumber, 10))})
	}
	out := &ec2api.RunInstancesOutput{ReservationId: aws.String(b.id("r")), Groups: []types.GroupIdentifier{}}
	err = b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		if done, err := launched(tx, s, aws.ToString(in.ClientToken), out); done || err != nil {
			return err
		}
		sn, err := launchSubnet(tx, s, aws.ToString(nic.SubnetId), in.Placement)
		if err != nil {
			return err
		}
		groups, err := launchGroups(tx, s, *sn.VpcId, nic.Groups, in.SecurityGroups)
		if err != nil {
			return err
		}
		used, err := subnetUsers(tx, s, *sn.SubnetId)
		if err != nil {
			return err
		}
		running, err := runningInstances(tx, s)
		if err != nil {
			return err
		}
		room := b.instanceLimit - running
		if int(low) > room {
			return awsproto.ClientError("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of %d allows.", low, b.instanceLimit)
		}
		public := aws.ToBool(sn.MapPublicIpOnLaunch)
		if nic.AssociatePublicIpAddress != nil {
			public = *nic.AssociatePublicIpAddress
		}
		out.OwnerId = aws.String(s.Account)
		now := b.env.Clock().UTC()
		for n := range int32(min(int(high), maxLaunch, room)) {
			ip, err := freeAddress(sn, used)
			if n == 0 && nic.PrivateIpAddress != nil {
				ip, err = netip.ParseAddr(*nic.PrivateIpAddress)
				if err != nil || !netip.MustParsePrefix(*sn.CidrBlock).Contains(ip) || slices.Contains(used, ip.String()) {
					return awsproto.ClientError("InvalidIPAddress.InUse", "Address %s is in use or not in subnet %s.", *nic.PrivateIpAddress, *sn.SubnetId)
				}
			}
			if err != nil {
				return err
			}
			used = append(used, ip.String())
			i := b.newInstance(s, in, img, info, sn, groups, ip, now, n)
			i.Instance.Tags = backend.OrEmpty(slices.Clone(tags))
			i.ReservationId, i.CpuCredits = *out.ReservationId, credits
			if public {
				addr, err := freePublicAddress(tx, s)
				if err != nil {
					return err
				}
				setPublicAddress(&i.Instance, s, addr)
				i.PublicOnLaunch = true
			}
			if nic.DeleteOnTermination != nil {
				i.Instance.NetworkInterfaces[0].Attachment.DeleteOnTermination = nic.DeleteOnTermination
			}
			if nic.Description != nil {
				i.Instance.NetworkInterfaces[0].Description = nic.Description
			}
			volumeTags := tagsFor(in.TagSpecifications, types.ResourceTypeVolume)
			for _, d := range devices {
				m, err := b.attachNewVolume(tx, s, &i.Instance, d, volumeTags, now)
				if err != nil {
					return err
				}
				i.Instance.BlockDeviceMappings = append(i.Instance.BlockDeviceMappings, m)
			}
			if err := putInstance(tx, s, i); err != nil {
				return err
			}
			shown := i.Instance
			shown.State = statePending // as RunInstances reports it; running from then on
			out.Instances = append(out.Instances, shown)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// launched answers a RunInstances retried with the client token of one
// that ran: its reservation again, nothing launched twice. The SDKs give
// RunInstances a token of their own and keep it when they retry, so a
// request whose answer was lost on the way back is not run twice.
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
func launched(tx *sqlite.Tx, s backend.Scope, token string, out *ec2api.RunInstancesOutput) (bool, error) {
	if token == "" {
		return false, nil
	}
	instances, err := all[instance](tx, s, kindInstance, "")
	if err != nil {
		return false, err
	}
	for _, i := range instances {
		if aws.ToString(i.Instance.ClientToken) == token {
			out.ReservationId, out.OwnerId = aws.String(i.ReservationId), aws.String(s.Account)
			out.Instances = append(out.Instances, i.Instance)
		}
	}
	return len(out.Instances) > 0, nil
}

// defaultCredits is the CPU credit option a burstable performance
// instance of type t launches with: standard for T2, unlimited for later
// families.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-unlimited-mode-concepts.html
func defaultCredits(t types.InstanceType) string {
	if strings.HasPrefix(string(t), "t2.") {
		return "standard"
	}
	return "unlimited"
}

// newInstance is an instance record as RunInstances makes it, before its
// public address and volumes.
func (b *Backend) newInstance(s backend.Scope, in *ec2api.RunInstancesInput, img types.Image, info types.InstanceTypeInfo,
	sn types.Subnet, groups []types.GroupIdentifier, ip netip.Addr, now time.Time, index int32) instance {
	private := "ip-" + strings.ReplaceAll(ip.String(), ".", "-") + "." + privateDomain(s.Region)
	eni := b.id("eni")
	digits := b.env.IDs.Hex(10)
	mac := "0a"
	for i := 0; i < len(digits); i += 2 {
		mac += ":" + digits[i:i+2]
	}
	inst := types.Instance{
		InstanceId: aws.String(b.id("i")), ImageId: in.ImageId, InstanceType: in.InstanceType, State: stateRunning,
		AmiLaunchIndex: aws.Int32(index), LaunchTime: &now, KeyName: in.KeyName, SubnetId: sn.SubnetId, VpcId: sn.VpcId,
		PrivateIpAddress: aws.String(ip.String()), PrivateDnsName: aws.String(private), PublicDnsName: aws.String(""),
		StateTransitionReason: aws.String(""),
		Placement: &types.Placement{AvailabilityZone: sn.AvailabilityZone, Tenancy: types.TenancyDefault, GroupName: aws.String(""),
			AvailabilityZoneId: sn.AvailabilityZoneId},
		SecurityGroups: groups, Architecture: img.Architecture, RootDeviceType: types.DeviceTypeEbs,
		RootDeviceName: img.RootDeviceName, BlockDeviceMappings: []types.InstanceBlockDeviceMapping{},
		Hypervisor: types.HypervisorTypeXen, VirtualizationType: types.VirtualizationTypeHvm,
		Monitoring: &types.Monitoring{State: types.MonitoringStateDisabled}, EbsOptimized: aws.Bool(aws.ToBool(in.EbsOptimized)),
		EnaSupport: aws.Bool(true), SourceDestCheck: aws.Bool(true), PlatformDetails: aws.String("Linux/UNIX"),
		UsageOperation: aws.String("RunInstances"), UsageOperationUpdateTime: &now, ClientToken: aws.String(aws.ToString(in.ClientToken)),
		ProductCodes: []types.ProductCode{}, BootMode: img.BootMode,
		CpuOptions:                       &types.CpuOptions{CoreCount: info.VCpuInfo.DefaultCores, ThreadsPerCore: info.VCpuInfo.DefaultThreadsPerCore},
		CapacityReservationSpecification: &types.CapacityReservationSpecificationResponse{CapacityReservationPreference: types.CapacityReservationPreferenceOpen},
		HibernationOptions:               &types.HibernationOptions{Configured: aws.Bool(false)},
		EnclaveOptions:                   &types.EnclaveOptions{Enabled: aws.Bool(false)},
		MaintenanceOptions:               &types.InstanceMaintenanceOptions{AutoRecovery: types.InstanceAutoRecoveryStateDefault},
		PrivateDnsNameOptions: &types.PrivateDnsNameOptionsResponse{HostnameType: sn.PrivateDnsNameOptionsOnLaunch.HostnameType,
			EnableResourceNameDnsARecord:    sn.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord,
			EnableResourceNameDnsAAAARecord: sn.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord},
		CurrentInstanceBootMode: types.InstanceBootModeValuesLegacyBios,
		NetworkInterfaces: []types.InstanceNetworkInterface{{
			NetworkInterfaceId: aws.String(eni), SubnetId: sn.SubnetId, VpcId: sn.VpcId, OwnerId: aws.String(s.Account),
			Description: aws.String(""), Groups: groups, Ipv6Addresses: []types.InstanceIpv6Address{}, MacAddress: aws.String(mac),
			PrivateIpAddress: aws.String(ip.String()), PrivateDnsName: aws.String(private), SourceDestCheck: aws.Bool(true),
			Status: types.NetworkInterfaceStatusInUse, InterfaceType: aws.String("interface"),
			PrivateIpAddresses: []types.InstancePrivateIpAddress{{Primary: aws.Bool(true), PrivateIpAddress: aws.String(ip.String()),
				PrivateDnsName: aws.String(private)}},
			Attachment: &types.InstanceNetworkInterfaceAttachment{AttachmentId: aws.String(b.id("eni-attach")), AttachTime: &now,
				DeleteOnTermination: aws.Bool(true), DeviceIndex: aws.Int32(0), NetworkCardIndex: aws.Int32(0), Status: types.AttachmentStatusAttached},
		}},
	}
	if inst.InstanceType == "" {
		inst.InstanceType = types.InstanceTypeM1Small
	}
	if img.BootMode == types.BootModeValuesUefi || img.Architecture == types.ArchitectureValuesArm64 {
		inst.CurrentInstanceBootMode = types.InstanceBootModeValuesUefi
	}
	if m := in.Monitoring; m != nil && aws.ToBool(m.Enabled) {
		inst.Monitoring.State = types.MonitoringStateEnabled
	}
	if o := in.MaintenanceOptions; o != nil && o.AutoRecovery != "" {
		inst.MaintenanceOptions.AutoRecovery = o.AutoRecovery
	}
	if o := in.HibernationOptions; o != nil && o.Configured != nil {
		inst.HibernationOptions.Configured = o.Configured
	}
	if o := in.EnclaveOptions; o != nil && o.Enabled != nil {
		inst.EnclaveOptions.Enabled = o.Enabled
	}
	if o := in.CpuOptions; o != nil {
		if o.CoreCount != nil {
			inst.CpuOptions.CoreCount = o.CoreCount
		}
		if o.ThreadsPerCore != nil {
			inst.CpuOptions.ThreadsPerCore = o.ThreadsPerCore
		}
	}
	if o := in.PrivateDnsNameOptions; o != nil {
		if o.HostnameType != "" {
			inst.PrivateDnsNameOptions.HostnameType = o.HostnameType
		}
		if o.EnableResourceNameDnsARecord != nil {
			inst.PrivateDnsNameOptions.EnableResourceNameDnsARecord = o.EnableResourceNameDnsARecord
		}
		if o.EnableResourceNameDnsAAAARecord != nil {
			inst.PrivateDnsNameOptions.EnableResourceNameDnsAAAARecord = o.EnableResourceNameDnsAAAARecord
		}
	}
	if o := in.CapacityReservationSpecification; o != nil && o.CapacityReservationPreference != "" {
		inst.CapacityReservationSpecification.CapacityReservationPreference = o.CapacityReservationPreference
	}
	inst.MetadataOptions = metadataOptions(img, in.MetadataOptions)
	if p := in.IamInstanceProfile; p != nil {
		profile := aws.ToString(p.Arn)
		if profile == "" {
			profile = "arn:aws:iam::" + s.Account + ":instance-profile/" + aws.ToString(p.Name)
		}
		inst.IamInstanceProfile = &types.IamInstanceProfile{Arn: aws.String(profile), Id: aws.String("AIPA" + strings.ToUpper(b.env.IDs.Hex(17)))}
	}
	i := instance{Instance: inst, UserData: aws.ToString(in.UserData), DisableApiTermination: aws.ToBool(in.DisableApiTermination),
		DisableApiStop: aws.ToBool(in.DisableApiStop), ShutdownBehavior: in.InstanceInitiatedShutdownBehavior}
	return i
}

// metadataOptions are an instance's metadata options: IMDSv2 optional
// with a hop limit of 1, unless its image asks for IMDSv2 (then required,
// with a hop limit of 2), changed by the request.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
func metadataOptions(img types.Image, req *types.InstanceMetadataOptionsRequest) *types.InstanceMetadataOptionsResponse {
	o := &types.InstanceMetadataOptionsResponse{HttpTokens: types.HttpTokensStateOptional, HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
		HttpPutResponseHopLimit: aws.Int32(1), HttpProtocolIpv6: types.InstanceMetadataProtocolStateDisabled,
		InstanceMetadataTags: types.InstanceMetadataTagsStateDisabled, State: types.InstanceMetadataOptionsStateApplied}
	if img.ImdsSupport == types.ImdsSupportValuesV20 {
		o.HttpTokens, o.HttpPutResponseHopLimit = types.HttpTokensStateRequired, aws.Int32(2)
	}
	if req == nil {
		return o
	}
	if req.HttpTokens != "" {
		o.HttpTokens = types.HttpTokensState(req.HttpTokens)
	}
	if req.HttpEndpoint != "" {
		o.HttpEndpoint = req.HttpEndpoint
	}
	if req.HttpPutResponseHopLimit != nil && *req.HttpPutResponseHopLimit > 0 {
		o.HttpPutResponseHopLimit = req.HttpPutResponseHopLimit
	}
	if req.HttpProtocolIpv6 != "" {
		o.HttpProtocolIpv6 = req.HttpProtocolIpv6
	}
	if req.InstanceMetadataTags != "" {
		o.InstanceMetadataTags = req.InstanceMetadataTags
	}
	return o
}

// typeInfo is the catalogue's description of an instance type; a type
// outside it has one vCPU.
func typeInfo(t types.InstanceType) types.InstanceTypeInfo {
	for _, info := range instanceTypes() {
		if info.InstanceType == t {
			return info
		}
	}
	return types.InstanceTypeInfo{InstanceType: t, BurstablePerformanceSupported: aws.Bool(false),
		VCpuInfo:      &types.VCpuInfo{DefaultVCpus: aws.Int32(1), DefaultCores: aws.Int32(1), DefaultThreadsPerCore: aws.Int32(1)},
		ProcessorInfo: &types.ProcessorInfo{SupportedArchitectures: []types.ArchitectureType{types.ArchitectureTypeX8664}}}
}

// unknownImage stands for an image outside the catalogue: of the
// instance type's architecture, with an 8 GiB gp2 root volume.
func unknownImage(id string, info types.InstanceTypeInfo) types.Image {
	arch := types.ArchitectureValues(info.ProcessorInfo.SupportedArchitectures[0])
	return types.Image{ImageId: aws.String(id), Architecture: arch, RootDeviceName: aws.String("/dev/xvda"),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{
			DeleteOnTermination: aws.Bool(true), Encrypted: aws.Bool(false), VolumeSize: aws.Int32(8), VolumeType: types.VolumeTypeGp2}}}}
}

// putInstance stores an instance.
func putInstance(tx *sqlite.Tx, s backend.Scope, i instance) error {
	return tx.Put(s.Row(kindInstance, *i.Instance.InstanceId, *i.Instance.VpcId, ""), i)
}

// freePublicAddress is the first address of the pool no instance of the
// scope holds.
func freePublicAddress(tx *sqlite.Tx, s backend.Scope) (netip.Addr, error) {
	instances, err := all[instance](tx, s, kindInstance, "")
	if err != nil {
		return netip.Addr{}, err
	}
	for ip := autoAssignedPool.Addr().Next(); autoAssignedPool.Contains(ip); ip = ip.Next() {
		if !slices.ContainsFunc(instances, func(i instance) bool { return aws.ToString(i.Instance.PublicIpAddress) == ip.String() }) {
			return ip, nil
		}
	}
	return netip.Addr{}, awsproto.ClientError("AddressLimitExceeded", "No public IPv4 address is free in %s.", autoAssignedPool)
}

// setPublicAddress gives an instance a public address and its DNS name,
// or takes them away (an invalid addr).
// https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html#vpc-dns-hostnames
func setPublicAddress(inst *types.Instance, s backend.Scope, addr netip.Addr) {
	if len(inst.NetworkInterfaces) == 0 { // a record from before instances had interfaces
		inst.NetworkInterfaces = []types.InstanceNetworkInterface{{NetworkInterfaceId: aws.String("eni-" + digest(17, *inst.InstanceId)),
			PrivateIpAddress: inst.PrivateIpAddress, SubnetId: inst.SubnetId, VpcId: inst.VpcId, Groups: inst.SecurityGroups}}
	}
	nic := &inst.NetworkInterfaces[0]
	if !addr.IsValid() {
		inst.PublicIpAddress, inst.PublicDnsName, nic.Association = nil, aws.String(""), nil
		for j := range nic.PrivateIpAddresses {
			nic.PrivateIpAddresses[j].Association = nil
		}
		return
	}
	domain := s.Region + ".compute.amazonaws.com"
	if s.Region == "us-east-1" {
		domain = "compute-1.amazonaws.com"
	}
	name := "ec2-" + strings.ReplaceAll(addr.String(), ".", "-") + "." + domain
	inst.PublicIpAddress, inst.PublicDnsName = aws.String(addr.String()), aws.String(name)
	assoc := &types.InstanceNetworkInterfaceAssociation{PublicIp: aws.String(addr.String()), PublicDnsName: aws.String(name), IpOwnerId: aws.String("amazon")}
	nic.Association = assoc
	if len(nic.PrivateIpAddresses) > 0 {
		nic.PrivateIpAddresses[0].Association = assoc
	}
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
		"architecture":        func(i instance) []string { return []string{string(i.Instance.Architecture)} },
		"ip-address":          func(i instance) []string { return str(i.Instance.PublicIpAddress) },
		"dns-name":            func(i instance) []string { return str(i.Instance.PublicDnsName) },
		"root-device-name":    func(i instance) []string { return str(i.Instance.RootDeviceName) },
		"root-device-type":    func(i instance) []string { return []string{string(i.Instance.RootDeviceType)} },
		"iam-instance-profile.arn": func(i instance) []string {
			if p := i.Instance.IamInstanceProfile; p != nil {
				return str(p.Arn)
			}
			return nil
		},
		"network-interface.network-interface-id": func(i instance) []string {
			return each(i.Instance.NetworkInterfaces, func(n types.InstanceNetworkInterface) *string { return n.NetworkInterfaceId })
		},
		"block-device-mapping.volume-id": func(i instance) []string {
			return each(i.Instance.BlockDeviceMappings, func(m types.InstanceBlockDeviceMapping) *string { return m.Ebs.VolumeId })
		},
		"instance.group-name": func(i instance) []string {
			return each(i.Instance.SecurityGroups, func(x types.GroupIdentifier) *string { return x.GroupName })
		},
		"instance.group-id": func(i instance) []string {
			return each(i.Instance.SecurityGroups, func(x types.GroupIdentifier) *string { return x.GroupId })
		},
	},
}

// DescribeInstances lists instances, terminated ones included, as AWS
// shows them for a while, in their reservations.
func (b *Backend) DescribeInstances(ctx context.Context, in *ec2api.DescribeInstancesInput) (*ec2api.DescribeInstancesOutput, error) {
	found, next, err := describe(ctx, b, b.instancesAndHosts, instanceFilter, in.InstanceIds, in.Filters, in.NextToken, in.MaxResults)
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

// instancesAndHosts loads the scope's instances and the hosts that run
// ECS tasks, each running in the default VPC's subnet of its zone.
func (b *Backend) instancesAndHosts(tx *sqlite.Tx, s backend.Scope) ([]instance, error) {
	out, err := all[instance](tx, s, kindInstance, "")
	if err != nil || b.Hosts == nil {
		return out, err
	}
	for _, i := range b.Hosts.HostInstances(s) {
		if sn, err := launchSubnet(tx, s, "", i.Placement); err == nil {
			i.SubnetId, i.VpcId = sn.SubnetId, sn.VpcId
		}
		i.State = &types.InstanceState{Name: types.InstanceStateNameRunning, Code: aws.Int32(16)}
		out = append(out, instance{Instance: i, ReservationId: "r-" + strings.TrimPrefix(*i.InstanceId, "i-")})
	}
	return out, nil
}

// changeStates moves instances to a new state, each after check allows
// it, and reports the change as EC2 does: from the state each was in to
// the state shown (shuttingDown, stopping, pending) while it moves to
// the stored state.
func (b *Backend) changeStates(ctx context.Context, ids []string, check func(instance) error,
	move func(tx *sqlite.Tx, s backend.Scope, i *instance) (shown *types.InstanceState, err error)) ([]types.InstanceStateChange, error) {
	if len(ids) == 0 {
		return nil, errMissing("InstanceId")
	}
	var changes []types.InstanceStateChange
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		for _, id := range ids {
			var i instance
			if err := get(tx, s, kindInstance, id, &i); err != nil {
				return err
			}
			if err := check(i); err != nil {
				return err
			}
			previous := i.Instance.State
			shown, err := move(tx, s, &i)
			if err != nil {
				return err
			}
			changes = append(changes, types.InstanceStateChange{InstanceId: aws.String(id), PreviousState: previous, CurrentState: shown})
			if err := putInstance(tx, s, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// transitionReason is the state transition reason of a change a user
// asked for.
func (b *Backend) transitionReason() *string {
	return aws.String("User initiated (" + b.env.Clock().UTC().Format("2006-01-02 15:04:05") + " GMT)")
}

// TerminateInstances terminates instances, unless their
// disableApiTermination attribute is set; they stay visible as
// terminated, without their addresses, and their volumes are deleted or
// detached as their block device mappings say.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html
func (b *Backend) TerminateInstances(ctx context.Context, in *ec2api.TerminateInstancesInput) (*ec2api.TerminateInstancesOutput, error) {
	check := func(i instance) error {
		if i.DisableApiTermination {
			return awsproto.ClientError("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", *i.Instance.InstanceId)
		}
		return nil
	}
	changes, err := b.changeStates(ctx, in.InstanceIds, check, func(tx *sqlite.Tx, s backend.Scope, i *instance) (*types.InstanceState, error) {
		if i.Instance.State.Name == types.InstanceStateNameTerminated {
			return stateTerminated, nil
		}
		if err := releaseVolumes(tx, s, &i.Instance); err != nil {
			return nil, err
		}
		if a, err := addressOf(tx, s, *i.Instance.InstanceId); err != nil {
			return nil, err
		} else if a != nil {
			if err := unassociate(tx, s, a); err != nil {
				return nil, err
			}
		}
		if len(i.Instance.NetworkInterfaces) > 0 {
			setPublicAddress(&i.Instance, s, netip.Addr{})
		}
		i.Instance.State, i.Instance.StateTransitionReason = stateTerminated, b.transitionReason()
		i.Instance.StateReason = &types.StateReason{Code: aws.String("Client.UserInitiatedShutdown"), Message: aws.String("Client.UserInitiatedShutdown: User initiated shutdown")}
		i.Instance.PrivateIpAddress, i.Instance.NetworkInterfaces, i.Instance.SecurityGroups = nil, []types.InstanceNetworkInterface{}, []types.GroupIdentifier{}
		return stateShuttingDown, nil
	})
	if err != nil {
		return nil, err
	}
	b.left(ctx, changes)
	return &ec2api.TerminateInstancesOutput{TerminatingInstances: changes}, nil
}

// StopInstances stops running instances, unless their disableApiStop
// attribute is set; a stopped instance gives up its public address (but
// not an Elastic IP address).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html
func (b *Backend) StopInstances(ctx context.Context, in *ec2api.StopInstancesInput) (*ec2api.StopInstancesOutput, error) {
	check := func(i instance) error {
		switch {
		case i.DisableApiStop:
			return awsproto.ClientError("OperationNotPermitted", "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", *i.Instance.InstanceId)
		case i.Instance.State.Name == types.InstanceStateNameTerminated:
			return incorrectState(i, "stop")
		}
		return nil
	}
	changes, err := b.changeStates(ctx, in.InstanceIds, check, func(tx *sqlite.Tx, s backend.Scope, i *instance) (*types.InstanceState, error) {
		if i.Instance.State.Name == types.InstanceStateNameStopped {
			return stateStopped, nil
		}
		if a, err := addressOf(tx, s, *i.Instance.InstanceId); err != nil {
			return nil, err
		} else if a == nil { // an Elastic IP address stays
			setPublicAddress(&i.Instance, s, netip.Addr{})
		}
		i.Instance.State, i.Instance.StateTransitionReason = stateStopped, b.transitionReason()
		i.Instance.StateReason = &types.StateReason{Code: aws.String("Client.UserInitiatedShutdown"), Message: aws.String("Client.UserInitiatedShutdown: User initiated shutdown")}
		return stateStopping, nil
	})
	if err != nil {
		return nil, err
	}
	b.left(ctx, changes)
	return &ec2api.StopInstancesOutput{StoppingInstances: changes}, nil
}

// left tells Left of the instances that changes took out of the running
// state.
func (b *Backend) left(ctx context.Context, changes []types.InstanceStateChange) {
	if b.Left == nil {
		return
	}
	var ids []string
	for _, c := range changes {
		if c.PreviousState != nil && c.PreviousState.Name == types.InstanceStateNameRunning {
			ids = append(ids, aws.ToString(c.InstanceId))
		}
	}
	if len(ids) > 0 {
		b.Left(ctx, ids)
	}
}

// StartInstances starts stopped instances; one that got a public address
// at launch and holds no Elastic IP address gets a new one.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html
func (b *Backend) StartInstances(ctx context.Context, in *ec2api.StartInstancesInput) (*ec2api.StartInstancesOutput, error) {
	check := func(i instance) error {
		if i.Instance.State.Name == types.InstanceStateNameTerminated {
			return incorrectState(i, "start")
		}
		return nil
	}
	changes, err := b.changeStates(ctx, in.InstanceIds, check, func(tx *sqlite.Tx, s backend.Scope, i *instance) (*types.InstanceState, error) {
		if i.Instance.State.Name == types.InstanceStateNameRunning {
			return stateRunning, nil
		}
		a, err := addressOf(tx, s, *i.Instance.InstanceId)
		if err != nil {
			return nil, err
		}
		if a == nil && i.PublicOnLaunch {
			addr, err := freePublicAddress(tx, s)
			if err != nil {
				return nil, err
			}
			setPublicAddress(&i.Instance, s, addr)
		}
		i.Instance.State, i.Instance.StateTransitionReason, i.Instance.StateReason = stateRunning, aws.String(""), nil
		return statePending, nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.StartInstancesOutput{StartingInstances: changes}, nil
}

// RebootInstances reboots running instances: for a record, nothing
// changes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RebootInstances.html
func (b *Backend) RebootInstances(ctx context.Context, in *ec2api.RebootInstancesInput) (*ec2api.RebootInstancesOutput, error) {
	check := func(i instance) error {
		if i.Instance.State.Name == types.InstanceStateNameTerminated {
			return incorrectState(i, "reboot")
		}
		return nil
	}
	_, err := b.changeStates(ctx, in.InstanceIds, check, func(_ *sqlite.Tx, _ backend.Scope, i *instance) (*types.InstanceState, error) {
		return i.Instance.State, nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.RebootInstancesOutput{}, nil
}

// incorrectState is EC2's refusal of an action on an instance in a state
// that does not allow it.
func incorrectState(i instance, action string) error {
	return awsproto.ClientError("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be %s.",
		*i.Instance.InstanceId, map[string]string{"stop": "stopped", "start": "started", "reboot": "rebooted", "modify": "modified"}[action])
}

// instanceInterfaces are an instance's network interfaces as
// DescribeNetworkInterfaces shows them.
func instanceInterfaces(s backend.Scope, inst types.Instance) []types.NetworkInterface {
	var out []types.NetworkInterface
	for _, n := range inst.NetworkInterfaces {
		eni := types.NetworkInterface{
			NetworkInterfaceId: n.NetworkInterfaceId, SubnetId: n.SubnetId, VpcId: n.VpcId, OwnerId: aws.String(s.Account),
			AvailabilityZone: inst.Placement.AvailabilityZone, AvailabilityZoneId: inst.Placement.AvailabilityZoneId,
			Description: n.Description, Groups: backend.OrEmpty(n.Groups), MacAddress: n.MacAddress, PrivateIpAddress: n.PrivateIpAddress,
			PrivateDnsName: n.PrivateDnsName, SourceDestCheck: n.SourceDestCheck, Status: types.NetworkInterfaceStatusInUse,
			InterfaceType: types.NetworkInterfaceTypeInterface, RequesterManaged: aws.Bool(false), TagSet: []types.Tag{},
			Ipv6Addresses: []types.NetworkInterfaceIpv6Address{},
		}
		if a := n.Association; a != nil {
			eni.Association = &types.NetworkInterfaceAssociation{PublicIp: a.PublicIp, PublicDnsName: a.PublicDnsName, IpOwnerId: a.IpOwnerId}
		}
		for _, p := range n.PrivateIpAddresses {
			ip := types.NetworkInterfacePrivateIpAddress{Primary: p.Primary, PrivateIpAddress: p.PrivateIpAddress, PrivateDnsName: p.PrivateDnsName}
			if p.Association != nil {
				ip.Association = eni.Association
			}
			eni.PrivateIpAddresses = append(eni.PrivateIpAddresses, ip)
		}
		if a := n.Attachment; a != nil {
			eni.Attachment = &types.NetworkInterfaceAttachment{AttachmentId: a.AttachmentId, AttachTime: a.AttachTime,
				DeleteOnTermination: a.DeleteOnTermination, DeviceIndex: a.DeviceIndex, NetworkCardIndex: a.NetworkCardIndex,
				InstanceId: inst.InstanceId, InstanceOwnerId: aws.String(s.Account), Status: a.Status}
		}
		out = append(out, eni)
	}
	return out
}
