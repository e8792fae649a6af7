package autoscaling

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// A warm pool is a record on its group: it holds no instances.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html

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

// PutWarmPool creates or replaces a group's warm pool: state Stopped and
// minimum size 0 by default.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html
func (b *Backend) PutWarmPool(ctx context.Context, in *asapi.PutWarmPoolInput) (*asapi.PutWarmPoolOutput, error) {
	if v := in.MaxGroupPreparedCapacity; v != nil && *v < -1 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'maxGroupPreparedCapacity' failed to satisfy constraint: Member must have value greater than or equal to -1", *v)
	}
	if v := in.MinSize; v != nil && *v < 0 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'minSize' failed to satisfy constraint: Member must have value greater than or equal to 0", *v)
	}
	pool := &types.WarmPoolConfiguration{PoolState: types.WarmPoolStateStopped, MinSize: aws.Int32(0), MaxGroupPreparedCapacity: in.MaxGroupPreparedCapacity,
		InstanceReusePolicy: in.InstanceReusePolicy}
	if in.PoolState != "" {
		if !slices.Contains(types.WarmPoolState("").Values(), in.PoolState) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'poolState' failed to satisfy constraint: Member must satisfy enum value set: [Stopped, Running, Hibernated]", in.PoolState)
		}
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

// processes are the scaling processes that may be suspended.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-suspend-resume-processes.html
var processes = []string{"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"HealthCheck", "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions"}

func validProcesses(names []string) error {
	for _, n := range names {
		if !slices.Contains(processes, n) {
			return errValidation("Process names must be one of: %s; got %s", strings.Join(processes, ", "), n)
		}
	}
	return nil
}

// SuspendProcesses suspends scaling processes of a group (all when none
// is named). Suspended Launch and Terminate stop it from reaching its
// desired capacity.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_SuspendProcesses.html
func (b *Backend) SuspendProcesses(ctx context.Context, in *asapi.SuspendProcessesInput) (*asapi.SuspendProcessesOutput, error) {
	if err := validProcesses(in.ScalingProcesses); err != nil {
		return nil, err
	}
	names := in.ScalingProcesses
	if len(names) == 0 {
		names = processes
	}
	reason := "User suspended at " + b.now().Format("2006-01-02T15:04:05Z")
	err := b.changeGroup(ctx, aws.ToString(in.AutoScalingGroupName), func(g *types.AutoScalingGroup) error {
		for _, n := range names {
			if !suspended(*g, n) {
				g.SuspendedProcesses = append(g.SuspendedProcesses, types.SuspendedProcess{ProcessName: aws.String(n), SuspensionReason: aws.String(reason)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SuspendProcessesOutput{}, nil
}

// ResumeProcesses resumes suspended processes (all when none is named);
// the group then scales to its desired capacity if it can.
func (b *Backend) ResumeProcesses(ctx context.Context, in *asapi.ResumeProcessesInput) (*asapi.ResumeProcessesOutput, error) {
	if err := validProcesses(in.ScalingProcesses); err != nil {
		return nil, err
	}
	name := aws.ToString(in.AutoScalingGroupName)
	err := b.changeGroup(ctx, name, func(g *types.AutoScalingGroup) error {
		g.SuspendedProcesses = slices.DeleteFunc(g.SuspendedProcesses, func(p types.SuspendedProcess) bool {
			return len(in.ScalingProcesses) == 0 || slices.Contains(in.ScalingProcesses, aws.ToString(p.ProcessName))
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.scale(ctx, backend.ScopeFrom(ctx), name, "a user request resumed scaling processes"); err != nil {
		return nil, err
	}
	return &asapi.ResumeProcessesOutput{}, nil
}

// DescribeScalingProcessTypes lists the scaling processes.
func (b *Backend) DescribeScalingProcessTypes(ctx context.Context, in *asapi.DescribeScalingProcessTypesInput) (*asapi.DescribeScalingProcessTypesOutput, error) {
	out := &asapi.DescribeScalingProcessTypesOutput{Processes: []types.ProcessType{}}
	for _, p := range processes {
		out.Processes = append(out.Processes, types.ProcessType{ProcessName: aws.String(p)})
	}
	return out, nil
}
