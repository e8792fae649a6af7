package integration

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestHostileASGTerminatedInEC2: an instance of a group terminated (or
// stopped) directly with EC2's TerminateInstances (StopInstances) is replaced by the group's health
// check: the group stops holding it and launches another to keep its
// desired capacity. "If an instance is in any state other than running,
// Amazon EC2 Auto Scaling considers it unhealthy and replaces it."
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html
func TestHostileASGTerminatedInEC2(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	spec, _ := launchTemplate(t, ctx, c, "hostile-hosts")
	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("hostile"),
		LaunchTemplate: spec, MinSize: aws.Int32(2), MaxSize: aws.Int32(2), AvailabilityZones: []string{c.region + "a"}})).must(t)
	before := group(t, ctx, as, "hostile").Instances
	if len(before) != 2 {
		t.Fatalf("instances = %+v", before)
	}
	victim := *before[0].InstanceId
	try(c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{victim}})).must(t)
	eventually(t, "the group replaces the instance terminated in EC2", func() bool {
		var ids []string
		for _, i := range group(t, ctx, as, "hostile").Instances {
			ids = append(ids, *i.InstanceId)
		}
		return len(ids) == 2 && !slices.Contains(ids, victim)
	})
	if n := len(groupInstances(t, ctx, c, "hostile")); n != 2 {
		t.Fatalf("EC2 runs %d of the group's instances, want 2", n)
	}

	// A stopped instance is unhealthy too: the group terminates and
	// replaces it.
	stopped := *group(t, ctx, as, "hostile").Instances[0].InstanceId
	try(c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}})).must(t)
	eventually(t, "the group replaces the instance stopped in EC2", func() bool {
		var ids []string
		for _, i := range group(t, ctx, as, "hostile").Instances {
			ids = append(ids, *i.InstanceId)
		}
		return len(ids) == 2 && !slices.Contains(ids, stopped)
	})
	state := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{stopped}})).must(t).Reservations[0].Instances[0].State.Name
	if state != "terminated" {
		t.Fatalf("the stopped instance is %s, want terminated", state)
	}
}
