package ec2

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// The attributes of an instance that are read and changed one at a time,
// its metadata, maintenance and CPU credit options, and its status
// checks.

var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// loadInstance reads one instance of the request's scope.
func (b *Backend) loadInstance(ctx context.Context, id *string) (instance, error) {
	var i instance
	if aws.ToString(id) == "" {
		return i, errMissing("InstanceId")
	}
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error { return get(tx, s, kindInstance, *id, &i) })
	return i, err
}

// changeInstance changes one instance of the request's scope in a
// transaction.
func (b *Backend) changeInstance(ctx context.Context, id *string, change func(tx *sqlite.Tx, s backend.Scope, i *instance) error) error {
	if aws.ToString(id) == "" {
		return errMissing("InstanceId")
	}
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var i instance
		if err := get(tx, s, kindInstance, *id, &i); err != nil {
			return err
		}
		if err := change(tx, s, &i); err != nil {
			return err
		}
		return putInstance(tx, s, i)
	})
}

func attrValue(v string) *types.AttributeValue { return &types.AttributeValue{Value: aws.String(v)} }

func attrBool(v bool) *types.AttributeBooleanValue {
	return &types.AttributeBooleanValue{Value: aws.Bool(v)}
}

// shutdownBehavior is what an instance does when it shuts itself down.
func (i instance) shutdownBehavior() types.ShutdownBehavior {
	if i.ShutdownBehavior == "" {
		return types.ShutdownBehaviorStop
	}
	return i.ShutdownBehavior
}

// DescribeInstanceAttribute reports one attribute of an instance.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceAttribute.html
func (b *Backend) DescribeInstanceAttribute(ctx context.Context, in *ec2api.DescribeInstanceAttributeInput) (*ec2api.DescribeInstanceAttributeOutput, error) {
	if in.Attribute == "" {
		return nil, errMissing("Attribute")
	}
	i, err := b.loadInstance(ctx, in.InstanceId)
	if err != nil {
		return nil, err
	}
	inst := i.Instance
	out := &ec2api.DescribeInstanceAttributeOutput{InstanceId: inst.InstanceId}
	switch in.Attribute {
	case types.InstanceAttributeNameInstanceType:
		out.InstanceType = attrValue(string(inst.InstanceType))
	case types.InstanceAttributeNameKernel:
		out.KernelId = &types.AttributeValue{}
	case types.InstanceAttributeNameRamdisk:
		out.RamdiskId = &types.AttributeValue{}
	case types.InstanceAttributeNameUserData:
		out.UserData = &types.AttributeValue{}
		if i.UserData != "" {
			out.UserData.Value = aws.String(i.UserData)
		}
	case types.InstanceAttributeNameDisableApiTermination:
		out.DisableApiTermination = attrBool(i.DisableApiTermination)
	case types.InstanceAttributeNameDisableApiStop:
		out.DisableApiStop = attrBool(i.DisableApiStop)
	case types.InstanceAttributeNameInstanceInitiatedShutdownBehavior:
		out.InstanceInitiatedShutdownBehavior = attrValue(string(i.shutdownBehavior()))
	case types.InstanceAttributeNameRootDeviceName:
		out.RootDeviceName = attrValue(aws.ToString(inst.RootDeviceName))
	case types.InstanceAttributeNameBlockDeviceMapping:
		out.BlockDeviceMappings = backend.OrEmpty(inst.BlockDeviceMappings)
	case types.InstanceAttributeNameProductCodes:
		out.ProductCodes = []types.ProductCode{}
	case types.InstanceAttributeNameSourceDestCheck:
		out.SourceDestCheck = attrBool(aws.ToBool(inst.SourceDestCheck))
	case types.InstanceAttributeNameGroupSet:
		out.Groups = backend.OrEmpty(inst.SecurityGroups)
	case types.InstanceAttributeNameEbsOptimized:
		out.EbsOptimized = attrBool(aws.ToBool(inst.EbsOptimized))
	case types.InstanceAttributeNameSriovNetSupport:
		out.SriovNetSupport = &types.AttributeValue{}
	case types.InstanceAttributeNameEnaSupport:
		out.EnaSupport = attrBool(aws.ToBool(inst.EnaSupport))
	case types.InstanceAttributeNameEnclaveOptions:
		out.EnclaveOptions = inst.EnclaveOptions
	default:
		return nil, errInvalid("Value (%s) for parameter attribute is invalid. Unknown attribute.", in.Attribute)
	}
	return out, nil
}

// ModifyInstanceAttribute changes one attribute of an instance, named
// by Attribute with Value or by its own parameter. The instance type,
// user data, EBS optimization and ENA support change only while the
// instance is stopped.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html
func (b *Backend) ModifyInstanceAttribute(ctx context.Context, in *ec2api.ModifyInstanceAttributeInput) (*ec2api.ModifyInstanceAttributeOutput, error) {
	var userData *string // base64
	if in.UserData != nil {
		userData = aws.String(base64.StdEncoding.EncodeToString(in.UserData.Value))
	}
	if v := in.Value; in.Attribute != "" {
		if v == nil {
			return nil, errMissing("Value")
		}
		boolean := func() *types.AttributeBooleanValue { return attrBool(*v == "true") }
		switch in.Attribute {
		case types.InstanceAttributeNameInstanceType:
			in.InstanceType = attrValue(*v)
		case types.InstanceAttributeNameInstanceInitiatedShutdownBehavior:
			in.InstanceInitiatedShutdownBehavior = attrValue(*v)
		case types.InstanceAttributeNameDisableApiTermination:
			in.DisableApiTermination = boolean()
		case types.InstanceAttributeNameDisableApiStop:
			in.DisableApiStop = boolean()
		case types.InstanceAttributeNameSourceDestCheck:
			in.SourceDestCheck = boolean()
		case types.InstanceAttributeNameEbsOptimized:
			in.EbsOptimized = boolean()
		case types.InstanceAttributeNameEnaSupport:
			in.EnaSupport = boolean()
		case types.InstanceAttributeNameUserData:
			userData = v
		default:
			return nil, errInvalid("Value (%s) for parameter attribute is invalid. Unknown or read-only attribute.", in.Attribute)
		}
	}
	err := b.changeInstance(ctx, in.InstanceId, func(tx *sqlite.Tx, s backend.Scope, i *instance) error {
		inst := &i.Instance
		if inst.State.Name == types.InstanceStateNameTerminated {
			return incorrectState(*i, "modify")
		}
		whileStopped := in.InstanceType != nil || userData != nil || in.EbsOptimized != nil || in.EnaSupport != nil
		if whileStopped && inst.State.Name != types.InstanceStateNameStopped {
			return awsproto.ClientError("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", *inst.InstanceId)
		}
		if v := in.InstanceType; v != nil {
			info := typeInfo(types.InstanceType(aws.ToString(v.Value)))
			if info.MemoryInfo == nil {
				return errInvalid("Invalid value '%s' for InstanceType.", aws.ToString(v.Value))
			}
			if string(info.ProcessorInfo.SupportedArchitectures[0]) != string(inst.Architecture) {
				return errInvalid("The instance type '%s' does not support the architecture '%s' of the instance's image.", *v.Value, inst.Architecture)
			}
			inst.InstanceType = info.InstanceType
			inst.CpuOptions = &types.CpuOptions{CoreCount: info.VCpuInfo.DefaultCores, ThreadsPerCore: info.VCpuInfo.DefaultThreadsPerCore}
			if aws.ToBool(info.BurstablePerformanceSupported) && i.CpuCredits == "" {
				i.CpuCredits = defaultCredits(info.InstanceType)
			}
		}
		if userData != nil {
			i.UserData = *userData
		}
		if v := in.InstanceInitiatedShutdownBehavior; v != nil {
			switch behavior := types.ShutdownBehavior(aws.ToString(v.Value)); behavior {
			case types.ShutdownBehaviorStop, types.ShutdownBehaviorTerminate:
				i.ShutdownBehavior = behavior
			default:
				return errInvalid("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate", behavior)
			}
		}
		set := func(to *bool, v *types.AttributeBooleanValue) {
			if v != nil {
				*to = aws.ToBool(v.Value)
			}
		}
		set(&i.DisableApiTermination, in.DisableApiTermination)
		set(&i.DisableApiStop, in.DisableApiStop)
		for _, v := range []struct {
			to   **bool
			from *types.AttributeBooleanValue
		}{{&inst.SourceDestCheck, in.SourceDestCheck}, {&inst.EbsOptimized, in.EbsOptimized}, {&inst.EnaSupport, in.EnaSupport}} {
			if v.from != nil {
				*v.to = aws.Bool(aws.ToBool(v.from.Value))
			}
		}
		if in.SourceDestCheck != nil && len(inst.NetworkInterfaces) > 0 {
			inst.NetworkInterfaces[0].SourceDestCheck = inst.SourceDestCheck
		}
		if len(in.Groups) > 0 {
			groups, err := launchGroups(tx, s, *inst.VpcId, in.Groups, nil)
			if err != nil {
				return err
			}
			inst.SecurityGroups = groups
			if len(inst.NetworkInterfaces) > 0 {
				inst.NetworkInterfaces[0].Groups = groups
			}
		}
		for _, m := range in.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.DeleteOnTermination != nil {
				if err := setDeleteOnTermination(tx, s, inst, aws.ToString(m.DeviceName), *m.Ebs.DeleteOnTermination); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyInstanceAttributeOutput{}, nil
}

// ModifyInstanceMetadataOptions changes an instance's metadata options.
// EC2 answers with them pending; DescribeInstances shows them applied.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceMetadataOptions.html
func (b *Backend) ModifyInstanceMetadataOptions(ctx context.Context, in *ec2api.ModifyInstanceMetadataOptionsInput) (*ec2api.ModifyInstanceMetadataOptionsOutput, error) {
	if hops := aws.ToInt32(in.HttpPutResponseHopLimit); in.HttpPutResponseHopLimit != nil && (hops < 1 || hops > 64) {
		return nil, errInvalid("The HttpPutResponseHopLimit must be between 1 and 64.")
	}
	var options types.InstanceMetadataOptionsResponse
	err := b.changeInstance(ctx, in.InstanceId, func(_ *sqlite.Tx, _ backend.Scope, i *instance) error {
		if i.Instance.State.Name == types.InstanceStateNameTerminated {
			return incorrectState(*i, "modify")
		}
		o := i.Instance.MetadataOptions
		if o == nil {
			o = metadataOptions(types.Image{}, nil)
		}
		if in.HttpTokens != "" {
			o.HttpTokens = types.HttpTokensState(in.HttpTokens)
		}
		if in.HttpEndpoint != "" {
			o.HttpEndpoint = in.HttpEndpoint
		}
		if in.HttpPutResponseHopLimit != nil {
			o.HttpPutResponseHopLimit = in.HttpPutResponseHopLimit
		}
		if in.HttpProtocolIpv6 != "" {
			o.HttpProtocolIpv6 = in.HttpProtocolIpv6
		}
		if in.InstanceMetadataTags != "" {
			o.InstanceMetadataTags = in.InstanceMetadataTags
		}
		i.Instance.MetadataOptions = o
		options = *o
		return nil
	})
	if err != nil {
		return nil, err
	}
	options.State = types.InstanceMetadataOptionsStatePending
	return &ec2api.ModifyInstanceMetadataOptionsOutput{InstanceId: in.InstanceId, InstanceMetadataOptions: &options}, nil
}

// ModifyInstanceMaintenanceOptions changes whether an instance recovers
// by itself.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceMaintenanceOptions.html
func (b *Backend) ModifyInstanceMaintenanceOptions(ctx context.Context, in *ec2api.ModifyInstanceMaintenanceOptionsInput) (*ec2api.ModifyInstanceMaintenanceOptionsOutput, error) {
	var options types.InstanceMaintenanceOptions
	err := b.changeInstance(ctx, in.InstanceId, func(_ *sqlite.Tx, _ backend.Scope, i *instance) error {
		if i.Instance.MaintenanceOptions == nil {
			i.Instance.MaintenanceOptions = &types.InstanceMaintenanceOptions{AutoRecovery: types.InstanceAutoRecoveryStateDefault}
		}
		switch in.AutoRecovery {
		case "":
		case types.InstanceAutoRecoveryStateDefault, types.InstanceAutoRecoveryStateDisabled:
			i.Instance.MaintenanceOptions.AutoRecovery = in.AutoRecovery
		default:
			return errInvalid("Value (%s) for parameter autoRecovery is invalid. Valid values: default, disabled", in.AutoRecovery)
		}
		options = *i.Instance.MaintenanceOptions
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyInstanceMaintenanceOptionsOutput{InstanceId: in.InstanceId, AutoRecovery: options.AutoRecovery}, nil
}

// cpuCredits is an instance's CPU credit option: the one it was given as
// a burstable performance instance, which it keeps when resized to
// another type, else standard.
func (i instance) cpuCredits() string {
	if i.CpuCredits == "" {
		return "standard"
	}
	return i.CpuCredits
}

// DescribeInstanceCreditSpecifications reports the CPU credit option
// (standard or unlimited) of the instances named (standard for one that
// never was a burstable performance instance); named none, of those with
// the unlimited option.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceCreditSpecifications.html
func (b *Backend) DescribeInstanceCreditSpecifications(ctx context.Context, in *ec2api.DescribeInstanceCreditSpecificationsInput) (*ec2api.DescribeInstanceCreditSpecificationsOutput, error) {
	var found []instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		found, err = all[instance](tx, s, kindInstance, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.InstanceIds) == 0 {
		found = slices.DeleteFunc(found, func(i instance) bool {
			return i.CpuCredits != "unlimited" || i.Instance.State.Name == types.InstanceStateNameTerminated
		})
	}
	f := filter[instance]{id: instanceFilter.id, tags: instanceFilter.tags, fields: map[string]func(instance) []string{
		"instance-id": instanceFilter.fields["instance-id"],
	}}
	if found, err = selected(found, in.InstanceIds, in.Filters, f); err != nil {
		return nil, err
	}
	page, next, err := page(found, f.id, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceCreditSpecificationsOutput{InstanceCreditSpecifications: []types.InstanceCreditSpecification{}, NextToken: next}
	for _, i := range page {
		out.InstanceCreditSpecifications = append(out.InstanceCreditSpecifications,
			types.InstanceCreditSpecification{InstanceId: i.Instance.InstanceId, CpuCredits: aws.String(i.cpuCredits())})
	}
	return out, nil
}

// ModifyInstanceCreditSpecification changes the CPU credit option of
// burstable performance instances; each instance that cannot change is
// reported with its error, the others change.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceCreditSpecification.html
func (b *Backend) ModifyInstanceCreditSpecification(ctx context.Context, in *ec2api.ModifyInstanceCreditSpecificationInput) (*ec2api.ModifyInstanceCreditSpecificationOutput, error) {
	if len(in.InstanceCreditSpecifications) == 0 {
		return nil, errMissing("InstanceCreditSpecification")
	}
	out := &ec2api.ModifyInstanceCreditSpecificationOutput{SuccessfulInstanceCreditSpecifications: []types.SuccessfulInstanceCreditSpecificationItem{},
		UnsuccessfulInstanceCreditSpecifications: []types.UnsuccessfulInstanceCreditSpecificationItem{}}
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		for _, spec := range in.InstanceCreditSpecifications {
			id, credits := aws.ToString(spec.InstanceId), aws.ToString(spec.CpuCredits)
			fail := func(code types.UnsuccessfulInstanceCreditSpecificationErrorCode, message string) {
				out.UnsuccessfulInstanceCreditSpecifications = append(out.UnsuccessfulInstanceCreditSpecifications, types.UnsuccessfulInstanceCreditSpecificationItem{
					InstanceId: aws.String(id), Error: &types.UnsuccessfulInstanceCreditSpecificationItemError{Code: code, Message: aws.String(message)}})
			}
			if credits != "standard" && credits != "unlimited" {
				return errInvalid("Value (%s) for parameter cpuCredits is invalid. Valid values: standard, unlimited", credits)
			}
			var i instance
			switch err := tx.Get(s.Key(kindInstance, id), &i); {
			case isNotFound(err):
				fail(types.UnsuccessfulInstanceCreditSpecificationErrorCodeInstanceNotFound, "The instance ID '"+id+"' does not exist")
				continue
			case err != nil:
				return err
			case !aws.ToBool(typeInfo(i.Instance.InstanceType).BurstablePerformanceSupported):
				fail(types.UnsuccessfulInstanceCreditSpecificationErrorCodeInstanceCreditSpecificationNotSupported, "The instance "+id+" is not a burstable performance instance.")
				continue
			case i.Instance.State.Name == types.InstanceStateNameTerminated:
				fail(types.UnsuccessfulInstanceCreditSpecificationErrorCodeIncorrectInstanceState, "The instance '"+id+"' is terminated.")
				continue
			}
			i.CpuCredits = credits
			if err := putInstance(tx, s, i); err != nil {
				return err
			}
			out.SuccessfulInstanceCreditSpecifications = append(out.SuccessfulInstanceCreditSpecifications, types.SuccessfulInstanceCreditSpecificationItem{InstanceId: aws.String(id)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeInstanceStatus reports the status checks of instances: a
// record always passes them. Only running instances are listed unless
// IncludeAllInstances is set.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html
func (b *Backend) DescribeInstanceStatus(ctx context.Context, in *ec2api.DescribeInstanceStatusInput) (*ec2api.DescribeInstanceStatusOutput, error) {
	var found []instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		found, err = all[instance](tx, s, kindInstance, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	if found, err = selected(found, in.InstanceIds, in.Filters, instanceFilter); err != nil {
		return nil, err
	}
	found = slices.DeleteFunc(found, func(i instance) bool {
		return !aws.ToBool(in.IncludeAllInstances) && i.Instance.State.Name != types.InstanceStateNameRunning
	})
	page, next, err := page(found, instanceFilter.id, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceStatusOutput{InstanceStatuses: []types.InstanceStatus{}, NextToken: next}
	for _, i := range page {
		st := types.InstanceStatus{InstanceId: i.Instance.InstanceId, InstanceState: i.Instance.State,
			AvailabilityZone: i.Instance.Placement.AvailabilityZone, AvailabilityZoneId: i.Instance.Placement.AvailabilityZoneId,
			Events: []types.InstanceStatusEvent{}}
		summary := func() *types.InstanceStatusSummary {
			if i.Instance.State.Name != types.InstanceStateNameRunning {
				return &types.InstanceStatusSummary{Status: types.SummaryStatusNotApplicable, Details: []types.InstanceStatusDetails{}}
			}
			return &types.InstanceStatusSummary{Status: types.SummaryStatusOk, Details: []types.InstanceStatusDetails{{
				Name: types.StatusNameReachability, Status: types.StatusTypePassed}}}
		}
		st.InstanceStatus, st.SystemStatus = summary(), summary()
		out.InstanceStatuses = append(out.InstanceStatuses, st)
	}
	return out, nil
}
