package ecs

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// fargateProviders exist in every account and cannot be changed.
var fargateProviders = []string{"FARGATE", "FARGATE_SPOT"}

func fargateProvider(s scope, name string) types.CapacityProvider {
	return types.CapacityProvider{
		CapacityProviderArn: aws.String(s.arn("capacity-provider/" + name)),
		Name:                aws.String(name),
		Status:              types.CapacityProviderStatusActive,
		Tags:                []types.Tag{},
	}
}

// launchTypeOf is the launch type of tasks started with launchType and a
// capacity provider strategy: as given, else EC2 with no strategy or one
// of Auto Scaling group providers only, whose tasks run on container
// instances as ECS reports them (launchType EC2 with their
// capacityProviderName); "" for a strategy with the Fargate providers.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html
func launchTypeOf(launchType types.LaunchType, strategy []types.CapacityProviderStrategyItem) types.LaunchType {
	fargate := func(item types.CapacityProviderStrategyItem) bool {
		return slices.Contains(fargateProviders, aws.ToString(item.CapacityProvider))
	}
	if launchType == "" && !slices.ContainsFunc(strategy, fargate) {
		return types.LaunchTypeEc2
	}
	return launchType
}

// validCapacityProviders checks that every provider exists and that the
// strategy uses only providers of the list.
func validCapacityProviders(tx *sqlite.Tx, s scope, names []string, strategy []types.CapacityProviderStrategyItem) error {
	if err := validCapacityProviderCount(strategy); err != nil {
		return err
	}
	for _, n := range names {
		if slices.Contains(fargateProviders, n) {
			continue
		}
		ok, err := tx.Exists(s.Key(kindCapacityProvider, n))
		if err != nil {
			return err
		}
		if !ok {
			return errInvalidParameter("The specified capacity provider '%s' does not exist.", n)
		}
	}
	for _, item := range strategy {
		if !slices.Contains(names, aws.ToString(item.CapacityProvider)) {
			return errInvalidParameter("The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.")
		}
		if item.Weight < 0 || item.Weight > 1000 || item.Base < 0 || item.Base > 100000 {
			return errInvalidParameter("Capacity provider strategy weight must be between 0 and 1000 and base between 0 and 100000.")
		}
	}
	return nil
}

// AutoScalingGroups finds Auto Scaling groups: the Auto Scaling backend.
type AutoScalingGroups interface {
	DescribeAutoScalingGroups(context.Context, *asapi.DescribeAutoScalingGroupsInput) (*asapi.DescribeAutoScalingGroupsOutput, error)
}

// validGroup checks that the group a capacity provider names, by ARN or
// name, exists in the caller's account and region, and that with managed
// termination protection it protects new instances from scale in, which
// ECS requires
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AutoScalingGroupProvider.html).
func (b *Backend) validGroup(ctx context.Context, p *types.AutoScalingGroupProvider) error {
	if b.AutoScaling == nil {
		return nil
	}
	ref := aws.ToString(p.AutoScalingGroupArn)
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		_, name, _ = strings.Cut(ref, ":autoScalingGroupName/")
	}
	out, err := b.AutoScaling.DescribeAutoScalingGroups(ctx, &asapi.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(out.AutoScalingGroups, func(g astypes.AutoScalingGroup) bool {
		return aws.ToString(g.AutoScalingGroupName) == name && (name == ref || aws.ToString(g.AutoScalingGroupARN) == ref)
	})
	if name == "" || i < 0 {
		return errClient("The specified Auto Scaling group ARN or name is not valid: no Auto Scaling group %s exists in this account and Region.", ref)
	}
	if p.ManagedTerminationProtection == types.ManagedTerminationProtectionEnabled && !aws.ToBool(out.AutoScalingGroups[i].NewInstancesProtectedFromScaleIn) {
		return errClient("The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the Auto Scaling group must have instance protection from scale in enabled.")
	}
	return nil
}

// CreateCapacityProvider stores an Auto Scaling group capacity provider,
// whose group must exist. Nothing scales: the local Docker host is the
// only capacity, and the group's instances are EC2 records that do not
// register as container instances (see package autoscaling).
func (b *Backend) CreateCapacityProvider(ctx context.Context, in *ecsapi.CreateCapacityProviderInput) (*ecsapi.CreateCapacityProviderOutput, error) {
	s := scopeOf(ctx)
	name := aws.ToString(in.Name)
	if err := validName("Capacity provider name", name); err != nil {
		return nil, err
	}
	for _, p := range []string{"aws", "ecs", "fargate"} {
		if strings.HasPrefix(strings.ToLower(name), p) {
			return nil, errInvalidParameter("The specified capacity provider name is invalid. Capacity provider names cannot be prefixed with 'aws', 'ecs', or 'fargate'.")
		}
	}
	if in.AutoScalingGroupProvider == nil && in.ManagedInstancesProvider == nil {
		return nil, errInvalidParameter("An autoScalingGroupProvider or managedInstancesProvider must be specified.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if in.AutoScalingGroupProvider != nil {
		if err := b.validGroup(ctx, in.AutoScalingGroupProvider); err != nil {
			return nil, err
		}
	}
	cp := types.CapacityProvider{
		CapacityProviderArn: aws.String(s.arn("capacity-provider/" + name)),
		Name:                aws.String(name),
		Status:              types.CapacityProviderStatusActive,
		Cluster:             in.Cluster,
		Tags:                backend.OrEmpty(in.Tags),
	}
	if asg := in.AutoScalingGroupProvider; asg != nil {
		cp.AutoScalingGroupProvider = asg
		if asg.ManagedTerminationProtection == "" {
			asg.ManagedTerminationProtection = types.ManagedTerminationProtectionDisabled
		}
		if asg.ManagedDraining == "" {
			asg.ManagedDraining = types.ManagedDrainingEnabled
		}
		if asg.ManagedScaling == nil {
			asg.ManagedScaling = &types.ManagedScaling{Status: types.ManagedScalingStatusDisabled}
		}
		ms := asg.ManagedScaling
		if err := validManagedScaling(ms); err != nil {
			return nil, err
		}
		if ms.TargetCapacity == nil {
			ms.TargetCapacity = aws.Int32(100)
		}
		if ms.MinimumScalingStepSize == nil {
			ms.MinimumScalingStepSize = aws.Int32(1)
		}
		if ms.MaximumScalingStepSize == nil {
			ms.MaximumScalingStepSize = aws.Int32(10000)
		}
		if ms.InstanceWarmupPeriod == nil {
			ms.InstanceWarmupPeriod = aws.Int32(300)
		}
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		exists, err := tx.Exists(s.Key(kindCapacityProvider, name))
		if err != nil {
			return err
		}
		if exists {
			return errClient("The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.")
		}
		if err := tx.Put(s.Row(kindCapacityProvider, name, "", name), cp); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return setTags(tx, s, *cp.CapacityProviderArn, in.Tags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.CreateCapacityProviderOutput{CapacityProvider: &cp}, nil
}

// DescribeCapacityProviders describes the named providers, or all of them
// (FARGATE and FARGATE_SPOT first).
func (b *Backend) DescribeCapacityProviders(ctx context.Context, in *ecsapi.DescribeCapacityProvidersInput) (*ecsapi.DescribeCapacityProvidersOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.DescribeCapacityProvidersOutput{CapacityProviders: []types.CapacityProvider{}, Failures: []types.Failure{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		all := []types.CapacityProvider{fargateProvider(s, "FARGATE"), fargateProvider(s, "FARGATE_SPOT")}
		stored, err := sqlite.ListAll[types.CapacityProvider](tx, s.Query(kindCapacityProvider, ""))
		if err != nil {
			return err
		}
		all = append(all, stored...)
		if len(in.CapacityProviders) > 0 {
			for _, ref := range in.CapacityProviders {
				name := s.name(ref, "capacity-provider")
				i := slices.IndexFunc(all, func(c types.CapacityProvider) bool { return *c.Name == name })
				if i < 0 {
					out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
					continue
				}
				out.CapacityProviders = append(out.CapacityProviders, all[i])
			}
			return nil
		}
		names := make([]string, len(all))
		for i, c := range all {
			names[i] = *c.Name
		}
		page, next, err := pageStrings(names, in.NextToken, limit)
		if err != nil {
			return err
		}
		for _, n := range page {
			out.CapacityProviders = append(out.CapacityProviders, all[slices.Index(names, n)])
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out.CapacityProviders {
		if !slices.Contains(in.Include, types.CapacityProviderFieldTags) {
			out.CapacityProviders[i].Tags = nil
		}
	}
	return out, nil
}

// UpdateCapacityProvider changes an Auto Scaling group provider's settings.
func (b *Backend) UpdateCapacityProvider(ctx context.Context, in *ecsapi.UpdateCapacityProviderInput) (*ecsapi.UpdateCapacityProviderOutput, error) {
	s := scopeOf(ctx)
	name := s.name(aws.ToString(in.Name), "capacity-provider")
	var cp types.CapacityProvider
	if u := in.AutoScalingGroupProvider; u != nil && u.ManagedTerminationProtection == types.ManagedTerminationProtectionEnabled {
		// Turning managed termination protection on asks the same of the
		// group as creating the provider with it.
		err := b.store.View(ctx, func(tx *sqlite.Tx) error { return tx.Get(s.Key(kindCapacityProvider, name), &cp) })
		if err == nil && cp.AutoScalingGroupProvider != nil {
			if err := b.validGroup(ctx, &types.AutoScalingGroupProvider{AutoScalingGroupArn: cp.AutoScalingGroupProvider.AutoScalingGroupArn,
				ManagedTerminationProtection: u.ManagedTerminationProtection}); err != nil {
				return nil, err
			}
		}
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(s.Key(kindCapacityProvider, name), &cp); err != nil {
			return notFound(err, func() error { return errInvalidParameter("The specified capacity provider does not exist.") })
		}
		if u := in.AutoScalingGroupProvider; u != nil && cp.AutoScalingGroupProvider != nil {
			if u.ManagedScaling != nil {
				// The fields the update leaves out keep their values.
				// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateCapacityProvider.html
				ms := *u.ManagedScaling
				if err := validManagedScaling(&ms); err != nil {
					return err
				}
				if old := cp.AutoScalingGroupProvider.ManagedScaling; old != nil {
					ms.Status = cmp.Or(ms.Status, old.Status)
					ms.TargetCapacity = cmp.Or(ms.TargetCapacity, old.TargetCapacity)
					ms.MinimumScalingStepSize = cmp.Or(ms.MinimumScalingStepSize, old.MinimumScalingStepSize)
					ms.MaximumScalingStepSize = cmp.Or(ms.MaximumScalingStepSize, old.MaximumScalingStepSize)
					ms.InstanceWarmupPeriod = cmp.Or(ms.InstanceWarmupPeriod, old.InstanceWarmupPeriod)
				}
				cp.AutoScalingGroupProvider.ManagedScaling = &ms
			}
			if u.ManagedTerminationProtection != "" {
				cp.AutoScalingGroupProvider.ManagedTerminationProtection = u.ManagedTerminationProtection
			}
			if u.ManagedDraining != "" {
				cp.AutoScalingGroupProvider.ManagedDraining = u.ManagedDraining
			}
		}
		cp.UpdateStatus = types.CapacityProviderUpdateStatusUpdateComplete
		return tx.Put(s.Row(kindCapacityProvider, name, "", name), cp)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateCapacityProviderOutput{CapacityProvider: &cp}, nil
}

// DeleteCapacityProvider deletes a provider that no cluster uses.
func (b *Backend) DeleteCapacityProvider(ctx context.Context, in *ecsapi.DeleteCapacityProviderInput) (*ecsapi.DeleteCapacityProviderOutput, error) {
	s := scopeOf(ctx)
	name := s.name(aws.ToString(in.CapacityProvider), "capacity-provider")
	var cp types.CapacityProvider
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(s.Key(kindCapacityProvider, name), &cp); err != nil {
			return notFound(err, func() error { return errInvalidParameter("The specified capacity provider does not exist.") })
		}
		clusters, err := sqlite.ListAll[types.Cluster](tx, s.Query(kindCluster, ""))
		if err != nil {
			return err
		}
		for _, c := range clusters {
			if aws.ToString(c.Status) == "ACTIVE" && slices.Contains(c.CapacityProviders, name) {
				return errResourceInUse("The specified capacity provider is in use and cannot be removed.")
			}
		}
		cp.Status = types.CapacityProviderStatusInactive
		cp.UpdateStatus = types.CapacityProviderUpdateStatusDeleteComplete
		if err := tx.Delete(s.Key(kindTags, *cp.CapacityProviderArn)); err != nil {
			return err
		}
		return tx.Delete(s.Key(kindCapacityProvider, name))
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteCapacityProviderOutput{CapacityProvider: &cp}, nil
}

// validManagedScaling checks what the API model's ranges do not: the
// minimum scaling step is at most the maximum.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ManagedScaling.html
func validManagedScaling(ms *types.ManagedScaling) error {
	if ms.MinimumScalingStepSize != nil && ms.MaximumScalingStepSize != nil && *ms.MinimumScalingStepSize > *ms.MaximumScalingStepSize {
		return errInvalidParameter("The minimum scaling step size must be less than or equal to the maximum scaling step size.")
	}
	return nil
}
