package appautoscaling

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// target is a stored scalable target.
type target struct {
	types.ScalableTarget
	Tags map[string]string
}

// ecsRole is the service-linked role AWS fills in for an ECS target
// registered without a RoleARN.
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
func ecsRole(account string) string {
	return "arn:aws:iam::" + account + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
}

// checkTarget refuses what berth does not scale: any namespace but ecs,
// any dimension but ecs:service:DesiredCount, a malformed service id.
func checkTarget(namespace types.ServiceNamespace, resourceID *string, dimension types.ScalableDimension) error {
	if namespace != types.ServiceNamespaceEcs {
		return errValidation("berth scales ECS services only: service namespace %s is not supported (use ecs with ecs:service:DesiredCount).", namespace)
	}
	if dimension != types.ScalableDimensionECSServiceDesiredCount {
		return errValidation("Unsupported scalable dimension %s for service namespace ecs: use ecs:service:DesiredCount.", dimension)
	}
	if _, _, ok := ecsService(aws.ToString(resourceID)); !ok {
		return errValidation("Unsupported resource ID %s: an ECS service is service/<cluster-name>/<service-name>.", aws.ToString(resourceID))
	}
	return nil
}

// desiredCount reads an ECS service's desired count; a service that does
// not exist (or is being deleted) is errNoService.
func (b *Backend) desiredCount(ctx context.Context, resourceID string) (int32, error) {
	cluster, service, _ := ecsService(resourceID)
	out, err := b.services.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: &cluster, Services: []string{service}})
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) && ae.Code == "ClusterNotFoundException" {
			return 0, errNoService(resourceID)
		}
		return 0, errFailedAccess("Failed to describe ECS service %s: %v", resourceID, err)
	}
	if len(out.Services) != 1 || aws.ToString(out.Services[0].Status) != "ACTIVE" {
		return 0, errNoService(resourceID)
	}
	return out.Services[0].DesiredCount, nil
}

// RegisterScalableTarget registers an ECS service as a scalable target,
// or updates the one registered (only the members given change).
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html
func (b *Backend) RegisterScalableTarget(ctx context.Context, in *aas.RegisterScalableTargetInput) (*aas.RegisterScalableTargetOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	if in.MinCapacity != nil && *in.MinCapacity < 0 || in.MaxCapacity != nil && *in.MaxCapacity < 0 {
		return nil, errValidation("Minimum and maximum capacity must not be negative.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	resourceID := aws.ToString(in.ResourceId)
	if _, err := b.desiredCount(ctx, resourceID); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	key := targetKey(string(in.ServiceNamespace), resourceID, string(in.ScalableDimension))
	var t target
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(s.Key(kindTarget, key), &t)
		switch {
		case errors.Is(err, sqlite.ErrNotFound):
			if in.MinCapacity == nil || in.MaxCapacity == nil {
				return errValidation("MinCapacity and MaxCapacity are required when registering a new scalable target.")
			}
			now := b.env.Clock()
			t = target{ScalableTarget: types.ScalableTarget{
				ServiceNamespace: in.ServiceNamespace, ResourceId: aws.String(resourceID), ScalableDimension: in.ScalableDimension,
				RoleARN:           aws.String(ecsRole(s.Account)),
				ScalableTargetARN: aws.String(fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", s.Region, s.Account, b.env.IDs.Hex(36))),
				CreationTime:      &now,
				SuspendedState:    &types.SuspendedState{DynamicScalingInSuspended: aws.Bool(false), DynamicScalingOutSuspended: aws.Bool(false), ScheduledScalingSuspended: aws.Bool(false)},
			}, Tags: in.Tags}
		case err != nil:
			return err
		}
		if in.MinCapacity != nil {
			t.MinCapacity = in.MinCapacity
		}
		if in.MaxCapacity != nil {
			t.MaxCapacity = in.MaxCapacity
		}
		if aws.ToInt32(t.MinCapacity) > aws.ToInt32(t.MaxCapacity) {
			return errValidation("Minimum capacity cannot be greater than maximum capacity")
		}
		if in.RoleARN != nil {
			t.RoleARN = in.RoleARN
		}
		if st := in.SuspendedState; st != nil {
			if st.DynamicScalingInSuspended != nil {
				t.SuspendedState.DynamicScalingInSuspended = st.DynamicScalingInSuspended
			}
			if st.DynamicScalingOutSuspended != nil {
				t.SuspendedState.DynamicScalingOutSuspended = st.DynamicScalingOutSuspended
			}
			if st.ScheduledScalingSuspended != nil {
				t.SuspendedState.ScheduledScalingSuspended = st.ScheduledScalingSuspended
			}
		}
		return tx.Put(s.Row(kindTarget, key, "", *t.ScalableTargetARN), t)
	})
	if err != nil {
		return nil, err
	}
	// A new minimum above the service's count, or maximum below it,
	// scales it there: "It also initiates scaling activities when you
	// modify the maximum or minimum size of the scalable target"
	// (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scaling-activities.html).
	b.enforceBounds(ctx, t.ScalableTarget, in.MinCapacity != nil, in.MaxCapacity != nil)
	return &aas.RegisterScalableTargetOutput{ScalableTargetARN: t.ScalableTargetARN}, nil
}

// DeregisterScalableTarget deregisters a target, deleting its policies
// (and the alarms target tracking made for them) and scheduled actions.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html
func (b *Backend) DeregisterScalableTarget(ctx context.Context, in *aas.DeregisterScalableTargetInput) (*aas.DeregisterScalableTargetOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	key := targetKey(string(in.ServiceNamespace), aws.ToString(in.ResourceId), string(in.ScalableDimension))
	var owned []string
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindTarget, key)); err != nil {
			return err
		} else if !ok {
			return errNotFound("No scalable target found for service namespace: %s, resource ID: %s, scalable dimension: %s", in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension)
		}
		policies, err := sqlite.ListAll[policy](tx, s.Query(kindPolicy, key))
		if err != nil {
			return err
		}
		for _, p := range policies {
			owned = append(owned, p.alarmNames()...)
		}
		if err := tx.DeleteAll(s.Query(kindPolicy, key)); err != nil {
			return err
		}
		if err := tx.DeleteAll(s.Query(kindScheduled, key)); err != nil {
			return err
		}
		return tx.Delete(s.Key(kindTarget, key))
	})
	if err != nil {
		return nil, err
	}
	b.deleteAlarms(ctx, owned)
	return &aas.DeregisterScalableTargetOutput{}, nil
}

// DescribeScalableTargets lists the targets of a namespace, of some
// resource ids, in registration order.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScalableTargets.html
func (b *Backend) DescribeScalableTargets(ctx context.Context, in *aas.DescribeScalableTargetsInput) (*aas.DescribeScalableTargetsOutput, error) {
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	page, next, err := describe(ctx, b, kindTarget, in.MaxResults, in.NextToken, func(t target) bool {
		return t.ServiceNamespace != in.ServiceNamespace ||
			in.ScalableDimension != "" && t.ScalableDimension != in.ScalableDimension ||
			len(in.ResourceIds) > 0 && !slices.Contains(in.ResourceIds, aws.ToString(t.ResourceId))
	}, func(t target) string { return aws.ToString(t.ScalableTargetARN) })
	if err != nil {
		return nil, err
	}
	out := &aas.DescribeScalableTargetsOutput{ScalableTargets: []types.ScalableTarget{}, NextToken: next}
	for _, t := range page {
		out.ScalableTargets = append(out.ScalableTargets, t.ScalableTarget)
	}
	return out, nil
}

// describe is a Describe call's page: the stored resources of kind in
// ctx's scope that drop keeps, in key order, at most maxResults (50 by
// default, checked by the caller) after token, with the next page's
// token.
func describe[T any](ctx context.Context, b *Backend, kind string, maxResults *int32, token *string, drop func(T) bool, key func(T) string) ([]T, *string, error) {
	var all []T
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[T](tx, backend.ScopeFrom(ctx).Query(kind, ""))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	page, next, err := backend.PageOf(slices.DeleteFunc(all, drop), key, token, maxResults, 50)
	if err != nil {
		return nil, nil, errInvalidToken()
	}
	return page, next, nil
}

// checkMaxResults checks a page size: 1 to 50, as every Describe of the
// reference says.
func checkMaxResults(n *int32) error {
	if n != nil && (*n < 1 || *n > 50) {
		return errValidation("MaxResults must be between 1 and 50.")
	}
	return nil
}

// getTarget reads a registered target, or errNoTarget.
func getTarget(tx *sqlite.Tx, s backend.Scope, namespace types.ServiceNamespace, resourceID string, dimension types.ScalableDimension) (target, error) {
	var t target
	err := tx.Get(s.Key(kindTarget, targetKey(string(namespace), resourceID, string(dimension))), &t)
	if errors.Is(err, sqlite.ErrNotFound) {
		return t, errNoTarget(string(namespace), resourceID, string(dimension))
	}
	return t, err
}
