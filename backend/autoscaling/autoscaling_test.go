package autoscaling

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/backend/ec2"
	"berth/sqlite"
)

// fakeTemplates is EC2's DescribeLaunchTemplateVersions over one template
// with two versions, the second the latest and the first the default.
type fakeTemplates struct{}

func (fakeTemplates) DescribeLaunchTemplateVersions(_ context.Context, in *ec2api.DescribeLaunchTemplateVersionsInput) (*ec2api.DescribeLaunchTemplateVersionsOutput, error) {
	if aws.ToString(in.LaunchTemplateId) != "lt-0123456789abcdef0" && aws.ToString(in.LaunchTemplateName) != "hosts" {
		return nil, awsproto.ClientError("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
	}
	number, image := int64(1), "ami-11111111111111111"
	switch in.Versions[0] {
	case "$Latest", "2":
		number, image = 2, "ami-22222222222222222"
	case "$Default", "1":
	default:
		return nil, awsproto.ClientError("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s", in.Versions[0])
	}
	return &ec2api.DescribeLaunchTemplateVersionsOutput{LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{{
		LaunchTemplateId: aws.String("lt-0123456789abcdef0"), LaunchTemplateName: aws.String("hosts"), VersionNumber: aws.Int64(number),
		LaunchTemplateData: &ec2types.ResponseLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro},
	}}}, nil
}

func newTestBackend(t *testing.T) (*Backend, *ec2.Backend, context.Context) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	env := backend.Env{Clock: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }, IDs: &backend.SequentialIDs{}}
	e := ec2.New(store, env)
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "eu-central-1"})
	return New(store, env, untemplated{e}, fakeTemplates{}), e, ctx
}

// untemplated is EC2 launching without the launch template, which exists
// only in fakeTemplates: the group names the template's image and type.
type untemplated struct{ *ec2.Backend }

func (u untemplated) RunInstances(ctx context.Context, in *ec2api.RunInstancesInput) (*ec2api.RunInstancesOutput, error) {
	in.LaunchTemplate = nil
	return u.Backend.RunInstances(ctx, in)
}

// TestLaunchTemplates resolves a group's template in EC2: by name or id,
// at $Default unless named, launching the version's image; one that does
// not exist is refused with Auto Scaling's ValidationError.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateSpecification.html
func TestLaunchTemplates(t *testing.T) {
	b, e, ctx := newTestBackend(t)
	create := func(name string, spec types.LaunchTemplateSpecification) error {
		_, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchTemplate: &spec,
			MinSize: aws.Int32(1), MaxSize: aws.Int32(1), AvailabilityZones: []string{"eu-central-1a"}})
		return err
	}
	for _, c := range []struct {
		spec types.LaunchTemplateSpecification
		want string // an error message, or the image launched
	}{
		{types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}, "ami-11111111111111111"},
		{types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-0123456789abcdef0"), Version: aws.String("$Latest")}, "ami-22222222222222222"},
		{types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("other")}, "The specified launch template, with template name other, does not exist."},
		{types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-00000000000000000")}, "The specified launch template, with template ID lt-00000000000000000, does not exist."},
		{types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts"), Version: aws.String("7")}, "does not have version 7"},
		{types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts"), LaunchTemplateId: aws.String("lt-0123456789abcdef0")}, "but not both"},
	} {
		name := "g-" + aws.ToString(c.spec.LaunchTemplateName) + aws.ToString(c.spec.LaunchTemplateId) + aws.ToString(c.spec.Version)
		err := create(name, c.spec)
		if !strings.HasPrefix(c.want, "ami-") {
			var ae *awsproto.Error
			if !errors.As(err, &ae) || ae.Code != "ValidationError" || !strings.Contains(ae.Message, c.want) {
				t.Errorf("%+v: error = %v, want %q", c.spec, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", c.spec, err)
		}
		g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
		grp := g.AutoScalingGroups[0]
		if aws.ToString(grp.LaunchTemplate.LaunchTemplateId) != "lt-0123456789abcdef0" || aws.ToString(grp.LaunchTemplate.LaunchTemplateName) != "hosts" {
			t.Errorf("group's template = %+v", grp.LaunchTemplate)
		}
		inst := grp.Instances[0]
		out, err := e.DescribeInstances(ctx, &ec2api.DescribeInstancesInput{InstanceIds: []string{*inst.InstanceId}})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.Reservations[0].Instances[0].ImageId); got != c.want || aws.ToString(inst.InstanceType) != "t3.micro" {
			t.Errorf("%+v launched %s (%s), want %s", c.spec, got, aws.ToString(inst.InstanceType), c.want)
		}
	}
}

// TestTerminationOrder takes spare instances from the zone with most of
// the group's instances, never a protected one.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html
func TestTerminationOrder(t *testing.T) {
	b, _, ctx := newTestBackend(t)
	_, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}, MinSize: aws.Int32(0), MaxSize: aws.Int32(3),
		DesiredCapacity: aws.Int32(3), AvailabilityZones: []string{"eu-central-1a", "eu-central-1b"}})
	if err != nil {
		t.Fatal(err)
	}
	count := func() map[string]int {
		g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
		out := map[string]int{}
		for _, i := range g.AutoScalingGroups[0].Instances {
			out[*i.AvailabilityZone]++
		}
		return out
	}
	if c := count(); c["eu-central-1a"] != 2 || c["eu-central-1b"] != 1 {
		t.Fatalf("launched over zones: %v", c)
	}
	if _, err := b.SetDesiredCapacity(ctx, &asapi.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g"), DesiredCapacity: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if c := count(); c["eu-central-1a"] != 1 || c["eu-central-1b"] != 1 {
		t.Fatalf("after scaling in by one: %v", c)
	}
}

// TestFailedLaunch records a launch that EC2 refuses as a failed scaling
// activity; the call that raised the capacity succeeds, as in AWS.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/CHAP_Troubleshooting.html
func TestFailedLaunch(t *testing.T) {
	b, e, ctx := newTestBackend(t)
	vpc, err := e.CreateVpc(ctx, &ec2api.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := e.CreateSubnet(ctx, &ec2api.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.1.1.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}, MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
		VPCZoneIdentifier: sn.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteSubnet(ctx, &ec2api.DeleteSubnetInput{SubnetId: sn.Subnet.SubnetId}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetDesiredCapacity(ctx, &asapi.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g"), DesiredCapacity: aws.Int32(1)}); err != nil {
		t.Fatalf("SetDesiredCapacity with a launch that fails: %v", err)
	}
	out, err := b.DescribeScalingActivities(ctx, &asapi.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Activities) != 1 || out.Activities[0].StatusCode != types.ScalingActivityStatusCodeFailed ||
		!strings.Contains(aws.ToString(out.Activities[0].StatusMessage), "does not exist") {
		t.Fatalf("activities = %+v", out.Activities)
	}
	g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
	if len(g.AutoScalingGroups[0].Instances) != 0 {
		t.Fatalf("instances = %+v", g.AutoScalingGroups[0].Instances)
	}
}
