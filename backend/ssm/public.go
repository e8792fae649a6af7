package ssm

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"berth/backend"
	"berth/backend/ec2"
)

// The AWS public parameters: read-only, in every region, under
// /aws/service/. berth serves those that ECS stacks read: the
// ECS-optimized AMIs with their metadata, the latest Amazon Linux AMIs and
// the AWS for Fluent Bit image. Each AMI they name is the newest of its
// line in EC2's image catalogue, so DescribeImages knows it; the agent and
// runtime versions are plausible, not the ones AWS publishes today.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html
// https://docs.aws.amazon.com/linux/al2023/ug/ec2.html
const publicRoot = "/aws/service/"

// isPublic reports whether name is under the public namespace.
func isPublic(name string) bool { return strings.HasPrefix(name, publicRoot) }

// arnScope is the scope of a parameter's ARN: a public parameter's has no
// account.
func arnScope(s backend.Scope, name string) backend.Scope {
	if isPublic(name) {
		return backend.Scope{Region: s.Region}
	}
	return s
}

// ecsImage is an ECS-optimized AMI variant: its parameter path under
// /aws/service/ecs/optimized-ami/, the image line it follows (an image name
// prefix and an architecture) and what its metadata says.
type ecsImage struct {
	path, prefix   string
	arch           ec2types.ArchitectureValues
	os, runtime    string
	source, suffix string // the source image name, with %s for the release
}

var ecsImages = []ecsImage{
	{"amazon-linux-2", "amzn2-ami-ecs-hvm-2.0.", ec2types.ArchitectureValuesX8664, "Amazon Linux 2", "Docker version 20.10.25", "amzn2-ami-minimal-hvm-2.0.%s.0-x86_64-ebs", ""},
	{"amazon-linux-2/arm64", "amzn2-ami-ecs-hvm-2.0.", ec2types.ArchitectureValuesArm64, "Amazon Linux 2", "Docker version 20.10.25", "amzn2-ami-minimal-hvm-2.0.%s.0-arm64-ebs", ""},
	{"amazon-linux-2/gpu", "amzn2-ami-ecs-gpu-hvm-2.0.", ec2types.ArchitectureValuesX8664, "Amazon Linux 2", "Docker version 20.10.25", "amzn2-ami-minimal-hvm-2.0.%s.0-x86_64-ebs", ""},
	{"amazon-linux-2023", "al2023-ami-ecs-hvm-2023.0.", ec2types.ArchitectureValuesX8664, "Amazon Linux 2023", "Docker version 25.0.3", "al2023-ami-minimal-2023.4.%s.0-kernel-6.1-x86_64", ""},
	{"amazon-linux-2023/arm64", "al2023-ami-ecs-hvm-2023.0.", ec2types.ArchitectureValuesArm64, "Amazon Linux 2023", "Docker version 25.0.3", "al2023-ami-minimal-2023.4.%s.0-kernel-6.1-arm64", ""},
}

// agentVersions is the ECS agent of each release of the catalogue.
var agentVersions = map[string]string{"20240409": "1.82.2", "20240515": "1.82.4"}

// latestImages are the parameters of /aws/service/ami-amazon-linux-latest/
// and the image lines they follow.
var latestImages = []struct {
	name, prefix string
	arch         ec2types.ArchitectureValues
}{
	{"al2023-ami-kernel-default-x86_64", "al2023-ami-2023.", ec2types.ArchitectureValuesX8664},
	{"al2023-ami-kernel-6.1-x86_64", "al2023-ami-2023.", ec2types.ArchitectureValuesX8664},
	{"al2023-ami-kernel-default-arm64", "al2023-ami-2023.", ec2types.ArchitectureValuesArm64},
	{"al2023-ami-kernel-6.1-arm64", "al2023-ami-2023.", ec2types.ArchitectureValuesArm64},
	{"amzn2-ami-hvm-x86_64-gp2", "amzn2-ami-hvm-2.0.", ec2types.ArchitectureValuesX8664},
	{"amzn2-ami-hvm-arm64-gp2", "amzn2-ami-hvm-2.0.", ec2types.ArchitectureValuesArm64},
	{"amzn2-ami-kernel-5.10-hvm-x86_64-gp2", "amzn2-ami-kernel-5.10-hvm-2.0.", ec2types.ArchitectureValuesX8664},
	{"amzn2-ami-kernel-5.10-hvm-arm64-gp2", "amzn2-ami-kernel-5.10-hvm-2.0.", ec2types.ArchitectureValuesArm64},
}

// fluentBit are the AWS for Fluent Bit releases: the latest and the
// stable one.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-using-fluentbit.html
var fluentBit = map[string]string{"latest": "2.32.2.20240516", "stable": "2.31.12.20231011"}

var imageVersion = regexp.MustCompile(`\d+\.\d+\.(\d{8})`)

// newest is the newest image of a line: its name begins with prefix, it
// is built for arch. It returns how many releases the line has, which
// stands for the parameter's version.
func newest(images []ec2types.Image, prefix string, arch ec2types.ArchitectureValues) (ec2types.Image, int64) {
	var best ec2types.Image
	var n int64
	for _, img := range images {
		if strings.HasPrefix(*img.Name, prefix) && img.Architecture == arch {
			n++
			if best.CreationDate == nil || *img.CreationDate > *best.CreationDate {
				best = img
			}
		}
	}
	return best, n
}

// publicParameters are the public parameters of a region, by name.
func publicParameters(region string) []parameter {
	images := ec2.PublicImages(region)
	var out []parameter
	add := func(name, value, dataType string, n int64, modified time.Time) {
		out = append(out, parameter{Name: name, Versions: []version{{
			Version: n, Value: value, Type: types.ParameterTypeString, Tier: types.ParameterTierStandard,
			DataType: dataType, Modified: modified, User: "",
		}}})
	}
	created := func(img ec2types.Image) time.Time {
		t, _ := time.Parse("2006-01-02T15:04:05.000Z", aws.ToString(img.CreationDate))
		return t
	}
	for _, e := range ecsImages {
		img, n := newest(images, e.prefix, e.arch)
		m := imageVersion.FindStringSubmatch(*img.Name)
		doc := map[string]any{
			"ecs_agent_version": agentVersions[m[1]], "ecs_runtime_version": e.runtime, "image_id": *img.ImageId,
			"image_name": *img.Name, "image_version": m[0], "os": e.os, "schema_version": 1,
			"source_image_name": strings.Replace(e.source, "%s", m[1], 1),
		}
		body, _ := json.Marshal(doc) // keys sorted, as AWS lists them
		path := publicRoot + "ecs/optimized-ami/" + e.path + "/recommended"
		add(path, string(body), dataTypeText, n, created(img))
		for key, v := range doc {
			s, ok := v.(string)
			if !ok {
				s = "1"
			}
			add(path+"/"+key, s, dataTypeText, n, created(img))
		}
	}
	for _, l := range latestImages {
		img, n := newest(images, l.prefix, l.arch)
		add(publicRoot+"ami-amazon-linux-latest/"+l.name, *img.ImageId, dataTypeImage, n, created(img))
	}
	for tag, release := range fluentBit {
		image := "906394416424.dkr.ecr." + region + ".amazonaws.com/aws-for-fluent-bit:" + release
		modified, _ := time.Parse("20060102", release[len(release)-8:])
		add(publicRoot+"aws-for-fluent-bit/"+tag, image, dataTypeText, 1, modified)
		add(publicRoot+"aws-for-fluent-bit/"+release, image, dataTypeText, 1, modified)
	}
	slices.SortFunc(out, func(a, b parameter) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// publicParameter is the public parameter name, if there is one.
func publicParameter(region, name string) (*parameter, bool) {
	if !isPublic(name) {
		return nil, false
	}
	all := publicParameters(region)
	i := slices.IndexFunc(all, func(p parameter) bool { return p.Name == name })
	if i < 0 {
		return nil, false
	}
	return &all[i], true
}
