package autoscaling

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// A group is stored as the SDK's types.AutoScalingGroup, its instances
// and tags included, under its name.

func loadGroup(tx *sqlite.Tx, s backend.Scope, name string) (types.AutoScalingGroup, error) {
	var g types.AutoScalingGroup
	err := tx.Get(s.Key(kindGroup, name), &g)
	if isNotFound(err) {
		return g, errNoGroup(name)
	}
	return g, err
}

// allGroups lists every group of scope s.
func allGroups(tx *sqlite.Tx, s backend.Scope) ([]types.AutoScalingGroup, error) {
	return sqlite.ListAll[types.AutoScalingGroup](tx, s.Query(kindGroup, ""))
}

// viewGroups lists every group of scope s in a transaction of its own.
func (b *Backend) viewGroups(ctx context.Context, s backend.Scope) (groups []types.AutoScalingGroup, err error) {
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		groups, err = allGroups(tx, s)
		return err
	})
	return groups, err
}

func putGroup(tx *sqlite.Tx, s backend.Scope, g types.AutoScalingGroup) error {
	return tx.Put(s.Row(kindGroup, *g.AutoScalingGroupName, "", *g.AutoScalingGroupName), g)
}

// validCapacity checks a group's sizes as Auto Scaling does.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html
func validCapacity(minSize, maxSize, desired int32) error {
	for _, v := range []struct {
		name  string
		value int32
	}{{"minSize", minSize}, {"maxSize", maxSize}, {"desiredCapacity", desired}} {
		if v.value < 0 {
			return errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 0", v.value, v.name)
		}
	}
	if maxSize < minSize {
		return errValidation("Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize)
	}
	if desired < minSize || desired > maxSize {
		return errValidation("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize)
	}
	return nil
}

// template is a group's launch template as resolved in EC2.
type template struct {
	spec         types.LaunchTemplateSpecification // id and name, and the version as the group names it
	version      string                            // the version number it resolves to now
	imageID      string
	instanceType ec2types.InstanceType
}

// resolveTemplate checks that a launch template exists in EC2 at the
// version named ($Default when none is) and returns what it launches.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateSpecification.html
func (b *Backend) resolveTemplate(ctx context.Context, spec types.LaunchTemplateSpecification) (template, error) {
	id, name := aws.ToString(spec.LaunchTemplateId), aws.ToString(spec.LaunchTemplateName)
	if (id == "") == (name == "") {
		return template{}, errValidation("Valid requests must contain either LaunchTemplateId or LaunchTemplateName, but not both.")
	}
	version := aws.ToString(spec.Version)
	if version == "" {
		version = "$Default"
	}
	spec.Version = aws.String(version)
	in := &ec2api.DescribeLaunchTemplateVersionsInput{Versions: []string{version}}
	missing := fmt.Sprintf("with template name %s", name)
	if id != "" {
		in.LaunchTemplateId, missing = spec.LaunchTemplateId, fmt.Sprintf("with template ID %s", id)
	} else {
		in.LaunchTemplateName = spec.LaunchTemplateName
	}
	out, err := b.templates.DescribeLaunchTemplateVersions(ctx, in)
	var ae *awsproto.Error
	if isAPIError(err, &ae) || (err == nil && len(out.LaunchTemplateVersions) == 0) {
		if ae != nil && strings.Contains(ae.Code, "Version") {
			return template{}, errValidation("You must use a valid fully-formed launch template. The specified launch template, %s, does not have version %s.", missing, version)
		}
		return template{}, errValidation("You must use a valid fully-formed launch template. The specified launch template, %s, does not exist.", missing)
	}
	if err != nil {
		return template{}, err
	}
	v := out.LaunchTemplateVersions[0]
	t := template{
		spec:    types.LaunchTemplateSpecification{LaunchTemplateId: v.LaunchTemplateId, LaunchTemplateName: v.LaunchTemplateName, Version: aws.String(version)},
		version: fmt.Sprint(aws.ToInt64(v.VersionNumber)),
	}
	if d := v.LaunchTemplateData; d != nil {
		t.imageID, t.instanceType = aws.ToString(d.ImageId), d.InstanceType
	}
	if t.imageID == "" {
		return template{}, errValidation("You must use a valid fully-formed launch template. The launch template %s does not specify an image id.", missing)
	}
	return t, nil
}

// placement is where a group launches: its subnets with their zones.
type placement struct {
	subnets []string // "" for a zone's default subnet
	zones   []string // the zone of each subnet
}

// resolvePlacement checks a group's subnets (VPCZoneIdentifier, comma
// separated) in EC2, or without them its zones, and returns where the
// group launches.
func (b *Backend) resolvePlacement(ctx context.Context, vpcZoneIdentifier string, zones []string) (placement, error) {
	var p placement
	for _, id := range strings.Split(vpcZoneIdentifier, ",") {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(p.subnets, id) {
			p.subnets = append(p.subnets, id)
		}
	}
	if len(p.subnets) == 0 {
		if len(zones) == 0 {
			return p, errValidation("At least one Availability Zone or VPC Subnet is required.")
		}
		for _, z := range zones {
			out, err := b.ec2.DescribeSubnets(ctx, &ec2api.DescribeSubnetsInput{Filters: []ec2types.Filter{
				{Name: aws.String("availability-zone"), Values: []string{z}}, {Name: aws.String("default-for-az"), Values: []string{"true"}}}})
			if err != nil {
				return p, err
			}
			if len(out.Subnets) == 0 {
				return p, errValidation("The availability zone '%s' is not legal.", z)
			}
			p.subnets, p.zones = append(p.subnets, *out.Subnets[0].SubnetId), append(p.zones, z)
		}
		return p, nil
	}
	for _, id := range p.subnets {
		out, err := b.ec2.DescribeSubnets(ctx, &ec2api.DescribeSubnetsInput{SubnetIds: []string{id}})
		var ae *awsproto.Error
		if isAPIError(err, &ae) || (err == nil && len(out.Subnets) == 0) {
			return p, errValidation("The subnet ID '%s' does not exist", id)
		}
		if err != nil {
			return p, err
		}
		p.zones = append(p.zones, aws.ToString(out.Subnets[0].AvailabilityZone))
	}
	return p, nil
}

// zoneList is the distinct zones of p, sorted.
func (p placement) zoneList() []string {
	out := slices.Clone(p.zones)
	slices.Sort(out)
	return slices.Compact(out)
}

// CreateAutoScalingGroup creates a group and launches its desired
// capacity.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
func (b *Backend) CreateAutoScalingGroup(ctx context.Context, in *asapi.CreateAutoScalingGroupInput) (*asapi.CreateAutoScalingGroupOutput, error) {
	if err := required(in, "AutoScalingGroupName", "MinSize", "MaxSize"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.AutoScalingGroupName)
	if len(name) < 1 || len(name) > 255 {
		return nil, errValidation("1 validation error detected: Value '%s' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length between 1 and 255", name)
	}
	sources := 0
	for _, set := range []bool{in.LaunchTemplate != nil, in.LaunchConfigurationName != nil, in.InstanceId != nil, in.MixedInstancesPolicy != nil} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, errValidation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	if in.LaunchTemplate == nil {
		return nil, errValidation("berth's Auto Scaling launches groups from a LaunchTemplate only.")
	}
	minSize, maxSize := aws.ToInt32(in.MinSize), aws.ToInt32(in.MaxSize)
	desired := minSize
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	}
	if err := validCapacity(minSize, maxSize, desired); err != nil {
		return nil, err
	}
	tmpl, err := b.resolveTemplate(ctx, *in.LaunchTemplate)
	if err != nil {
		return nil, err
	}
	where, err := b.resolvePlacement(ctx, aws.ToString(in.VPCZoneIdentifier), in.AvailabilityZones)
	if err != nil {
		return nil, err
	}
	tags, err := groupTags(name, nil, in.Tags)
	if err != nil {
		return nil, err
	}
	hooks, err := newHooks(name, in.LifecycleHookSpecificationList)
	if err != nil {
		return nil, err
	}
	now := b.now()
	g := types.AutoScalingGroup{
		AutoScalingGroupName: aws.String(name), AutoScalingGroupARN: aws.String(groupARN(s, backend.NewUUID(b.env.IDs), name)),
		LaunchTemplate: &tmpl.spec, MinSize: aws.Int32(minSize), MaxSize: aws.Int32(maxSize), DesiredCapacity: aws.Int32(desired),
		DefaultCooldown: aws.Int32(300), AvailabilityZones: where.zoneList(), LoadBalancerNames: backend.OrEmpty(in.LoadBalancerNames),
		TargetGroupARNs: backend.OrEmpty(in.TargetGroupARNs), HealthCheckType: aws.String("EC2"), HealthCheckGracePeriod: aws.Int32(0),
		Instances: []types.Instance{}, CreatedTime: &now, SuspendedProcesses: []types.SuspendedProcess{}, EnabledMetrics: []types.EnabledMetric{},
		Tags: tags, TerminationPolicies: []string{"Default"}, NewInstancesProtectedFromScaleIn: aws.Bool(aws.ToBool(in.NewInstancesProtectedFromScaleIn)),
		ServiceLinkedRoleARN: aws.String(serviceLinkedRole(s)), CapacityRebalance: aws.Bool(aws.ToBool(in.CapacityRebalance)),
		TrafficSources: backend.OrEmpty(in.TrafficSources), Context: in.Context, DefaultInstanceWarmup: in.DefaultInstanceWarmup,
		MaxInstanceLifetime: in.MaxInstanceLifetime, PlacementGroup: in.PlacementGroup, DesiredCapacityType: in.DesiredCapacityType,
		InstanceMaintenancePolicy: in.InstanceMaintenancePolicy, DeletionProtection: in.DeletionProtection,
		AvailabilityZoneDistribution:     &types.AvailabilityZoneDistribution{CapacityDistributionStrategy: types.CapacityDistributionStrategyBalancedBestEffort},
		CapacityReservationSpecification: &types.CapacityReservationSpecification{CapacityReservationPreference: types.CapacityReservationPreferenceDefault},
	}
	if len(where.subnets) > 0 && in.VPCZoneIdentifier != nil {
		g.VPCZoneIdentifier = aws.String(strings.Join(where.subnets, ","))
	}
	if in.HealthCheckType != nil {
		g.HealthCheckType = in.HealthCheckType
	}
	if in.HealthCheckGracePeriod != nil {
		g.HealthCheckGracePeriod = in.HealthCheckGracePeriod
	}
	if in.DefaultCooldown != nil {
		g.DefaultCooldown = in.DefaultCooldown
	}
	if len(in.TerminationPolicies) > 0 {
		g.TerminationPolicies = in.TerminationPolicies
	}
	if in.ServiceLinkedRoleARN != nil {
		g.ServiceLinkedRoleARN = in.ServiceLinkedRoleARN
	}
	if d := in.AvailabilityZoneDistribution; d != nil && d.CapacityDistributionStrategy != "" {
		g.AvailabilityZoneDistribution = d
	}
	if c := in.CapacityReservationSpecification; c != nil && c.CapacityReservationPreference != "" {
		g.CapacityReservationSpecification = c
	}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindGroup, name)); err != nil || ok {
			if err != nil {
				return err
			}
			return errAlreadyExists("AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
		}
		for _, h := range hooks {
			if err := putHook(tx, s, h); err != nil {
				return err
			}
		}
		return putGroup(tx, s, g)
	})
	if err != nil {
		return nil, err
	}
	cause := fmt.Sprintf("a user request created an AutoScalingGroup changing the desired capacity from 0 to %d", desired)
	if err := b.scale(ctx, s, name, cause); err != nil {
		return nil, err
	}
	return &asapi.CreateAutoScalingGroupOutput{}, nil
}

// groupFilter matches a group against DescribeAutoScalingGroups' filters:
// tag:<key>, tag-key and tag-value, each with any of its values.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html
func groupFilter(filters []types.Filter, g types.AutoScalingGroup) (bool, error) {
	for _, f := range filters {
		name := aws.ToString(f.Name)
		var have []string
		for _, t := range g.Tags {
			switch key, isTag := strings.CutPrefix(name, "tag:"); {
			case isTag && aws.ToString(t.Key) == key:
				have = append(have, aws.ToString(t.Value))
			case name == "tag-key":
				have = append(have, aws.ToString(t.Key))
			case name == "tag-value":
				have = append(have, aws.ToString(t.Value))
			case !isTag && name != "tag-key" && name != "tag-value":
				return false, errValidation("Filter type %s is not correct. Allowed Filter types are: tag-key tag-value tag:<key>", name)
			}
		}
		if !strings.HasPrefix(name, "tag:") && name != "tag-key" && name != "tag-value" {
			return false, errValidation("Filter type %s is not correct. Allowed Filter types are: tag-key tag-value tag:<key>", name)
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(have, v) }) {
			return false, nil
		}
	}
	return true, nil
}

// maxRecords is a page size between 1 and top, def when unset.
func maxRecords(v *int32, def, top int32) (*int32, error) {
	if v == nil {
		return aws.Int32(def), nil
	}
	if *v < 1 || *v > top {
		return nil, errValidation("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and %d", *v, top)
	}
	return v, nil
}

// page pages items by a unique key with Auto Scaling's NextToken.
func page[T any](all []T, key func(T) string, token *string, max *int32) ([]T, *string, error) {
	out, next, err := backend.PageOf(all, key, token, max, 50)
	if err != nil {
		return nil, nil, errBadToken()
	}
	return out, next, nil
}

// DescribeAutoScalingGroups describes the groups named (all when none
// is; names that name nothing are left out), filtered by tags, by name.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html
func (b *Backend) DescribeAutoScalingGroups(ctx context.Context, in *asapi.DescribeAutoScalingGroupsInput) (*asapi.DescribeAutoScalingGroupsOutput, error) {
	s := backend.ScopeFrom(ctx)
	max, err := maxRecords(in.MaxRecords, 50, 100)
	if err != nil {
		return nil, err
	}
	all, err := b.viewGroups(ctx, s)
	if err != nil {
		return nil, err
	}
	var kept []types.AutoScalingGroup
	for _, g := range all {
		if len(in.AutoScalingGroupNames) > 0 && !slices.Contains(in.AutoScalingGroupNames, *g.AutoScalingGroupName) {
			continue
		}
		ok, err := groupFilter(in.Filters, g)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, g)
		}
	}
	slices.SortFunc(kept, func(a, b types.AutoScalingGroup) int {
		return strings.Compare(*a.AutoScalingGroupName, *b.AutoScalingGroupName)
	})
	groups, next, err := page(kept, func(g types.AutoScalingGroup) string { return *g.AutoScalingGroupName }, in.NextToken, max)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeAutoScalingGroupsOutput{AutoScalingGroups: backend.OrEmpty(groups), NextToken: next}, nil
}

// UpdateAutoScalingGroup changes a group's settings and brings it to its
// new desired capacity. A new minimum above the desired capacity raises
// it, a new maximum below lowers it, as the reference says.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
func (b *Backend) UpdateAutoScalingGroup(ctx context.Context, in *asapi.UpdateAutoScalingGroupInput) (*asapi.UpdateAutoScalingGroupOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.AutoScalingGroupName)
	var tmpl *template
	if in.LaunchTemplate != nil {
		t, err := b.resolveTemplate(ctx, *in.LaunchTemplate)
		if err != nil {
			return nil, err
		}
		tmpl = &t
	}
	var where *placement
	if in.VPCZoneIdentifier != nil || len(in.AvailabilityZones) > 0 {
		p, err := b.resolvePlacement(ctx, aws.ToString(in.VPCZoneIdentifier), in.AvailabilityZones)
		if err != nil {
			return nil, err
		}
		where = &p
	}
	var from, to int32
	var g types.AutoScalingGroup
	err := b.store.Update(ctx, func(tx *sqlite.Tx) (err error) {
		if g, err = loadGroup(tx, s, name); err != nil {
			return err
		}
		minSize, maxSize, desired := *g.MinSize, *g.MaxSize, *g.DesiredCapacity
		from = desired
		if in.MinSize != nil {
			minSize = *in.MinSize
		}
		if in.MaxSize != nil {
			maxSize = *in.MaxSize
		}
		switch {
		case in.DesiredCapacity != nil:
			desired = *in.DesiredCapacity
		case desired < minSize:
			desired = minSize
		case desired > maxSize:
			desired = maxSize
		}
		if err := validCapacity(minSize, maxSize, desired); err != nil {
			return err
		}
		to = desired
		g.MinSize, g.MaxSize, g.DesiredCapacity = aws.Int32(minSize), aws.Int32(maxSize), aws.Int32(desired)
		if tmpl != nil {
			g.LaunchTemplate = &tmpl.spec
		}
		if where != nil {
			g.AvailabilityZones = where.zoneList()
			if in.VPCZoneIdentifier != nil {
				g.VPCZoneIdentifier = aws.String(strings.Join(where.subnets, ","))
			}
		}
		set := func(dst **int32, v *int32) {
			if v != nil {
				*dst = v
			}
		}
		set(&g.DefaultCooldown, in.DefaultCooldown)
		set(&g.HealthCheckGracePeriod, in.HealthCheckGracePeriod)
		set(&g.DefaultInstanceWarmup, in.DefaultInstanceWarmup)
		set(&g.MaxInstanceLifetime, in.MaxInstanceLifetime)
		if in.HealthCheckType != nil {
			g.HealthCheckType = in.HealthCheckType
		}
		if in.NewInstancesProtectedFromScaleIn != nil {
			g.NewInstancesProtectedFromScaleIn = in.NewInstancesProtectedFromScaleIn
		}
		if in.CapacityRebalance != nil {
			g.CapacityRebalance = in.CapacityRebalance
		}
		if len(in.TerminationPolicies) > 0 {
			g.TerminationPolicies = in.TerminationPolicies
		}
		if in.ServiceLinkedRoleARN != nil {
			g.ServiceLinkedRoleARN = in.ServiceLinkedRoleARN
		}
		if in.Context != nil {
			g.Context = in.Context
		}
		if in.PlacementGroup != nil {
			g.PlacementGroup = in.PlacementGroup
		}
		if in.DesiredCapacityType != nil {
			g.DesiredCapacityType = in.DesiredCapacityType
		}
		if in.InstanceMaintenancePolicy != nil {
			g.InstanceMaintenancePolicy = in.InstanceMaintenancePolicy
		}
		if in.DeletionProtection != "" {
			g.DeletionProtection = in.DeletionProtection
		}
		if d := in.AvailabilityZoneDistribution; d != nil && d.CapacityDistributionStrategy != "" {
			g.AvailabilityZoneDistribution = d
		}
		if c := in.CapacityReservationSpecification; c != nil && c.CapacityReservationPreference != "" {
			g.CapacityReservationSpecification = c
		}
		return putGroup(tx, s, g)
	})
	if err != nil {
		return nil, err
	}
	cause := fmt.Sprintf("a user request update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d changing the desired capacity from %d to %d",
		*g.MinSize, *g.MaxSize, *g.DesiredCapacity, from, to)
	if err := b.scale(ctx, s, name, cause); err != nil {
		return nil, err
	}
	return &asapi.UpdateAutoScalingGroupOutput{}, nil
}

// SetDesiredCapacity sets a group's desired capacity, within its sizes.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SetDesiredCapacity.html
func (b *Backend) SetDesiredCapacity(ctx context.Context, in *asapi.SetDesiredCapacityInput) (*asapi.SetDesiredCapacityOutput, error) {
	if err := required(in, "AutoScalingGroupName", "DesiredCapacity"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	name, desired := aws.ToString(in.AutoScalingGroupName), aws.ToInt32(in.DesiredCapacity)
	var from int32
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		switch {
		case desired < *g.MinSize:
			return errValidation("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", desired, *g.MinSize)
		case desired > *g.MaxSize:
			return errValidation("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", desired, *g.MaxSize)
		}
		from, g.DesiredCapacity = *g.DesiredCapacity, aws.Int32(desired)
		return putGroup(tx, s, g)
	})
	if err != nil {
		return nil, err
	}
	cause := fmt.Sprintf("a user request explicitly set group desired capacity changing the desired capacity from %d to %d", from, desired)
	if err := b.scale(ctx, s, name, cause); err != nil {
		return nil, err
	}
	return &asapi.SetDesiredCapacityOutput{}, nil
}

// DeleteAutoScalingGroup deletes a group: one without instances, or with
// ForceDelete one whose instances it terminates; never one that is
// scaling.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html
func (b *Backend) DeleteAutoScalingGroup(ctx context.Context, in *asapi.DeleteAutoScalingGroupInput) (*asapi.DeleteAutoScalingGroupOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	name := aws.ToString(in.AutoScalingGroupName)
	if b.busy(s, name) {
		return nil, errActivityInProgress("You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
	}
	var doomed []string
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		if len(g.Instances) > 0 && !aws.ToBool(in.ForceDelete) {
			return errInUse("You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
		}
		if g.DeletionProtection == types.DeletionProtectionPreventAllDeletion ||
			(g.DeletionProtection == types.DeletionProtectionPreventForceDeletion && len(g.Instances) > 0) {
			return errValidation("You cannot delete an AutoScalingGroup with deletion protection %s.", g.DeletionProtection)
		}
		for _, i := range g.Instances {
			doomed = append(doomed, *i.InstanceId)
		}
		for _, kind := range []string{kindHook, kindActivity} {
			if err := tx.DeleteAll(s.Query(kind, name)); err != nil {
				return err
			}
		}
		return tx.Delete(s.Key(kindGroup, name))
	})
	if err != nil {
		return nil, err
	}
	if len(doomed) > 0 {
		if _, err := b.ec2.TerminateInstances(ctx, &ec2api.TerminateInstancesInput{InstanceIds: doomed}); err != nil {
			return nil, err
		}
	}
	return &asapi.DeleteAutoScalingGroupOutput{}, nil
}

// changeGroup applies change to a stored group.
func (b *Backend) changeGroup(ctx context.Context, name string, change func(g *types.AutoScalingGroup) error) error {
	s := backend.ScopeFrom(ctx)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, name)
		if err != nil {
			return err
		}
		if err := change(&g); err != nil {
			return err
		}
		return putGroup(tx, s, g)
	})
}
