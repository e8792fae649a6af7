package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
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

// Images are a fixed catalogue of the public images people look up by
// name: the ECS-optimized Amazon Linux 2 (and its GPU variant, x86_64
// only) and 2023 images, Amazon Linux 2023 and 2 (kernels 4.14 and 5.10),
// and Canonical's Ubuntu 22.04 and 24.04, each for x86_64 and arm64, in
// two releases so that most_recent has a choice. Systems Manager's public
// parameters name the newest of the Amazon ones. Their names
// follow the patterns AWS and Canonical publish, but the ids, release
// dates and snapshot ids are berth's own (an id is derived from the
// region and the name), not the ones AWS serves today; nothing boots
// from them. Every region has the whole catalogue.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
// https://docs.aws.amazon.com/linux/al2023/ug/ec2.html
// https://documentation.ubuntu.com/aws/en/latest/aws-how-to/instances/find-ubuntu-images/

// Image owners: the accounts that publish the images, as DescribeImages
// shows them.
const (
	ownerAmazonECS   = "591542846629" // the ECS-optimized images
	ownerAmazonLinux = "137112412989" // Amazon Linux
	ownerCanonical   = "099720109477" // Ubuntu
)

// imageLine is one line of images: every release of it for every
// architecture.
type imageLine struct {
	name, description string // with %[1]s for the release, %[2]s for the architecture's name
	owner, alias      string
	arm, x86          string // the architecture's name in the image name
	rootDevice        string
	volumeSize        int32
	volumeType        types.VolumeType
	bootMode          types.BootModeValues
	imdsV2            bool
	releases          []string // yyyymmdd
	x86Only           bool     // no arm64 build (the GPU images)
}

var imageLines = []imageLine{
	{name: "amzn2-ami-ecs-hvm-2.0.%[1]s-%[2]s-ebs", description: "Amazon Linux AMI 2.0.%[1]s %[2]s ECS HVM EBS",
		owner: ownerAmazonECS, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 30,
		volumeType: types.VolumeTypeGp2, releases: []string{"20240409", "20240515"}},
	{name: "amzn2-ami-ecs-gpu-hvm-2.0.%[1]s-%[2]s-ebs", description: "Amazon Linux AMI 2.0.%[1]s %[2]s ECS HVM GP2 EBS",
		owner: ownerAmazonECS, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 30,
		volumeType: types.VolumeTypeGp2, releases: []string{"20240409", "20240515"}, x86Only: true},
	{name: "al2023-ami-ecs-hvm-2023.0.%[1]s-kernel-6.1-%[2]s", description: "Amazon Linux AMI 2023.0.%[1]s %[2]s ECS HVM EBS",
		owner: ownerAmazonECS, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 30,
		volumeType: types.VolumeTypeGp3, bootMode: types.BootModeValuesUefiPreferred, imdsV2: true, releases: []string{"20240409", "20240515"}},
	{name: "al2023-ami-2023.4.%[1]s.0-kernel-6.1-%[2]s", description: "Amazon Linux 2023 AMI 2023.4.%[1]s.0 %[2]s HVM kernel-6.1",
		owner: ownerAmazonLinux, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 8,
		volumeType: types.VolumeTypeGp3, bootMode: types.BootModeValuesUefiPreferred, imdsV2: true, releases: []string{"20240416", "20240513"}},
	{name: "amzn2-ami-kernel-5.10-hvm-2.0.%[1]s.0-%[2]s-gp2", description: "Amazon Linux 2 Kernel 5.10 AMI 2.0.%[1]s.0 %[2]s HVM gp2",
		owner: ownerAmazonLinux, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 8,
		volumeType: types.VolumeTypeGp2, releases: []string{"20240412", "20240503"}},
	{name: "amzn2-ami-hvm-2.0.%[1]s.0-%[2]s-gp2", description: "Amazon Linux 2 AMI 2.0.%[1]s.0 %[2]s HVM gp2",
		owner: ownerAmazonLinux, alias: "amazon", arm: "arm64", x86: "x86_64", rootDevice: "/dev/xvda", volumeSize: 8,
		volumeType: types.VolumeTypeGp2, releases: []string{"20240412", "20240503"}},
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-%[2]s-server-%[1]s", description: "Canonical, Ubuntu, 22.04 LTS, %[2]s jammy image build on %[1]s",
		owner: ownerCanonical, arm: "arm64", x86: "amd64", rootDevice: "/dev/sda1", volumeSize: 8,
		volumeType: types.VolumeTypeGp2, releases: []string{"20240411", "20240501"}},
	{name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-%[2]s-server-%[1]s", description: "Canonical, Ubuntu, 24.04 LTS, %[2]s noble image build on %[1]s",
		owner: ownerCanonical, arm: "arm64", x86: "amd64", rootDevice: "/dev/sda1", volumeSize: 8,
		volumeType: types.VolumeTypeGp3, releases: []string{"20240423", "20240523"}},
}

// PublicImages is a region's catalogue, oldest release first: the images
// DescribeImages serves, which Systems Manager's public parameters name.
func PublicImages(region string) []types.Image { return images(region) }

// images is a region's catalogue.
func images(region string) []types.Image {
	var out []types.Image
	for _, l := range imageLines {
		for _, release := range l.releases {
			for _, arch := range []types.ArchitectureValues{types.ArchitectureValuesX8664, types.ArchitectureValuesArm64} {
				if l.x86Only && arch == types.ArchitectureValuesArm64 {
					continue
				}
				archName := map[bool]string{true: l.arm, false: l.x86}[arch == types.ArchitectureValuesArm64]
				name := fmt.Sprintf(l.name, release, archName)
				created := release[:4] + "-" + release[4:6] + "-" + release[6:] + "T21:30:00.000Z"
				img := types.Image{
					ImageId: aws.String("ami-" + digest(17, region, name)), Name: aws.String(name),
					Description: aws.String(fmt.Sprintf(l.description, release, archName)), OwnerId: aws.String(l.owner),
					ImageLocation: aws.String(map[bool]string{true: "amazon", false: l.owner}[l.alias != ""] + "/" + name),
					Architecture:  arch, CreationDate: aws.String(created), Public: aws.Bool(true), State: types.ImageStateAvailable,
					ImageType: types.ImageTypeValuesMachine, Hypervisor: types.HypervisorTypeXen, VirtualizationType: types.VirtualizationTypeHvm,
					RootDeviceName: aws.String(l.rootDevice), RootDeviceType: types.DeviceTypeEbs, EnaSupport: aws.Bool(true),
					SriovNetSupport: aws.String("simple"), PlatformDetails: aws.String("Linux/UNIX"), UsageOperation: aws.String("RunInstances"),
					BootMode: l.bootMode, ProductCodes: []types.ProductCode{}, Tags: []types.Tag{},
					BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String(l.rootDevice), Ebs: &types.EbsBlockDevice{
						DeleteOnTermination: aws.Bool(true), Encrypted: aws.Bool(false), SnapshotId: aws.String("snap-" + digest(17, region, "snapshot", name)),
						VolumeSize: aws.Int32(l.volumeSize), VolumeType: l.volumeType,
					}}},
				}
				if l.alias != "" {
					img.ImageOwnerAlias = aws.String(l.alias)
				}
				if l.imdsV2 {
					img.ImdsSupport = types.ImdsSupportValuesV20
				}
				if l.volumeType == types.VolumeTypeGp3 {
					img.BlockDeviceMappings[0].Ebs.Iops, img.BlockDeviceMappings[0].Ebs.Throughput = aws.Int32(3000), aws.Int32(125)
				}
				out = append(out, img)
			}
		}
	}
	return out
}

// digest is n hex digits that stand for the parts, the same every time.
func digest(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:n]
}

// image is the catalogue's image id, if it has it.
func image(region, id string) (types.Image, bool) {
	all := images(region)
	i := slices.IndexFunc(all, func(img types.Image) bool { return *img.ImageId == id })
	if i < 0 {
		return types.Image{}, false
	}
	return all[i], true
}

var imageFilter = filter[types.Image]{
	id:   func(i types.Image) string { return *i.ImageId },
	tags: func(i types.Image) []types.Tag { return i.Tags },
	fields: map[string]func(types.Image) []string{
		"architecture":        func(i types.Image) []string { return []string{string(i.Architecture)} },
		"description":         func(i types.Image) []string { return str(i.Description) },
		"ena-support":         func(i types.Image) []string { return boolean(i.EnaSupport) },
		"hypervisor":          func(i types.Image) []string { return []string{string(i.Hypervisor)} },
		"image-id":            func(i types.Image) []string { return str(i.ImageId) },
		"image-type":          func(i types.Image) []string { return []string{string(i.ImageType)} },
		"is-public":           func(i types.Image) []string { return boolean(i.Public) },
		"manifest-location":   func(i types.Image) []string { return str(i.ImageLocation) },
		"name":                func(i types.Image) []string { return str(i.Name) },
		"owner-alias":         func(i types.Image) []string { return str(i.ImageOwnerAlias) },
		"owner-id":            func(i types.Image) []string { return str(i.OwnerId) },
		"platform-details":    func(i types.Image) []string { return str(i.PlatformDetails) },
		"root-device-name":    func(i types.Image) []string { return str(i.RootDeviceName) },
		"root-device-type":    func(i types.Image) []string { return []string{string(i.RootDeviceType)} },
		"state":               func(i types.Image) []string { return []string{string(i.State)} },
		"usage-operation":     func(i types.Image) []string { return str(i.UsageOperation) },
		"virtualization-type": func(i types.Image) []string { return []string{string(i.VirtualizationType)} },
		"creation-date":       func(i types.Image) []string { return str(i.CreationDate) },
		"boot-mode":           func(i types.Image) []string { return []string{string(i.BootMode)} },
		"block-device-mapping.device-name": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return m.DeviceName })
		},
		"block-device-mapping.snapshot-id": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return m.Ebs.SnapshotId })
		},
		"block-device-mapping.volume-type": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return aws.String(string(m.Ebs.VolumeType)) })
		},
		"block-device-mapping.volume-size": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return aws.String(strconv.Itoa(int(*m.Ebs.VolumeSize))) })
		},
		"block-device-mapping.delete-on-termination": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return aws.String(boolean(m.Ebs.DeleteOnTermination)[0]) })
		},
		"block-device-mapping.encrypted": func(i types.Image) []string {
			return each(i.BlockDeviceMappings, func(m types.BlockDeviceMapping) *string { return aws.String(boolean(m.Ebs.Encrypted)[0]) })
		},
	},
}

var imageID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// DescribeImages lists the catalogue's images: those of the owners given
// (account ids, or the aliases amazon, aws-marketplace and self; any
// owner when none is), with the ids given, passing the filters.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
func (b *Backend) DescribeImages(ctx context.Context, in *ec2api.DescribeImagesInput) (*ec2api.DescribeImagesOutput, error) {
	for _, id := range in.ImageIds {
		if !imageID.MatchString(id) {
			return nil, awsproto.ClientError("InvalidAMIID.Malformed", "Invalid id: \"%s\"", id)
		}
	}
	s := backend.ScopeFrom(ctx)
	load := func(*sqlite.Tx, backend.Scope) ([]types.Image, error) {
		return slices.DeleteFunc(images(s.Region), func(i types.Image) bool {
			return len(in.Owners) > 0 && !slices.ContainsFunc(in.Owners, func(o string) bool {
				return o == *i.OwnerId || o == aws.ToString(i.ImageOwnerAlias) || o == "self" && s.Account == *i.OwnerId
			})
		}), nil
	}
	for _, id := range in.ImageIds {
		if _, ok := image(s.Region, id); !ok {
			return nil, awsproto.ClientError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
		}
	}
	out, next, err := describe(ctx, b, load, imageFilter, in.ImageIds, in.Filters, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeImagesOutput{Images: backend.OrEmpty(out), NextToken: next}, nil
}
