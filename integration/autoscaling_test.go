package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// autoscalingClient is an Auto Scaling client of the shared berth in the
// region of c.
func autoscalingClient(c clients) *autoscaling.Client {
	return autoscaling.New(autoscaling.Options{Region: c.region, BaseEndpoint: aws.String(shared.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), Retryer: connectionRetryer()})
}

// launchTemplate creates a launch template in EC2 for groups to launch
// from and returns its spec. While berth's EC2 does not serve launch
// templates, groups accept any template: ok is then false.
func launchTemplate(t *testing.T, ctx context.Context, c clients, name string) (spec *astypes.LaunchTemplateSpecification, ok bool) {
	t.Helper()
	out, err := c.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-0c55b159cbfafe1f0"), InstanceType: ec2types.InstanceTypeT3Micro}})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "OperationNotPermitted" {
		t.Log("berth's EC2 does not serve launch templates yet: groups accept any")
		return &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(name), Version: aws.String("$Latest")}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return &astypes.LaunchTemplateSpecification{LaunchTemplateId: out.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")}, true
}

// group describes one group, failing the test if it does not exist.
func group(t *testing.T, ctx context.Context, as *autoscaling.Client, name string) astypes.AutoScalingGroup {
	t.Helper()
	out := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})).must(t)
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("DescribeAutoScalingGroups(%s) = %+v", name, out.AutoScalingGroups)
	}
	return out.AutoScalingGroups[0]
}

// groupInstances are the ids of a group's instances that EC2 shows
// running with the group's tag.
func groupInstances(t *testing.T, ctx context.Context, c clients, name string) []ec2types.Instance {
	t.Helper()
	out := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		filter("tag:aws:autoscaling:groupName", name), filter("instance-state-name", "running")}})).must(t)
	var all []ec2types.Instance
	for _, r := range out.Reservations {
		all = append(all, r.Instances...)
	}
	return all
}

func tagOf(tags []ec2types.Tag, key string) (string, bool) {
	i := slices.IndexFunc(tags, func(t ec2types.Tag) bool { return aws.ToString(t.Key) == key })
	if i < 0 {
		return "", false
	}
	return aws.ToString(tags[i].Value), true
}

// TestAutoScalingGroups creates a group from a launch template over two
// subnets: it launches its desired capacity as EC2 instances spread over
// both zones, InService and Healthy, tagged with the group's name and its
// propagating tags, protected from scale in as the group says; describing
// filters by tag and pages.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
func TestAutoScalingGroups(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	lt, _ := launchTemplate(t, ctx, c, "hosts")
	sn := subnets(t, ctx, c)
	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("ecs-hosts"), LaunchTemplate: lt, MinSize: aws.Int32(1), MaxSize: aws.Int32(3), DesiredCapacity: aws.Int32(2),
		VPCZoneIdentifier: aws.String(sn[0] + "," + sn[1]), NewInstancesProtectedFromScaleIn: aws.Bool(true),
		Tags: []astypes.Tag{
			{Key: aws.String("AmazonECSManaged"), Value: aws.String(""), PropagateAtLaunch: aws.Bool(true)},
			{Key: aws.String("team"), Value: aws.String("platform"), PropagateAtLaunch: aws.Bool(false)},
		},
	})).must(t)

	g := group(t, ctx, as, "ecs-hosts")
	if arn := aws.ToString(g.AutoScalingGroupARN); !strings.HasPrefix(arn, "arn:aws:autoscaling:"+c.region+":") || !strings.HasSuffix(arn, ":autoScalingGroupName/ecs-hosts") {
		t.Errorf("ARN = %s", arn)
	}
	if *g.MinSize != 1 || *g.MaxSize != 3 || *g.DesiredCapacity != 2 || aws.ToString(g.VPCZoneIdentifier) != sn[0]+","+sn[1] ||
		!slices.Equal(g.AvailabilityZones, []string{c.region + "a", c.region + "b"}) || !aws.ToBool(g.NewInstancesProtectedFromScaleIn) ||
		aws.ToString(g.HealthCheckType) != "EC2" || aws.ToInt32(g.DefaultCooldown) != 300 || !slices.Equal(g.TerminationPolicies, []string{"Default"}) {
		t.Errorf("group = %+v", g)
	}
	if len(g.Tags) != 2 || aws.ToString(g.Tags[0].ResourceType) != "auto-scaling-group" || aws.ToString(g.Tags[0].ResourceId) != "ecs-hosts" {
		t.Errorf("tags = %+v", g.Tags)
	}
	if len(g.Instances) != 2 {
		t.Fatalf("instances = %+v", g.Instances)
	}
	zones := map[string]bool{}
	for _, i := range g.Instances {
		zones[aws.ToString(i.AvailabilityZone)] = true
		if i.LifecycleState != astypes.LifecycleStateInService || aws.ToString(i.HealthStatus) != "Healthy" || !aws.ToBool(i.ProtectedFromScaleIn) || i.LaunchTemplate == nil {
			t.Errorf("instance = %+v", i)
		}
	}
	if len(zones) != 2 {
		t.Errorf("instances not spread over the zones: %+v", g.Instances)
	}

	// The instances are EC2's, tagged as Auto Scaling tags them.
	ec2Instances := groupInstances(t, ctx, c, "ecs-hosts")
	if len(ec2Instances) != 2 {
		t.Fatalf("EC2 instances of the group = %+v", ec2Instances)
	}
	for _, i := range ec2Instances {
		if _, ok := tagOf(i.Tags, "AmazonECSManaged"); !ok {
			t.Errorf("propagated tag missing: %+v", i.Tags)
		}
		if _, ok := tagOf(i.Tags, "team"); ok {
			t.Errorf("tag without PropagateAtLaunch propagated: %+v", i.Tags)
		}
	}

	// DescribeAutoScalingInstances spells health in capitals.
	details := try(as.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{})).must(t).AutoScalingInstances
	if len(details) != 2 || aws.ToString(details[0].HealthStatus) != "HEALTHY" || aws.ToString(details[0].LifecycleState) != "InService" ||
		aws.ToString(details[0].AutoScalingGroupName) != "ecs-hosts" {
		t.Errorf("DescribeAutoScalingInstances = %+v", details)
	}
	one := try(as.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{*ec2Instances[0].InstanceId}})).must(t)
	if len(one.AutoScalingInstances) != 1 {
		t.Errorf("DescribeAutoScalingInstances(one) = %+v", one.AutoScalingInstances)
	}

	activities := try(as.DescribeScalingActivities(ctx, &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("ecs-hosts")})).must(t).Activities
	if len(activities) != 2 || activities[0].StatusCode != astypes.ScalingActivityStatusCodeSuccessful || aws.ToInt32(activities[0].Progress) != 100 ||
		!strings.HasPrefix(aws.ToString(activities[0].Description), "Launching a new EC2 instance: i-") {
		t.Errorf("activities = %+v", activities)
	}

	_, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("ecs-hosts"), LaunchTemplate: lt, MinSize: aws.Int32(0), MaxSize: aws.Int32(1), VPCZoneIdentifier: aws.String(sn[0])})
	wantErr[*astypes.AlreadyExistsFault](t, err)

	// Filters and pages.
	for _, name := range []string{"empty-a", "empty-b"} {
		try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
			MinSize: aws.Int32(0), MaxSize: aws.Int32(1), AvailabilityZones: []string{c.region + "c"}})).must(t)
	}
	if g := group(t, ctx, as, "empty-a"); len(g.Instances) != 0 || !slices.Equal(g.AvailabilityZones, []string{c.region + "c"}) || *g.DesiredCapacity != 0 {
		t.Errorf("empty group = %+v", g)
	}
	tagged := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{
		{Name: aws.String("tag-key"), Values: []string{"AmazonECSManaged"}}}})).must(t).AutoScalingGroups
	if len(tagged) != 1 || *tagged[0].AutoScalingGroupName != "ecs-hosts" {
		t.Errorf("filtered by tag-key = %+v", tagged)
	}
	byValue := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{
		{Name: aws.String("tag:team"), Values: []string{"other", "platform"}}}})).must(t).AutoScalingGroups
	if len(byValue) != 1 {
		t.Errorf("filtered by tag:team = %+v", byValue)
	}
	var names []string
	pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(as, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(2)})
	for n := 0; pages.HasMorePages(); n++ {
		page := try(pages.NextPage(ctx)).must(t)
		if len(page.AutoScalingGroups) > 2 || n > 2 {
			t.Fatalf("page %d = %+v", n, page.AutoScalingGroups)
		}
		for _, g := range page.AutoScalingGroups {
			names = append(names, *g.AutoScalingGroupName)
		}
	}
	if !slices.Equal(names, []string{"ecs-hosts", "empty-a", "empty-b"}) {
		t.Errorf("paged names = %v", names)
	}
	// Names that name nothing are left out, not refused.
	none := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"nothing"}})).must(t)
	if len(none.AutoScalingGroups) != 0 {
		t.Errorf("unknown name = %+v", none.AutoScalingGroups)
	}
	_, err = as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{NextToken: aws.String("not-a-token!")})
	wantErr[*astypes.InvalidNextToken](t, err)
	_, err = as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError")
	_, err = as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("instance-id"), Values: []string{"x"}}}})
	wantCode(t, err, "ValidationError")
}

// TestAutoScalingValidation refuses what Auto Scaling refuses, with
// ValidationError (400): sizes out of order, a desired capacity outside
// them, no subnets or zones, a subnet or launch template that does not
// exist, no launch source, a group that does not exist.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html
func TestAutoScalingValidation(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	lt, templates := launchTemplate(t, ctx, c, "valid")
	sn := subnets(t, ctx, c)
	create := func(name string, minSize, maxSize int32, desired *int32, lt *astypes.LaunchTemplateSpecification, subnets string) error {
		in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
			MinSize: aws.Int32(minSize), MaxSize: aws.Int32(maxSize), DesiredCapacity: desired}
		if subnets != "" { // an empty one is refused by the model's minimum length first
			in.VPCZoneIdentifier = aws.String(subnets)
		}
		_, err := as.CreateAutoScalingGroup(ctx, in)
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"max below min", create("g", 3, 1, nil, lt, sn[0]), "Max bound, 1, must be greater than or equal to min bound, 3"},
		{"desired above max", create("g", 1, 3, aws.Int32(4), lt, sn[0]), "Desired capacity:4 must be between the specified min size:1 and max size:3"},
		{"desired below min", create("g", 2, 3, aws.Int32(1), lt, sn[0]), "Desired capacity:1 must be between the specified min size:2 and max size:3"},
		{"no subnet", create("g", 0, 1, nil, lt, ""), "At least one Availability Zone or VPC Subnet is required."},
		{"unknown subnet", create("g", 0, 1, nil, lt, "subnet-0123456789abcdef0"), "The subnet ID 'subnet-0123456789abcdef0' does not exist"},
		{"no launch source", create("g", 0, 1, nil, nil, sn[0]), "Valid requests must contain either LaunchTemplate"},
	} {
		var ae smithy.APIError
		if !errors.As(tc.err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), tc.want) {
			t.Errorf("%s: error = %v, want ValidationError %q", tc.name, tc.err, tc.want)
		}
	}
	if templates {
		err := create("g", 0, 1, nil, &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("no-such-template")}, sn[0])
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || !strings.Contains(ae.ErrorMessage(), "does not exist") {
			t.Errorf("unknown launch template: %v", err)
		}
	}
	if out := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})).must(t); len(out.AutoScalingGroups) != 0 {
		t.Fatalf("refused groups were created: %+v", out.AutoScalingGroups)
	}

	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), LaunchTemplate: lt,
		MinSize: aws.Int32(1), MaxSize: aws.Int32(2), VPCZoneIdentifier: aws.String(sn[0])})).must(t)
	_, err := as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g"), DesiredCapacity: aws.Int32(3)})
	wantMessage(t, err, "ValidationError", "New SetDesiredCapacity value 3 is above max value 2 for the AutoScalingGroup.")
	_, err = as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g"), DesiredCapacity: aws.Int32(0)})
	wantMessage(t, err, "ValidationError", "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.")
	_, err = as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(3)})
	wantMessage(t, err, "ValidationError", "Max bound, 2, must be greater than or equal to min bound, 3")
	_, err = as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("none"), MaxSize: aws.Int32(3)})
	wantMessage(t, err, "ValidationError", "not found")
	_, err = as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("none")})
	wantMessage(t, err, "ValidationError", "not found")
	_, err = as.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("g"),
		InstanceIds: []string{"i-0123456789abcdef0"}, ProtectedFromScaleIn: aws.Bool(true)})
	wantMessage(t, err, "ValidationError", "The instance i-0123456789abcdef0 is not part of Auto Scaling group g.")

	// A new minimum above the desired capacity raises it; a new maximum
	// below lowers it (API_UpdateAutoScalingGroup).
	try(as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(2)})).must(t)
	if g := group(t, ctx, as, "g"); *g.DesiredCapacity != 2 || len(g.Instances) != 2 {
		t.Errorf("after raising the minimum: desired %d, %d instances", *g.DesiredCapacity, len(g.Instances))
	}
	try(as.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1)})).must(t)
	if g := group(t, ctx, as, "g"); *g.DesiredCapacity != 1 || len(g.Instances) != 1 || len(groupInstances(t, ctx, c, "g")) != 1 {
		t.Errorf("after lowering the maximum: desired %d, %d instances", *g.DesiredCapacity, len(g.Instances))
	}
}

// wantMessage checks an error's code and that its message holds want.
func wantMessage(t *testing.T, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("error = %v, want %s %q", err, code, want)
	}
}

// TestAutoScalingScaleInAndDelete scales a group out and in: instances
// protected from scale in stay until their protection is removed, a group
// with instances is ResourceInUse to DeleteAutoScalingGroup without
// ForceDelete, and ForceDelete terminates them.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-protection.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
func TestAutoScalingScaleInAndDelete(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	lt, _ := launchTemplate(t, ctx, c, "scale")
	sn := subnets(t, ctx, c)
	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("scale"), LaunchTemplate: lt,
		MinSize: aws.Int32(0), MaxSize: aws.Int32(4), DesiredCapacity: aws.Int32(1), VPCZoneIdentifier: aws.String(strings.Join(sn, ",")),
		NewInstancesProtectedFromScaleIn: aws.Bool(true)})).must(t)
	try(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("scale"), DesiredCapacity: aws.Int32(3)})).must(t)
	g := group(t, ctx, as, "scale")
	if len(g.Instances) != 3 || len(groupInstances(t, ctx, c, "scale")) != 3 {
		t.Fatalf("after scaling out: %+v", g.Instances)
	}

	// Every instance is protected: scaling in to 1 keeps all three.
	try(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("scale"), DesiredCapacity: aws.Int32(1)})).must(t)
	if g := group(t, ctx, as, "scale"); len(g.Instances) != 3 || *g.DesiredCapacity != 1 {
		t.Fatalf("protected instances were scaled in: %+v", g.Instances)
	}
	// Unprotecting one lets it go; the group is still above desired.
	ids := []string{*g.Instances[0].InstanceId, *g.Instances[1].InstanceId, *g.Instances[2].InstanceId}
	try(as.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: aws.String("scale"),
		InstanceIds: ids[:1], ProtectedFromScaleIn: aws.Bool(false)})).must(t)
	if g := group(t, ctx, as, "scale"); len(g.Instances) != 2 || slices.ContainsFunc(g.Instances, func(i astypes.Instance) bool { return *i.InstanceId == ids[0] }) {
		t.Fatalf("after unprotecting %s: %+v", ids[0], g.Instances)
	}
	terminated := try(c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[:1]})).must(t)
	if st := terminated.Reservations[0].Instances[0].State.Name; st != ec2types.InstanceStateNameTerminated {
		t.Errorf("scaled-in instance is %s in EC2", st)
	}

	_, err := as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("scale")})
	wantErr[*astypes.ResourceInUseFault](t, err)

	activities := try(as.DescribeScalingActivities(ctx, &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("scale"), MaxRecords: aws.Int32(1)})).must(t)
	if len(activities.Activities) != 1 || activities.NextToken == nil || !strings.HasPrefix(*activities.Activities[0].Description, "Terminating EC2 instance: "+ids[0]) {
		t.Errorf("newest activity = %+v", activities.Activities)
	}

	try(as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("scale"), ForceDelete: aws.Bool(true)})).must(t)
	if out := try(as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"scale"}})).must(t); len(out.AutoScalingGroups) != 0 {
		t.Errorf("deleted group = %+v", out.AutoScalingGroups)
	}
	if left := groupInstances(t, ctx, c, "scale"); len(left) != 0 {
		t.Errorf("instances left running after ForceDelete: %d", len(left))
	}
}

// TestAutoScalingTagsHooksWarmPoolsProcesses manages a group's tags
// (PropagateAtLaunch, DescribeTags filters), lifecycle hooks with their
// defaults, a warm pool, and suspended processes: with Launch suspended a
// group does not launch until it is resumed.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeTags.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
func TestAutoScalingTagsHooksWarmPoolsProcesses(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	lt, _ := launchTemplate(t, ctx, c, "extras")
	sn := subnets(t, ctx, c)
	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("extras"), LaunchTemplate: lt,
		MinSize: aws.Int32(0), MaxSize: aws.Int32(2), VPCZoneIdentifier: aws.String(sn[0]),
		LifecycleHookSpecificationList: []astypes.LifecycleHookSpecification{{LifecycleHookName: aws.String("drain"), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")}},
	})).must(t)

	tag := func(key, value string, propagate bool) astypes.Tag {
		return astypes.Tag{ResourceId: aws.String("extras"), ResourceType: aws.String("auto-scaling-group"), Key: aws.String(key), Value: aws.String(value), PropagateAtLaunch: aws.Bool(propagate)}
	}
	try(as.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{tag("Name", "host", true), tag("env", "dev", false)}})).must(t)
	try(as.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{tag("env", "prod", false)}})).must(t)
	tags := try(as.DescribeTags(ctx, &autoscaling.DescribeTagsInput{Filters: []astypes.Filter{
		{Name: aws.String("auto-scaling-group"), Values: []string{"extras"}}, {Name: aws.String("propagate-at-launch"), Values: []string{"false"}}}})).must(t).Tags
	if len(tags) != 1 || *tags[0].Key != "env" || *tags[0].Value != "prod" {
		t.Errorf("DescribeTags = %+v", tags)
	}
	_, err := as.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{tag("aws:reserved", "x", false)}})
	wantCode(t, err, "ValidationError")
	missing := tag("k", "v", false)
	missing.ResourceId = aws.String("no-group")
	_, err = as.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: []astypes.Tag{missing}})
	wantMessage(t, err, "ValidationError", "not found")
	try(as.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: []astypes.Tag{{ResourceId: aws.String("extras"), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("env")}}})).must(t)
	if g := group(t, ctx, as, "extras"); len(g.Tags) != 1 || *g.Tags[0].Key != "Name" || !aws.ToBool(g.Tags[0].PropagateAtLaunch) {
		t.Errorf("tags after DeleteTags = %+v", g.Tags)
	}

	hooks := try(as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("extras")})).must(t).LifecycleHooks
	if len(hooks) != 1 || aws.ToInt32(hooks[0].HeartbeatTimeout) != 3600 || aws.ToString(hooks[0].DefaultResult) != "ABANDON" || aws.ToInt32(hooks[0].GlobalTimeout) != 172800 {
		t.Errorf("initial hook = %+v", hooks)
	}
	try(as.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("extras"), LifecycleHookName: aws.String("boot"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"), HeartbeatTimeout: aws.Int32(300), DefaultResult: aws.String("CONTINUE")})).must(t)
	boot := try(as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("extras"), LifecycleHookNames: []string{"boot"}})).must(t).LifecycleHooks
	if len(boot) != 1 || aws.ToInt32(boot[0].GlobalTimeout) != 30000 || aws.ToString(boot[0].DefaultResult) != "CONTINUE" {
		t.Errorf("boot hook = %+v", boot)
	}
	_, err = as.PutLifecycleHook(ctx, &autoscaling.PutLifecycleHookInput{AutoScalingGroupName: aws.String("extras"), LifecycleHookName: aws.String("bad"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_SLEEPING")})
	wantCode(t, err, "ValidationError")
	try(as.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("extras"), LifecycleHookName: aws.String("boot")})).must(t)
	_, err = as.DeleteLifecycleHook(ctx, &autoscaling.DeleteLifecycleHookInput{AutoScalingGroupName: aws.String("extras"), LifecycleHookName: aws.String("boot")})
	wantCode(t, err, "ValidationError")

	if wp := try(as.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("extras")})).must(t); wp.WarmPoolConfiguration != nil {
		t.Errorf("warm pool before PutWarmPool = %+v", wp.WarmPoolConfiguration)
	}
	try(as.PutWarmPool(ctx, &autoscaling.PutWarmPoolInput{AutoScalingGroupName: aws.String("extras"), MinSize: aws.Int32(1),
		InstanceReusePolicy: &astypes.InstanceReusePolicy{ReuseOnScaleIn: aws.Bool(true)}})).must(t)
	wp := try(as.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("extras")})).must(t).WarmPoolConfiguration
	if wp == nil || wp.PoolState != astypes.WarmPoolStateStopped || aws.ToInt32(wp.MinSize) != 1 || !aws.ToBool(wp.InstanceReusePolicy.ReuseOnScaleIn) {
		t.Errorf("warm pool = %+v", wp)
	}
	if g := group(t, ctx, as, "extras"); g.WarmPoolConfiguration == nil {
		t.Error("DescribeAutoScalingGroups leaves out the warm pool")
	}
	try(as.DeleteWarmPool(ctx, &autoscaling.DeleteWarmPoolInput{AutoScalingGroupName: aws.String("extras")})).must(t)
	_, err = as.PutWarmPool(ctx, &autoscaling.PutWarmPoolInput{AutoScalingGroupName: aws.String("no-group")})
	wantMessage(t, err, "ValidationError", "not found")

	try(as.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("extras"), ScalingProcesses: []string{"Launch"}})).must(t)
	try(as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("extras"), DesiredCapacity: aws.Int32(2)})).must(t)
	g := group(t, ctx, as, "extras")
	if len(g.Instances) != 0 || len(g.SuspendedProcesses) != 1 || *g.SuspendedProcesses[0].ProcessName != "Launch" {
		t.Fatalf("with Launch suspended: %+v %+v", g.Instances, g.SuspendedProcesses)
	}
	try(as.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String("extras")})).must(t)
	g = group(t, ctx, as, "extras")
	if len(g.Instances) != 2 || len(g.SuspendedProcesses) != 0 {
		t.Fatalf("after resuming: %+v %+v", g.Instances, g.SuspendedProcesses)
	}
	instances := groupInstances(t, ctx, c, "extras")
	if v, _ := tagOf(instances[0].Tags, "Name"); v != "host" {
		t.Errorf("Name tag of a launched instance = %q", v)
	}
	_, err = as.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("extras"), ScalingProcesses: []string{"Dance"}})
	wantCode(t, err, "ValidationError")
	types := try(as.DescribeScalingProcessTypes(ctx, &autoscaling.DescribeScalingProcessTypesInput{})).must(t).Processes
	if len(types) != 9 {
		t.Errorf("process types = %+v", types)
	}
	try(as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("extras"), ForceDelete: aws.Bool(true)})).must(t)
	_, err = as.DescribeLifecycleHooks(ctx, &autoscaling.DescribeLifecycleHooksInput{AutoScalingGroupName: aws.String("extras")})
	wantMessage(t, err, "ValidationError", "not found")
}

// TestAutoScalingCapacityProvider checks what ECS checks of the group an
// Auto Scaling group capacity provider names: it exists in the account
// and Region (by ARN or name), and with managed termination protection it
// protects new instances from scale in.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCapacityProvider.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html
func TestAutoScalingCapacityProvider(t *testing.T) {
	ctx, c := setup(t)
	as := autoscalingClient(c)
	lt, _ := launchTemplate(t, ctx, c, "capacity") // EC2 takes names of 3 to 128 characters
	sn := subnets(t, ctx, c)
	for name, protect := range map[string]bool{"protected": true, "unprotected": false} {
		try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
			MinSize: aws.Int32(0), MaxSize: aws.Int32(2), VPCZoneIdentifier: aws.String(sn[0]), NewInstancesProtectedFromScaleIn: aws.Bool(protect)})).must(t)
	}
	protected, unprotected := group(t, ctx, as, "protected"), group(t, ctx, as, "unprotected")
	provider := func(name, group string, termination ecstypes.ManagedTerminationProtection) error {
		_, err := c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String(name), AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{
			AutoScalingGroupArn: aws.String(group), ManagedTerminationProtection: termination,
			ManagedScaling: &ecstypes.ManagedScaling{Status: ecstypes.ManagedScalingStatusEnabled}}})
		return err
	}
	otherRegion := strings.Replace(*protected.AutoScalingGroupARN, ":"+c.region+":", ":elsewhere-1:", 1)
	for _, ref := range []string{"no-such-group", otherRegion, "arn:aws:autoscaling:" + c.region + ":000000000000:autoScalingGroup:x:autoScalingGroupName/missing"} {
		wantErr[*ecstypes.ClientException](t, provider("p-unknown", ref, ecstypes.ManagedTerminationProtectionDisabled))
	}
	err := provider("p-unprotected", *unprotected.AutoScalingGroupARN, ecstypes.ManagedTerminationProtectionEnabled)
	if e := wantErr[*ecstypes.ClientException](t, err); !strings.Contains(e.ErrorMessage(), "must have instance protection from scale in enabled") {
		t.Errorf("message = %s", e.ErrorMessage())
	}
	if err := provider("p-protected", *protected.AutoScalingGroupARN, ecstypes.ManagedTerminationProtectionEnabled); err != nil {
		t.Fatal(err)
	}
	if err := provider("p-by-name", "unprotected", ecstypes.ManagedTerminationProtectionDisabled); err != nil {
		t.Fatal(err)
	}
	_, err = c.ecs.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String("p-by-name"),
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProviderUpdate{ManagedTerminationProtection: ecstypes.ManagedTerminationProtectionEnabled}})
	wantErr[*ecstypes.ClientException](t, err)
}

// TestAutoScalingCLI drives a group with the aws CLI.
func TestAutoScalingCLI(t *testing.T) {
	ctx, c := setup(t)
	lt, _ := launchTemplate(t, ctx, c, "cli")
	sn := subnets(t, ctx, c)
	aws := cli{t: t, url: shared.url, region: c.region}
	ref := "LaunchTemplateName=cli,Version=$Latest"
	if lt.LaunchTemplateId != nil {
		ref = "LaunchTemplateId=" + *lt.LaunchTemplateId + ",Version=$Latest"
	}
	aws.run(nil, "autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "cli", "--launch-template", ref,
		"--min-size", "1", "--max-size", "2", "--vpc-zone-identifier", sn[0], "--tags", "Key=Name,Value=cli,PropagateAtLaunch=true")
	var out struct {
		AutoScalingGroups []struct {
			AutoScalingGroupName string
			DesiredCapacity      int
			Instances            []struct{ InstanceId, LifecycleState, HealthStatus string }
		}
	}
	aws.run(&out, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "cli")
	if len(out.AutoScalingGroups) != 1 || out.AutoScalingGroups[0].DesiredCapacity != 1 || len(out.AutoScalingGroups[0].Instances) != 1 ||
		out.AutoScalingGroups[0].Instances[0].LifecycleState != "InService" {
		t.Fatalf("describe-auto-scaling-groups = %+v", out)
	}
	aws.fails("ValidationError", "autoscaling", "set-desired-capacity", "--auto-scaling-group-name", "cli", "--desired-capacity", "5")
	aws.fails("ResourceInUse", "autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "cli")
	aws.run(nil, "autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "cli", "--force-delete")
}

// autoScalingGroup creates an empty group in the default subnets for a
// test that needs one to exist.
func autoScalingGroup(t *testing.T, ctx context.Context, c clients, name string) astypes.AutoScalingGroup {
	t.Helper()
	as := autoscalingClient(c)
	lt, _ := launchTemplate(t, ctx, c, name)
	try(as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), LaunchTemplate: lt,
		MinSize: aws.Int32(0), MaxSize: aws.Int32(1), VPCZoneIdentifier: aws.String(subnets(t, ctx, c)[0])})).must(t)
	return group(t, ctx, as, name)
}
