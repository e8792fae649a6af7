package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestWithTemplate: "Any parameters that you specify in RunInstances
// override the same parameters in the launch template."
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
func TestWithTemplate(t *testing.T) {
	data := &types.ResponseLaunchTemplateData{ImageId: aws.String("ami-1"), InstanceType: types.InstanceTypeT3Small,
		SecurityGroupIds: []string{"sg-1"}, EbsOptimized: aws.Bool(false), UserData: aws.String("dXNlcg=="),
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptions{HttpTokens: types.LaunchTemplateHttpTokensStateRequired,
			State: types.LaunchTemplateInstanceMetadataOptionsStateApplied},
		BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &types.LaunchTemplateEbsBlockDevice{VolumeSize: aws.Int32(30), VolumeType: types.VolumeTypeGp3}}}}
	in := &ec2api.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(2), InstanceType: types.InstanceTypeT3Micro,
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("lt")}}
	got, err := withTemplate(in, data)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ImageId) != "ami-1" || got.InstanceType != types.InstanceTypeT3Micro || aws.ToInt32(got.MaxCount) != 2 ||
		len(got.SecurityGroupIds) != 1 || got.EbsOptimized == nil || *got.EbsOptimized || got.MetadataOptions.HttpTokens != types.HttpTokensStateRequired ||
		aws.ToInt32(got.BlockDeviceMappings[0].Ebs.VolumeSize) != 30 || got.LaunchTemplate != in.LaunchTemplate {
		t.Fatalf("withTemplate = %+v", got)
	}
}

// TestLaunchDevices: a request changes the image's devices by name,
// suppresses them with NoDevice, and is refused a volume smaller than
// the image's snapshot.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-device-mapping-concepts.html
func TestLaunchDevices(t *testing.T) {
	img := types.Image{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{
		SnapshotId: aws.String("snap-1"), VolumeSize: aws.Int32(30), VolumeType: types.VolumeTypeGp2, DeleteOnTermination: aws.Bool(true)}}}}
	got, err := launchDevices(img, []types.BlockDeviceMapping{
		{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(50), VolumeType: types.VolumeTypeGp3}},
		{DeviceName: aws.String("/dev/xvdb"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(100), DeleteOnTermination: aws.Bool(false)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || aws.ToInt32(got[0].Ebs.VolumeSize) != 50 || got[0].Ebs.VolumeType != types.VolumeTypeGp3 || aws.ToString(got[0].Ebs.SnapshotId) != "snap-1" ||
		!aws.ToBool(got[0].Ebs.DeleteOnTermination) || aws.ToBool(got[1].Ebs.DeleteOnTermination) || got[1].Ebs.VolumeType != types.VolumeTypeGp2 {
		t.Fatalf("devices = %+v", got)
	}
	if got, _ := launchDevices(img, []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), NoDevice: aws.String("")}}); len(got) != 0 {
		t.Fatalf("NoDevice left %+v", got)
	}
	if _, err := launchDevices(img, []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}}); errorCode(err) != "InvalidBlockDeviceMapping" {
		t.Fatalf("a volume smaller than its snapshot: %v", err)
	}
}

// TestImages: every image's id is unique in a region and the same each
// time; the catalogue has both architectures of each line but the ECS GPU
// one, which has two x86_64 releases.
func TestImages(t *testing.T) {
	seen := map[string]bool{}
	arches := map[types.ArchitectureValues]int{}
	for _, img := range images("us-east-1") {
		if seen[*img.ImageId] || !imageID.MatchString(*img.ImageId) {
			t.Fatalf("image id %s repeated or malformed", *img.ImageId)
		}
		seen[*img.ImageId] = true
		arches[img.Architecture]++
	}
	if *images("us-east-1")[0].ImageId != *images("us-east-1")[0].ImageId || *images("us-east-1")[0].ImageId == *images("eu-west-1")[0].ImageId {
		t.Fatal("image ids are not the same in a region and different across regions")
	}
	if arches[types.ArchitectureValuesX8664] != arches[types.ArchitectureValuesArm64]+2 {
		t.Fatalf("architectures = %v", arches)
	}
}
