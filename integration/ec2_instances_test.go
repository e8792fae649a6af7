package integration

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ecsImage looks up the newest ECS-optimized Amazon Linux 2 image for
// x86_64 as Terraform's aws_ami does: owned by amazon, by name pattern.
// The pattern is the one the ECS guide gives for these images.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
func ecsImage(t *testing.T, ctx context.Context, c clients) types.Image {
	t.Helper()
	images := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{filter("name", "amzn2-ami-ecs-hvm-*-x86_64-ebs"), filter("virtualization-type", "hvm")}})).must(t).Images
	if len(images) == 0 {
		t.Fatal("no ECS-optimized Amazon Linux 2 image")
	}
	newest := images[0]
	for _, img := range images {
		if *img.CreationDate > *newest.CreationDate {
			newest = img
		}
	}
	return newest
}

// TestEC2Images finds the public images people look up by owner and name
// pattern, and checks EC2's refusals of image ids.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
func TestEC2Images(t *testing.T) {
	ctx, c := setup(t)
	img := ecsImage(t, ctx, c)
	// An EBS-backed HVM image, its root device one of its block devices.
	if img.Architecture != types.ArchitectureValuesX8664 || aws.ToString(img.ImageOwnerAlias) != "amazon" || img.RootDeviceType != types.DeviceTypeEbs ||
		len(img.BlockDeviceMappings) == 0 || aws.ToString(img.BlockDeviceMappings[0].DeviceName) != aws.ToString(img.RootDeviceName) ||
		img.State != types.ImageStateAvailable || !aws.ToBool(img.Public) {
		t.Fatalf("ECS-optimized image = %+v", img)
	}
	arm := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []types.Filter{filter("name", "al2023-ami-ecs-hvm-*"), filter("architecture", "arm64")}})).must(t).Images
	if len(arm) == 0 {
		t.Fatal("no ECS-optimized Amazon Linux 2023 image for arm64")
	}
	for _, i := range arm {
		if i.Architecture != types.ArchitectureValuesArm64 {
			t.Fatalf("architecture filter let through %+v", i)
		}
	}
	// Canonical publishes Ubuntu under account 099720109477.
	// https://documentation.ubuntu.com/aws/en/latest/aws-how-to/instances/find-ubuntu-images/
	ubuntu := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"099720109477"},
		Filters: []types.Filter{filter("name", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*")}})).must(t).Images
	if len(ubuntu) == 0 || aws.ToString(ubuntu[0].OwnerId) != "099720109477" {
		t.Fatalf("Ubuntu 24.04 images = %+v", ubuntu)
	}
	if mine := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})).must(t).Images; len(mine) != 0 {
		t.Fatalf("images of my own = %+v", mine)
	}
	byID := try(c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*img.ImageId}})).must(t).Images
	if len(byID) != 1 || *byID[0].Name != *img.Name {
		t.Fatalf("DescribeImages by id = %+v", byID)
	}
	_, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	wantEC2Code(t, err, "InvalidAMIID.NotFound")
	_, err = c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"image-1"}})
	wantEC2Code(t, err, "InvalidAMIID.Malformed")
	_, err = c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
	wantEC2Code(t, err, "InvalidParameterValue")
}

// TestEC2InstanceRecord launches an instance as Terraform's aws_instance
// does and reads it back: its root volume per the image's block device
// mapping as the request changes it, its public address in a default
// subnet, its attributes one at a time, its credit option, and how
// termination protection, stopping and resizing work.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceAttribute.html
func TestEC2InstanceRecord(t *testing.T) {
	ctx, c := setup(t)
	img := ecsImage(t, ctx, c)
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho hello\n"))
	run := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, UserData: aws.String(userData),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: img.RootDeviceName, Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(40), VolumeType: types.VolumeTypeGp3}}},
		MetadataOptions:     &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("root")}}}}})).must(t).Instances[0]
	id := *run.InstanceId
	w := ec2.NewInstanceRunningWaiter(c.ec2, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	inst := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).must(t).Reservations[0].Instances[0]
	// Default subnets give instances a public address: MapPublicIpOnLaunch.
	// https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html
	if inst.PublicIpAddress == nil || aws.ToString(inst.RootDeviceName) != aws.ToString(img.RootDeviceName) || len(inst.BlockDeviceMappings) != 1 ||
		inst.MetadataOptions.HttpTokens != types.HttpTokensStateRequired || len(inst.NetworkInterfaces) != 1 ||
		aws.ToString(inst.NetworkInterfaces[0].PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) || inst.CpuOptions == nil {
		t.Fatalf("instance = %+v", inst)
	}
	volumeID := *inst.BlockDeviceMappings[0].Ebs.VolumeId
	vols := try(c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{filter("attachment.instance-id", id)}})).must(t).Volumes
	// gp3 has a baseline of 3,000 IOPS and 125 MiB/s.
	// https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type
	if len(vols) != 1 || *vols[0].VolumeId != volumeID || aws.ToInt32(vols[0].Size) != 40 || vols[0].VolumeType != types.VolumeTypeGp3 ||
		aws.ToInt32(vols[0].Iops) != 3000 || aws.ToInt32(vols[0].Throughput) != 125 || vols[0].State != types.VolumeStateInUse ||
		!aws.ToBool(vols[0].Attachments[0].DeleteOnTermination) || aws.ToString(vols[0].Tags[0].Value) != "root" {
		t.Fatalf("root volume = %+v", vols)
	}

	attr := func(name types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		t.Helper()
		return try(c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: name})).must(t)
	}
	if v := attr(types.InstanceAttributeNameUserData).UserData; aws.ToString(v.Value) != userData {
		t.Fatalf("userData = %+v", v)
	}
	if v := attr(types.InstanceAttributeNameDisableApiTermination).DisableApiTermination; aws.ToBool(v.Value) {
		t.Fatalf("disableApiTermination = %+v", v)
	}
	if v := attr(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "stop" {
		t.Fatalf("instanceInitiatedShutdownBehavior = %+v", v)
	}
	if v := attr(types.InstanceAttributeNameSourceDestCheck).SourceDestCheck; !aws.ToBool(v.Value) {
		t.Fatalf("sourceDestCheck = %+v", v)
	}
	_, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "colour"})
	wantEC2Code(t, err, "InvalidParameterValue")
	_, err = c.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-0123456789abcdef0"), Attribute: types.InstanceAttributeNameUserData})
	wantEC2Code(t, err, "InvalidInstanceID.NotFound")

	// T3 instances launch unlimited.
	// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-unlimited-mode-concepts.html
	credits := func() string {
		t.Helper()
		out := try(c.ec2.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{id}})).must(t)
		return aws.ToString(out.InstanceCreditSpecifications[0].CpuCredits)
	}
	if got := credits(); got != "unlimited" {
		t.Fatalf("credit option = %s", got)
	}
	mod := try(c.ec2.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{
		{InstanceId: aws.String(id), CpuCredits: aws.String("standard")}, {InstanceId: aws.String("i-0123456789abcdef0"), CpuCredits: aws.String("standard")}}})).must(t)
	if len(mod.SuccessfulInstanceCreditSpecifications) != 1 || len(mod.UnsuccessfulInstanceCreditSpecifications) != 1 ||
		mod.UnsuccessfulInstanceCreditSpecifications[0].Error.Code != types.UnsuccessfulInstanceCreditSpecificationErrorCodeInstanceNotFound || credits() != "standard" {
		t.Fatalf("ModifyInstanceCreditSpecification = %+v, now %s", mod, credits())
	}

	// Termination protection refuses TerminateInstances.
	try(c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}})).must(t)
	_, err = c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	wantEC2Code(t, err, "OperationNotPermitted")
	try(c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
		Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("false")})).must(t)

	// The instance type changes only while the instance is stopped.
	// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/change-instance-type-of-ebs-backed-instance.html
	resize := &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}}
	_, err = c.ec2.ModifyInstanceAttribute(ctx, resize)
	wantEC2Code(t, err, "IncorrectInstanceState")
	try(c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})).must(t)
	stopped := ec2.NewInstanceStoppedWaiter(c.ec2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, stopped.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	try(c.ec2.ModifyInstanceAttribute(ctx, resize)).must(t)
	try(c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})).must(t)
	try(0, w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	inst = try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).must(t).Reservations[0].Instances[0]
	if inst.InstanceType != types.InstanceTypeT3Small || inst.PublicIpAddress == nil {
		t.Fatalf("restarted instance = %+v", inst)
	}
	options := try(c.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String(id),
		HttpPutResponseHopLimit: aws.Int32(2)})).must(t).InstanceMetadataOptions
	if options.State != types.InstanceMetadataOptionsStatePending || aws.ToInt32(options.HttpPutResponseHopLimit) != 2 {
		t.Fatalf("ModifyInstanceMetadataOptions = %+v", options)
	}
	statuses := try(c.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})).must(t).InstanceStatuses
	if len(statuses) != 1 || statuses[0].InstanceStatus.Status != types.SummaryStatusOk {
		t.Fatalf("DescribeInstanceStatus = %+v", statuses)
	}

	// Terminating deletes the root volume, as DeleteOnTermination says.
	try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})).must(t)
	gone := ec2.NewInstanceTerminatedWaiter(c.ec2, func(o *ec2.InstanceTerminatedWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	try(0, gone.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, time.Minute)).must(t)
	_, err = c.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volumeID}})
	wantEC2Code(t, err, "InvalidVolume.NotFound")
	_, err = c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	wantEC2Code(t, err, "IncorrectInstanceState")

	// A root volume smaller than the image's snapshot is refused.
	_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: img.RootDeviceName, Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(1)}}}})
	wantEC2Code(t, err, "InvalidBlockDeviceMapping")
	_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("not-an-image"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantEC2Code(t, err, "InvalidAMIID.Malformed")
	_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeM5Large, CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}})
	wantEC2Code(t, err, "InstanceCreditSpecification.NotSupported")
}

// TestEC2ElasticIPOnInstance associates an Elastic IP address with an
// instance, which then shows it as its public address, and moves it back.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateAddress.html
func TestEC2ElasticIPOnInstance(t *testing.T) {
	ctx, c := setup(t)
	id := *try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: ecsImage(t, ctx, c).ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).must(t).Instances[0].InstanceId
	eip := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	assoc := try(c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(id)})).must(t).AssociationId
	inst := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).must(t).Reservations[0].Instances[0]
	addr := try(c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{filter("instance-id", id)}})).must(t).Addresses
	if aws.ToString(inst.PublicIpAddress) != *eip.PublicIp || len(addr) != 1 || aws.ToString(addr[0].AssociationId) != aws.ToString(assoc) {
		t.Fatalf("instance with an Elastic IP = %+v, addresses %+v", inst, addr)
	}
	other := *try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: inst.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).must(t).Instances[0].InstanceId
	// Reassociation is automatic unless AllowReassociation is false.
	_, err := c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(other), AllowReassociation: aws.Bool(false)})
	wantEC2Code(t, err, "Resource.AlreadyAssociated")
	try(c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc})).must(t)
	_, err = c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc})
	wantEC2Code(t, err, "InvalidAssociationID.NotFound")
	inst = try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})).must(t).Reservations[0].Instances[0]
	if inst.PublicIpAddress == nil || *inst.PublicIpAddress == *eip.PublicIp {
		t.Fatalf("instance after disassociation = %+v", inst)
	}
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})).must(t)
	try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id, other}})).must(t)
}

// TestEC2LaunchTemplates keeps launch templates in versions as the EC2
// API reference describes: the first version is the default, a new
// version inherits its source's data, $Latest and $Default resolve, the
// default version cannot be deleted alone, and RunInstances launches from
// a template with its own parameters on top.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplateVersions.html
func TestEC2LaunchTemplates(t *testing.T) {
	ctx, c := setup(t)
	img := ecsImage(t, ctx, c)
	lt := try(c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("hosts"),
		VersionDescription: aws.String("first"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: img.ImageId, InstanceType: types.InstanceTypeT3Small,
			MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateRequired},
			TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance,
				Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("host")}}}}},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}}},
	})).must(t).LaunchTemplate
	if aws.ToInt64(lt.DefaultVersionNumber) != 1 || aws.ToInt64(lt.LatestVersionNumber) != 1 || len(lt.Tags) != 1 {
		t.Fatalf("CreateLaunchTemplate = %+v", lt)
	}
	_, err := c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("hosts"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: img.ImageId}})
	wantEC2Code(t, err, "InvalidLaunchTemplateName.AlreadyExistsException")
	_, err = c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("no spaces allowed"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{}})
	wantEC2Code(t, err, "InvalidLaunchTemplateName.MalformedException")

	v2 := try(c.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("hosts"),
		SourceVersion: aws.String("1"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: types.InstanceTypeT3Medium}})).must(t).LaunchTemplateVersion
	if aws.ToInt64(v2.VersionNumber) != 2 || aws.ToBool(v2.DefaultVersion) || aws.ToString(v2.LaunchTemplateData.ImageId) != *img.ImageId ||
		v2.LaunchTemplateData.InstanceType != types.InstanceTypeT3Medium || v2.LaunchTemplateData.MetadataOptions.HttpTokens != types.LaunchTemplateHttpTokensStateRequired {
		t.Fatalf("version 2 = %+v", v2)
	}
	versions := func(vs ...string) []types.LaunchTemplateVersion {
		t.Helper()
		return try(c.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: lt.LaunchTemplateId, Versions: vs})).must(t).LaunchTemplateVersions
	}
	if got := versions("$Latest"); len(got) != 1 || aws.ToInt64(got[0].VersionNumber) != 2 || aws.ToBool(got[0].DefaultVersion) {
		t.Fatalf("$Latest = %+v", got)
	}
	if got := versions("$Default"); len(got) != 1 || aws.ToInt64(got[0].VersionNumber) != 1 || !aws.ToBool(got[0].DefaultVersion) {
		t.Fatalf("$Default = %+v", got)
	}
	if got := versions(); len(got) != 2 {
		t.Fatalf("every version = %+v", got)
	}
	_, err = c.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: lt.LaunchTemplateId, Versions: []string{"9"}})
	wantEC2Code(t, err, "InvalidLaunchTemplateId.VersionNotFound")

	// The default version moves to 2; version 1 can then be deleted, 2 not.
	modified := try(c.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId, DefaultVersion: aws.String("2")})).must(t).LaunchTemplate
	if aws.ToInt64(modified.DefaultVersionNumber) != 2 {
		t.Fatalf("ModifyLaunchTemplate = %+v", modified)
	}
	deleted := try(c.ec2.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: lt.LaunchTemplateId, Versions: []string{"1", "2"}})).must(t)
	if len(deleted.SuccessfullyDeletedLaunchTemplateVersions) != 1 || aws.ToInt64(deleted.SuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber) != 1 ||
		len(deleted.UnsuccessfullyDeletedLaunchTemplateVersions) != 1 || aws.ToInt64(deleted.UnsuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber) != 2 {
		t.Fatalf("DeleteLaunchTemplateVersions = %+v", deleted)
	}

	// RunInstances takes the template's parameters under its own.
	run := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro,
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts"), Version: aws.String("$Latest")}})).must(t).Instances[0]
	if aws.ToString(run.ImageId) != *img.ImageId || run.InstanceType != types.InstanceTypeT3Micro || run.MetadataOptions.HttpTokens != types.HttpTokensStateRequired ||
		!hasTag(run.Tags, "Name", "host") || !hasTag(run.Tags, "aws:ec2launchtemplate:id", *lt.LaunchTemplateId) || !hasTag(run.Tags, "aws:ec2launchtemplate:version", "2") {
		t.Fatalf("instance from the template = %+v", run)
	}
	_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-0123456789abcdef0")}})
	wantEC2Code(t, err, "InvalidLaunchTemplateId.NotFound")

	try(c.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("hosts")})).must(t)
	_, err = c.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"hosts"}})
	wantEC2Code(t, err, "InvalidLaunchTemplateName.NotFoundException")
	_, err = c.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{*lt.LaunchTemplateId}})
	wantEC2Code(t, err, "InvalidLaunchTemplateId.NotFound")
	_, err = c.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"template-1"}})
	wantEC2Code(t, err, "InvalidLaunchTemplateId.Malformed")
	_, err = c.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId})
	wantEC2Code(t, err, "InvalidLaunchTemplateId.NotFound")
	try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*run.InstanceId}})).must(t)
}

func hasTag(tags []types.Tag, key, value string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == key && aws.ToString(t.Value) == value {
			return true
		}
	}
	return false
}

// TestCLILaunchTemplate creates a launch template and reads its default
// version with the aws CLI.
func TestCLILaunchTemplate(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: shared.url, region: newRegion()}
	var created struct{ LaunchTemplate types.LaunchTemplate }
	c.run(&created, "ec2", "create-launch-template", "--launch-template-name", "cli-hosts",
		"--launch-template-data", `{"ImageId":"ami-0123456789abcdef0","InstanceType":"t3.micro"}`)
	var described struct{ LaunchTemplateVersions []types.LaunchTemplateVersion }
	c.run(&described, "ec2", "describe-launch-template-versions", "--launch-template-name", "cli-hosts", "--versions", "$Default")
	if len(described.LaunchTemplateVersions) != 1 || described.LaunchTemplateVersions[0].LaunchTemplateData.InstanceType != types.InstanceTypeT3Micro ||
		aws.ToString(described.LaunchTemplateVersions[0].LaunchTemplateId) != aws.ToString(created.LaunchTemplate.LaunchTemplateId) {
		t.Fatalf("describe-launch-template-versions = %+v", described)
	}
	c.fails("InvalidLaunchTemplateName.AlreadyExistsException", "ec2", "create-launch-template", "--launch-template-name", "cli-hosts",
		"--launch-template-data", `{"InstanceType":"t3.micro"}`)
	c.run(nil, "ec2", "delete-launch-template", "--launch-template-name", "cli-hosts")
	c.fails("InvalidLaunchTemplateName.NotFoundException", "ec2", "describe-launch-templates", "--launch-template-names", "cli-hosts")
}

// TestEC2PublicAddressesNeedGateway: an Elastic IP address is associated
// only in a VPC with an internet gateway (Gateway.NotAttached), and the
// gateway is not detached while the VPC maps public addresses through it
// (DependencyViolation), as EC2 answers both.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
func TestEC2PublicAddressesNeedGateway(t *testing.T) {
	ctx, c := setup(t)
	vpc := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.42.0.0/16")})).must(t).Vpc.VpcId
	subnet := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc, CidrBlock: aws.String("10.42.1.0/24")})).must(t).Subnet.SubnetId
	id := try(c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: ecsImage(t, ctx, c).ImageId, SubnetId: subnet, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})).must(t).Instances[0].InstanceId
	eip := try(c.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})).must(t)
	_, err := c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: id})
	wantEC2Code(t, err, "Gateway.NotAttached")

	igw := try(c.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).must(t).InternetGateway.InternetGatewayId
	try(c.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw, VpcId: vpc})).must(t)
	assoc := try(c.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: id})).must(t).AssociationId
	_, err = c.ec2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igw, VpcId: vpc})
	wantEC2Code(t, err, "DependencyViolation")

	// Unmapped (the subnet gives no public address at launch), it detaches.
	try(c.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: assoc})).must(t)
	try(c.ec2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igw, VpcId: vpc})).must(t)
	try(c.ec2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})).must(t)
	try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*id}})).must(t)
}

// TestRunInstancesIdempotent: RunInstances retried with its client token
// answers the first call's reservation and launches nothing more, as EC2
// does (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
// The SDK gives every RunInstances a token and keeps it on retries: a
// run here once launched twice when an answer was lost and retried.
func TestRunInstancesIdempotent(t *testing.T) {
	ctx, c := setup(t)
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		InstanceType: types.InstanceTypeT3Micro, ClientToken: aws.String("launch-once")}
	first := try(c.ec2.RunInstances(ctx, in)).must(t)
	again := try(c.ec2.RunInstances(ctx, in)).must(t)
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) || len(again.Instances) != 2 ||
		aws.ToString(again.Instances[0].InstanceId) != aws.ToString(first.Instances[0].InstanceId) {
		t.Fatalf("retried RunInstances = %s, first %s", taskJSON(again.Instances), taskJSON(first.Instances))
	}
	all := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})).must(t).Reservations
	if len(all) != 1 || len(all[0].Instances) != 2 {
		t.Fatalf("%d reservations after a retried RunInstances", len(all))
	}
}
