package autoscaling

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// groupNameTag is the tag Auto Scaling puts on the instances it launches.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
const groupNameTag = "aws:autoscaling:groupName"

func busyKey(s backend.Scope, name string) string { return s.Account + "/" + s.Region + "/" + name }

// busy reports whether a group is being scaled.
func (b *Backend) busy(s backend.Scope, name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inScale[busyKey(s, name)]
}

func (b *Backend) setBusy(s backend.Scope, name string, busy bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if busy {
		b.inScale[busyKey(s, name)] = true
	} else {
		delete(b.inScale, busyKey(s, name))
	}
}

// scale brings a group to its desired capacity at once: it launches the
// missing instances through EC2, spread over the group's zones, or takes
// out of service and terminates the spare ones that are not protected
// from scale in, and records each as a scaling activity. cause says what
// changed the desired capacity. Launch and Terminate, when suspended,
// stop it.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html
func (b *Backend) scale(ctx context.Context, s backend.Scope, name, cause string) error {
	defer b.lockGroup(busyKey(s, name))()
	b.setBusy(s, name, true)
	defer b.setBusy(s, name, false)
	var g types.AutoScalingGroup
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		g, err = loadGroup(tx, s, name)
		return err
	})
	if err != nil {
		return err
	}
	cause = "At " + b.now().Format(time.RFC3339) + " " + cause + "."
	switch have, want := len(g.Instances), int(*g.DesiredCapacity); {
	case have < want && !suspended(g, "Launch"):
		return b.launch(ctx, s, g, want-have, cause)
	case have > want && !suspended(g, "Terminate"):
		return b.terminate(ctx, s, g, have-want, cause)
	}
	return nil
}

func suspended(g types.AutoScalingGroup, process string) bool {
	return slices.ContainsFunc(g.SuspendedProcesses, func(p types.SuspendedProcess) bool { return aws.ToString(p.ProcessName) == process })
}

// launch launches n instances into g, each in the subnet of the zone with
// fewest of the group's instances.
func (b *Backend) launch(ctx context.Context, s backend.Scope, g types.AutoScalingGroup, n int, cause string) error {
	spec := *g.LaunchTemplate // the stored spec names the template by id and name: resolve it by one
	if spec.LaunchTemplateId != nil {
		spec.LaunchTemplateName = nil
	}
	tmpl, err := b.resolveTemplate(ctx, spec)
	if err != nil {
		return b.record(ctx, s, g, nil, nil, b.failed(g, cause, err))
	}
	where, err := b.resolvePlacement(ctx, aws.ToString(g.VPCZoneIdentifier), g.AvailabilityZones)
	if err != nil {
		return b.record(ctx, s, g, nil, nil, b.failed(g, cause, err))
	}
	tags := []ec2types.Tag{{Key: aws.String(groupNameTag), Value: g.AutoScalingGroupName}}
	for _, t := range g.Tags {
		if aws.ToBool(t.PropagateAtLaunch) {
			tags = append(tags, ec2types.Tag{Key: t.Key, Value: t.Value})
		}
	}
	// Each launch is stored as soon as EC2 answers, so that a berth killed
	// in the middle of a large scale out keeps every instance it launched
	// in its group.
	var launched []types.Instance
	count := len(g.Instances)
	for range n {
		i := leastUsed(where, append(slices.Clone(g.Instances), launched...))
		run := &ec2api.RunInstancesInput{
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ImageId: aws.String(tmpl.imageID), InstanceType: tmpl.instanceType,
			SubnetId:          aws.String(where.subnets[i]),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}},
			LaunchTemplate:    &ec2types.LaunchTemplateSpecification{LaunchTemplateId: tmpl.spec.LaunchTemplateId, Version: aws.String(tmpl.version)},
		}
		out, err := b.ec2.RunInstances(ctx, run)
		if err != nil {
			return b.record(ctx, s, g, nil, nil, b.failed(g, cause, err))
		}
		start := b.now()
		var these []types.Instance
		var activities []types.Activity
		for _, inst := range out.Instances {
			these = append(these, types.Instance{
				InstanceId: inst.InstanceId, InstanceType: aws.String(string(inst.InstanceType)), AvailabilityZone: aws.String(where.zones[i]),
				LifecycleState: types.LifecycleStateInService, HealthStatus: aws.String("Healthy"),
				ProtectedFromScaleIn: aws.Bool(aws.ToBool(g.NewInstancesProtectedFromScaleIn)),
				LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: tmpl.spec.LaunchTemplateId,
					LaunchTemplateName: tmpl.spec.LaunchTemplateName, Version: aws.String(tmpl.version)},
			})
			count++
			activities = append(activities, b.activity(g, start, "Launching a new EC2 instance: "+*inst.InstanceId,
				fmt.Sprintf("%s  At %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.",
					cause, start.Format(time.RFC3339), count-1, count), where.subnets[i], where.zones[i]))
		}
		if err := b.record(ctx, s, g, these, activities, nil); err != nil {
			return err
		}
		launched = append(launched, these...)
	}
	return nil
}

// failed is the failed activity of a launch that EC2 (or the group's
// template or subnets) refused: Auto Scaling reports it as an activity,
// not as an error of the call that changed the capacity. An error that is
// no API error is berth's own and is returned instead.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/CHAP_Troubleshooting.html
func (b *Backend) failed(g types.AutoScalingGroup, cause string, err error) func() (types.Activity, error) {
	return func() (types.Activity, error) {
		var ae *awsproto.Error
		if !isAPIError(err, &ae) {
			return types.Activity{}, err
		}
		now := b.now()
		reason := ae.Message + " Launching EC2 instance failed."
		a := b.activity(g, now, "Launching a new EC2 instance.  Status Reason: "+reason, cause, "", "")
		a.StatusCode, a.StatusMessage, a.Details = types.ScalingActivityStatusCodeFailed, aws.String(reason), aws.String("{}")
		return a, nil
	}
}

// record stores the instances launched into g and their activities, and
// the failed activity fail makes when it is not nil.
func (b *Backend) record(ctx context.Context, s backend.Scope, g types.AutoScalingGroup, launched []types.Instance, activities []types.Activity,
	fail func() (types.Activity, error)) error {
	if fail != nil {
		a, err := fail()
		if err != nil {
			return err
		}
		activities = append(activities, a)
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		current, err := loadGroup(tx, s, *g.AutoScalingGroupName)
		if err != nil {
			return err
		}
		current.Instances = append(current.Instances, launched...)
		for _, a := range activities {
			if err := tx.Put(s.Row(kindActivity, *a.ActivityId, *g.AutoScalingGroupName, ""), a); err != nil {
				return err
			}
		}
		return putGroup(tx, s, current)
	})
	if err != nil && len(launched) > 0 { // the group went away meanwhile: its instances with it
		var ids []string
		for _, i := range launched {
			ids = append(ids, *i.InstanceId)
		}
		b.ec2.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: ids})
	}
	return err
}

// leastUsed is the index of the subnet, in where, whose zone holds fewest
// of instances (the first such).
func leastUsed(where placement, instances []types.Instance) int {
	best, bestCount := 0, -1
	for i, z := range where.zones {
		n := 0
		for _, inst := range instances {
			if aws.ToString(inst.AvailabilityZone) == z {
				n++
			}
		}
		if bestCount < 0 || n < bestCount {
			best, bestCount = i, n
		}
	}
	return best
}

// terminate takes up to n unprotected instances out of g, from the zone
// with most instances first and the newest within it, and terminates
// them in EC2.
func (b *Backend) terminate(ctx context.Context, s backend.Scope, g types.AutoScalingGroup, n int, cause string) error {
	var gone []string
	var activities []types.Activity
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		current, err := loadGroup(tx, s, *g.AutoScalingGroupName)
		if err != nil {
			return err
		}
		count := len(current.Instances)
		for range n {
			victim := -1
			most := 0
			for i, inst := range current.Instances {
				if aws.ToBool(inst.ProtectedFromScaleIn) {
					continue
				}
				inZone := 0
				for _, other := range current.Instances {
					if aws.ToString(other.AvailabilityZone) == aws.ToString(inst.AvailabilityZone) {
						inZone++
					}
				}
				if inZone >= most {
					victim, most = i, inZone
				}
			}
			if victim < 0 {
				break
			}
			inst := current.Instances[victim]
			current.Instances = slices.Delete(current.Instances, victim, victim+1)
			gone = append(gone, *inst.InstanceId)
			now := b.now()
			count--
			activities = append(activities, b.activity(current, now, "Terminating EC2 instance: "+*inst.InstanceId,
				fmt.Sprintf("%s  At %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.",
					cause, now.Format(time.RFC3339), count+1, count), "", aws.ToString(inst.AvailabilityZone)))
		}
		for _, a := range activities {
			if err := tx.Put(s.Row(kindActivity, *a.ActivityId, *g.AutoScalingGroupName, ""), a); err != nil {
				return err
			}
		}
		return putGroup(tx, s, current)
	})
	if err != nil || len(gone) == 0 {
		return err
	}
	_, err = b.ec2.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: gone})
	return err
}

// activity is a finished scaling activity of g.
func (b *Backend) activity(g types.AutoScalingGroup, start time.Time, description, cause, subnet, zone string) types.Activity {
	end := b.now()
	details := fmt.Sprintf(`{"Availability Zone":%q}`, zone)
	if subnet != "" {
		details = fmt.Sprintf(`{"Subnet ID":%q,"Availability Zone":%q}`, subnet, zone)
	}
	return types.Activity{
		ActivityId: aws.String(backend.NewUUID(b.env.IDs)), AutoScalingGroupName: g.AutoScalingGroupName, AutoScalingGroupARN: g.AutoScalingGroupARN,
		Description: aws.String(description), Cause: aws.String(cause), StartTime: &start, EndTime: &end,
		StatusCode: types.ScalingActivityStatusCodeSuccessful, Progress: aws.Int32(100), Details: aws.String(details),
	}
}

// DescribeScalingActivities lists a group's scaling activities (or every
// group's), newest first.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeScalingActivities.html
func (b *Backend) DescribeScalingActivities(ctx context.Context, in *asapi.DescribeScalingActivitiesInput) (*asapi.DescribeScalingActivitiesOutput, error) {
	s := backend.ScopeFrom(ctx)
	max, err := maxRecords(in.MaxRecords, 100, 100)
	if err != nil {
		return nil, err
	}
	var all []types.Activity
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[types.Activity](tx, s.Query(kindActivity, aws.ToString(in.AutoScalingGroupName)))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.ActivityIds) > 0 {
		all = slices.DeleteFunc(all, func(a types.Activity) bool { return !slices.Contains(in.ActivityIds, *a.ActivityId) })
	}
	slices.Reverse(all) // newest first
	key := map[string]string{}
	for i, a := range all {
		key[*a.ActivityId] = fmt.Sprintf("%010d", i)
	}
	out, next, err := page(all, func(a types.Activity) string { return key[*a.ActivityId] }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeScalingActivitiesOutput{Activities: backend.OrEmpty(out), NextToken: next}, nil
}

// DescribeAutoScalingInstances describes instances of the scope's groups:
// those named, or all.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html
func (b *Backend) DescribeAutoScalingInstances(ctx context.Context, in *asapi.DescribeAutoScalingInstancesInput) (*asapi.DescribeAutoScalingInstancesOutput, error) {
	s := backend.ScopeFrom(ctx)
	max, err := maxRecords(in.MaxRecords, 50, 50)
	if err != nil {
		return nil, err
	}
	groups, err := b.viewGroups(ctx, s)
	if err != nil {
		return nil, err
	}
	var all []types.AutoScalingInstanceDetails
	for _, g := range groups {
		for _, i := range g.Instances {
			if len(in.InstanceIds) > 0 && !slices.Contains(in.InstanceIds, *i.InstanceId) {
				continue
			}
			all = append(all, types.AutoScalingInstanceDetails{
				AutoScalingGroupName: g.AutoScalingGroupName, InstanceId: i.InstanceId, AvailabilityZone: i.AvailabilityZone,
				HealthStatus: aws.String(strings.ToUpper(aws.ToString(i.HealthStatus))), LifecycleState: aws.String(string(i.LifecycleState)),
				ProtectedFromScaleIn: i.ProtectedFromScaleIn, InstanceType: i.InstanceType, LaunchTemplate: i.LaunchTemplate,
			})
		}
	}
	slices.SortFunc(all, func(a, b types.AutoScalingInstanceDetails) int { return strings.Compare(*a.InstanceId, *b.InstanceId) })
	out, next, err := page(all, func(d types.AutoScalingInstanceDetails) string { return *d.InstanceId }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeAutoScalingInstancesOutput{AutoScalingInstances: backend.OrEmpty(out), NextToken: next}, nil
}

// SetInstanceProtection protects instances of a group from scale in, or
// stops protecting them; a group above its desired capacity then sheds
// the instances no longer protected.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetInstanceProtection.html
func (b *Backend) SetInstanceProtection(ctx context.Context, in *asapi.SetInstanceProtectionInput) (*asapi.SetInstanceProtectionOutput, error) {
	if err := required(in, "AutoScalingGroupName", "InstanceIds", "ProtectedFromScaleIn"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.AutoScalingGroupName)
	if len(in.InstanceIds) > 50 {
		return nil, errValidation("1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		for _, id := range in.InstanceIds {
			i := slices.IndexFunc(g.Instances, func(inst types.Instance) bool { return *inst.InstanceId == id })
			if i < 0 {
				return errValidation("The instance %s is not part of Auto Scaling group %s.", id, name)
			}
			g.Instances[i].ProtectedFromScaleIn = aws.Bool(aws.ToBool(in.ProtectedFromScaleIn))
		}
		return putGroup(tx, s, g)
	})
	if err != nil {
		return nil, err
	}
	if !aws.ToBool(in.ProtectedFromScaleIn) {
		if err := b.scale(ctx, s, name, "an instance protection change allowed a difference between desired and actual capacity to be resolved"); err != nil {
			return nil, err
		}
	}
	return &asapi.SetInstanceProtectionOutput{}, nil
}

// TerminateInstanceInAutoScalingGroup terminates one instance of a group,
// lowering its desired capacity or launching a replacement.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html
func (b *Backend) TerminateInstanceInAutoScalingGroup(ctx context.Context, in *asapi.TerminateInstanceInAutoScalingGroupInput) (*asapi.TerminateInstanceInAutoScalingGroupOutput, error) {
	if err := required(in, "InstanceId", "ShouldDecrementDesiredCapacity"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	id := aws.ToString(in.InstanceId)
	var g types.AutoScalingGroup
	var act types.Activity
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		groups, err := allGroups(tx, s)
		if err != nil {
			return err
		}
		for _, candidate := range groups {
			if i := slices.IndexFunc(candidate.Instances, func(inst types.Instance) bool { return *inst.InstanceId == id }); i >= 0 {
				g = candidate
				zone := aws.ToString(g.Instances[i].AvailabilityZone)
				g.Instances = slices.Delete(g.Instances, i, i+1)
				if aws.ToBool(in.ShouldDecrementDesiredCapacity) {
					if *g.DesiredCapacity-1 < *g.MinSize {
						return errValidation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", *g.MinSize)
					}
					g.DesiredCapacity = aws.Int32(*g.DesiredCapacity - 1)
				}
				now := b.now()
				act = b.activity(g, now, "Terminating EC2 instance: "+id,
					fmt.Sprintf("At %s instance %s was taken out of service in response to a user request.", now.Format(time.RFC3339), id), "", zone)
				if err := tx.Put(s.Row(kindActivity, *act.ActivityId, *g.AutoScalingGroupName, ""), act); err != nil {
					return err
				}
				return putGroup(tx, s, g)
			}
		}
		return errValidation("Instance Id not found - No managed instance found for instance ID: %s", id)
	})
	if err != nil {
		return nil, err
	}
	if _, err := b.ec2.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		return nil, err
	}
	if err := b.scale(ctx, s, *g.AutoScalingGroupName, "an instance was taken out of service in response to a user request"); err != nil {
		return nil, err
	}
	return &asapi.TerminateInstanceInAutoScalingGroupOutput{Activity: &act}, nil
}
