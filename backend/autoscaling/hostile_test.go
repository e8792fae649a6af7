package autoscaling

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// TestHugeDesiredCapacityBounded: a group whose desired capacity is two
// billion launches until EC2 refuses with InstanceLimitExceeded ("You've
// reached the limit on the number of instances you can run concurrently",
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html),
// which Auto Scaling reports as a failed activity, not as an error of the
// call (https://docs.aws.amazon.com/autoscaling/ec2/userguide/CHAP_Troubleshooting.html).
func TestHugeDesiredCapacityBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("launches EC2's quota of instances")
	}
	b, e, ctx := newTestBackend(t)
	vpc, err := e.CreateVpc(ctx, &ec2api.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := e.CreateSubnet(ctx, &ec2api.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("huge"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}, MinSize: aws.Int32(0),
		MaxSize: aws.Int32(2_000_000_000), DesiredCapacity: aws.Int32(2_000_000_000), VPCZoneIdentifier: sn.Subnet.SubnetId})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
	n := len(g.AutoScalingGroups[0].Instances)
	if n == 0 || n > 1000 {
		t.Fatalf("the group launched %d instances", n)
	}
	out, err := b.DescribeScalingActivities(ctx, &asapi.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("huge"), MaxRecords: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if a := out.Activities[0]; a.StatusCode != types.ScalingActivityStatusCodeFailed || !strings.Contains(aws.ToString(a.StatusMessage), "instance limit") {
		t.Fatalf("latest activity = %+v", a)
	}
}

// blockingEC2 holds the RunInstances calls of one group until released,
// and counts the instances stored in that group before each call.
type blockingEC2 struct {
	untemplated
	group   string
	b       *Backend
	started chan struct{}
	release chan struct{}
	once    sync.Once
	stored  []int
}

func (f *blockingEC2) RunInstances(ctx context.Context, in *ec2api.RunInstancesInput) (*ec2api.RunInstancesOutput, error) {
	if aws.ToString(in.TagSpecifications[0].Tags[0].Value) == f.group {
		g, err := f.b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{f.group}})
		if err == nil && len(g.AutoScalingGroups) == 1 {
			f.stored = append(f.stored, len(g.AutoScalingGroups[0].Instances))
		}
		f.once.Do(func() { close(f.started) })
		<-f.release
	}
	return f.untemplated.RunInstances(ctx, in)
}

// TestGroupsScaleSideBySide: a group in the middle of a launch holds up
// no other group's create, and each instance is in its group as soon as
// EC2 has launched it, so a berth killed mid-launch loses none.
func TestGroupsScaleSideBySide(t *testing.T) {
	b, e, ctx := newTestBackend(t)
	f := &blockingEC2{untemplated: untemplated{e}, group: "slow", b: b, started: make(chan struct{}), release: make(chan struct{})}
	b.ec2 = f
	create := func(name string, n int32) error {
		_, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
			LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}, MinSize: aws.Int32(0),
			MaxSize: aws.Int32(n), DesiredCapacity: aws.Int32(n), AvailabilityZones: []string{"eu-central-1a"}})
		return err
	}
	done := make(chan error, 1)
	go func() { done <- create("slow", 3) }()
	<-f.started
	if err := create("quick", 1); err != nil { // would wait for "slow" forever with one lock for all groups
		t.Fatal(err)
	}
	close(f.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2}; len(f.stored) != 3 || f.stored[0] != want[0] || f.stored[1] != want[1] || f.stored[2] != want[2] {
		t.Fatalf("instances stored before each launch = %v, want %v", f.stored, want)
	}
}

// TestRequiredMembers: a request without a member the API reference marks
// Required is refused with ValidationError, not taken as zero (a
// SetDesiredCapacity without DesiredCapacity must not scale a group in to
// nothing). https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html
func TestRequiredMembers(t *testing.T) {
	b, _, ctx := newTestBackend(t)
	spec := &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")}
	if _, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), LaunchTemplate: spec,
		MinSize: aws.Int32(1), MaxSize: aws.Int32(1), AvailabilityZones: []string{"eu-central-1a"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		call   func() error
		member string
	}{
		{func() error {
			_, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("h"), LaunchTemplate: spec,
				MaxSize: aws.Int32(1), AvailabilityZones: []string{"eu-central-1a"}})
			return err
		}, "minSize"},
		{func() error {
			_, err := b.SetDesiredCapacity(ctx, &asapi.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g")})
			return err
		}, "desiredCapacity"},
		{func() error {
			_, err := b.CreateOrUpdateTags(ctx, &asapi.CreateOrUpdateTagsInput{})
			return err
		}, "tags"},
		{func() error {
			_, err := b.TerminateInstanceInAutoScalingGroup(ctx, &asapi.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String("i-1")})
			return err
		}, "shouldDecrementDesiredCapacity"},
	} {
		var ae *awsproto.Error
		if err := c.call(); !errors.As(err, &ae) || ae.Code != "ValidationError" || !strings.Contains(ae.Message, "Value null at '"+c.member+"'") {
			t.Errorf("without %s: %v", c.member, err)
		}
	}
	g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
	if len(g.AutoScalingGroups) != 1 || aws.ToInt32(g.AutoScalingGroups[0].DesiredCapacity) != 1 || len(g.AutoScalingGroups[0].Instances) != 1 {
		t.Fatalf("groups = %+v", g.AutoScalingGroups)
	}
}

// TestTerminatedBehindItsBack: an instance of a group terminated directly
// in EC2 leaves the group, and the group launches a replacement: "If an
// instance is in any state other than running, Amazon EC2 Auto Scaling
// considers it unhealthy and replaces it."
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html
func TestTerminatedBehindItsBack(t *testing.T) {
	b, e, ctx := newTestBackend(t)
	e.Left = b.InstancesLeft
	if _, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")},
		MinSize:        aws.Int32(2), MaxSize: aws.Int32(2), AvailabilityZones: []string{"eu-central-1a"}}); err != nil {
		t.Fatal(err)
	}
	ids := func() []string {
		g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
		var out []string
		for _, i := range g.AutoScalingGroups[0].Instances {
			out = append(out, *i.InstanceId)
		}
		return out
	}
	before := ids()
	if _, err := e.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: before[:1]}); err != nil {
		t.Fatal(err)
	}
	after := ids()
	if len(after) != 2 || slices.Contains(after, before[0]) || !slices.Contains(after, before[1]) {
		t.Fatalf("instances before %v, after terminating %s in EC2: %v", before, before[0], after)
	}
	out, err := e.DescribeInstances(ctx, &ec2api.DescribeInstancesInput{InstanceIds: after})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State.Name == "terminated" || i.State.Name == "shutting-down" {
				t.Fatalf("the group holds %s, %s", *i.InstanceId, i.State.Name)
			}
		}
	}
}

// TestResume: a group left short of its desired capacity (berth killed in
// the middle of a scale out) is brought to it when berth starts again.
func TestResume(t *testing.T) {
	b, _, ctx := newTestBackend(t)
	if _, err := b.CreateAutoScalingGroup(ctx, &asapi.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("hosts")},
		MinSize:        aws.Int32(0), MaxSize: aws.Int32(3), AvailabilityZones: []string{"eu-central-1a"}}); err != nil {
		t.Fatal(err)
	}
	s := backend.ScopeFrom(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error { // as a killed berth leaves it: desired 3, no instance
		g, err := loadGroup(tx, s, "g")
		if err != nil {
			return err
		}
		g.DesiredCapacity = aws.Int32(3)
		return putGroup(tx, s, g)
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Resume(context.Background())
	g, _ := b.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{})
	if n := len(g.AutoScalingGroups[0].Instances); n != 3 {
		t.Fatalf("after Resume the group holds %d instances, want its desired capacity 3", n)
	}
}
