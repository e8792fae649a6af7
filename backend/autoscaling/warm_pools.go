package autoscaling

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// A warm pool is a record on its group: it holds no instances.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html

// PutWarmPool creates or replaces a group's warm pool: state Stopped and
// minimum size 0 by default.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html
func (b *Backend) PutWarmPool(ctx context.Context, in *asapi.PutWarmPoolInput) (*asapi.PutWarmPoolOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	if v := in.MaxGroupPreparedCapacity; v != nil && *v < -1 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'maxGroupPreparedCapacity' failed to satisfy constraint: Member must have value greater than or equal to -1", *v)
	}
	if v := in.MinSize; v != nil && *v < 0 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'minSize' failed to satisfy constraint: Member must have value greater than or equal to 0", *v)
	}
	pool := &types.WarmPoolConfiguration{PoolState: types.WarmPoolStateStopped, MinSize: aws.Int32(0), MaxGroupPreparedCapacity: in.MaxGroupPreparedCapacity,
		InstanceReusePolicy: in.InstanceReusePolicy}
	if in.PoolState != "" {
		pool.PoolState = in.PoolState
	}
	if in.MinSize != nil {
		pool.MinSize = in.MinSize
	}
	err := b.changeGroup(ctx, aws.ToString(in.AutoScalingGroupName), func(g *types.AutoScalingGroup) error {
		g.WarmPoolConfiguration, g.WarmPoolSize = pool, aws.Int32(0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.PutWarmPoolOutput{}, nil
}

// DescribeWarmPool describes a group's warm pool: no configuration when
// it has none.
func (b *Backend) DescribeWarmPool(ctx context.Context, in *asapi.DescribeWarmPoolInput) (*asapi.DescribeWarmPoolOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	if _, err := maxRecords(in.MaxRecords, 50, 50); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	var g types.AutoScalingGroup
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		g, err = loadGroup(tx, s, aws.ToString(in.AutoScalingGroupName))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeWarmPoolOutput{WarmPoolConfiguration: g.WarmPoolConfiguration, Instances: []types.Instance{}}, nil
}

// DeleteWarmPool deletes a group's warm pool.
func (b *Backend) DeleteWarmPool(ctx context.Context, in *asapi.DeleteWarmPoolInput) (*asapi.DeleteWarmPoolOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AutoScalingGroupName)
	err := b.changeGroup(ctx, name, func(g *types.AutoScalingGroup) error {
		if g.WarmPoolConfiguration == nil {
			return errValidation("No warm pool found for Auto Scaling group %s.", name)
		}
		g.WarmPoolConfiguration, g.WarmPoolSize = nil, nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteWarmPoolOutput{}, nil
}
