package autoscaling

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	asapi "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// Lifecycle hooks are records: instances pass them at once, as if every
// action were completed with CONTINUE.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks.html

// transitions are the lifecycle transitions a hook may wait at.
var transitions = []string{"autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"}

// hookLimit is how many hooks a group may have.
const hookLimit = 50

// newHook validates a hook and fills in its defaults: heartbeat 3600 s,
// result ABANDON, global timeout 100 heartbeats or 48 hours, whichever is
// less.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutLifecycleHook.html
func newHook(h types.LifecycleHook) (types.LifecycleHook, error) {
	name := aws.ToString(h.LifecycleHookName)
	if len(name) < 1 || len(name) > 255 {
		return h, errValidation("1 validation error detected: Value '%s' at 'lifecycleHookName' failed to satisfy constraint: Member must have length between 1 and 255", name)
	}
	if !slices.Contains(transitions, aws.ToString(h.LifecycleTransition)) {
		return h, errValidation("Invalid Lifecycle Transition: %s", aws.ToString(h.LifecycleTransition))
	}
	if h.HeartbeatTimeout == nil {
		h.HeartbeatTimeout = aws.Int32(3600)
	}
	if t := *h.HeartbeatTimeout; t < 30 || t > 7200 {
		return h, errValidation("Heartbeat timeout must be between 30 and 7200 seconds: %d", t)
	}
	switch aws.ToString(h.DefaultResult) {
	case "":
		h.DefaultResult = aws.String("ABANDON")
	case "CONTINUE", "ABANDON":
	default:
		return h, errValidation("Invalid value for Lifecycle Hook Default Result: %s", *h.DefaultResult)
	}
	h.GlobalTimeout = aws.Int32(min(100**h.HeartbeatTimeout, 172800))
	return h, nil
}

// newHooks validates the hooks a group is created with.
func newHooks(group string, specs []types.LifecycleHookSpecification) ([]types.LifecycleHook, error) {
	var out []types.LifecycleHook
	for _, sp := range specs {
		h, err := newHook(types.LifecycleHook{
			AutoScalingGroupName: aws.String(group), LifecycleHookName: sp.LifecycleHookName, LifecycleTransition: sp.LifecycleTransition,
			DefaultResult: sp.DefaultResult, HeartbeatTimeout: sp.HeartbeatTimeout, NotificationMetadata: sp.NotificationMetadata,
			NotificationTargetARN: sp.NotificationTargetARN, RoleARN: sp.RoleARN,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func putHook(tx *sqlite.Tx, s backend.Scope, h types.LifecycleHook) error {
	return tx.Put(s.Row(kindHook, *h.AutoScalingGroupName+"/"+*h.LifecycleHookName, *h.AutoScalingGroupName, *h.LifecycleHookName), h)
}

// PutLifecycleHook creates or replaces a lifecycle hook of a group.
func (b *Backend) PutLifecycleHook(ctx context.Context, in *asapi.PutLifecycleHookInput) (*asapi.PutLifecycleHookOutput, error) {
	if err := required(in, "AutoScalingGroupName", "LifecycleHookName"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	group := aws.ToString(in.AutoScalingGroupName)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadGroup(tx, s, group); err != nil {
			return err
		}
		var h types.LifecycleHook
		err := tx.Get(s.Key(kindHook, group+"/"+aws.ToString(in.LifecycleHookName)), &h)
		switch {
		case isNotFound(err):
			if in.LifecycleTransition == nil {
				return errValidation("Invalid Lifecycle Transition: the new lifecycle hook needs one")
			}
			n, err := tx.Count(s.Query(kindHook, group))
			if err != nil {
				return err
			}
			if n >= hookLimit {
				return errLimit("The quota of %d lifecycle hooks per group has been reached.", hookLimit)
			}
			h = types.LifecycleHook{AutoScalingGroupName: aws.String(group), LifecycleHookName: in.LifecycleHookName}
		case err != nil:
			return err
		}
		if in.LifecycleTransition != nil {
			h.LifecycleTransition = in.LifecycleTransition
		}
		if in.HeartbeatTimeout != nil {
			h.HeartbeatTimeout = in.HeartbeatTimeout
		}
		if in.DefaultResult != nil {
			h.DefaultResult = in.DefaultResult
		}
		if in.NotificationMetadata != nil {
			h.NotificationMetadata = in.NotificationMetadata
		}
		if in.NotificationTargetARN != nil {
			h.NotificationTargetARN = in.NotificationTargetARN
		}
		if in.RoleARN != nil {
			h.RoleARN = in.RoleARN
		}
		h, err = newHook(h)
		if err != nil {
			return err
		}
		return putHook(tx, s, h)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.PutLifecycleHookOutput{}, nil
}

// DescribeLifecycleHooks lists a group's hooks, or those named.
func (b *Backend) DescribeLifecycleHooks(ctx context.Context, in *asapi.DescribeLifecycleHooksInput) (*asapi.DescribeLifecycleHooksOutput, error) {
	if err := required(in, "AutoScalingGroupName"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	group := aws.ToString(in.AutoScalingGroupName)
	var hooks []types.LifecycleHook
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if _, err := loadGroup(tx, s, group); err != nil {
			return err
		}
		hooks, err = sqlite.ListAll[types.LifecycleHook](tx, s.Query(kindHook, group))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.LifecycleHookNames) > 0 {
		hooks = slices.DeleteFunc(hooks, func(h types.LifecycleHook) bool { return !slices.Contains(in.LifecycleHookNames, *h.LifecycleHookName) })
	}
	return &asapi.DescribeLifecycleHooksOutput{LifecycleHooks: backend.OrEmpty(hooks)}, nil
}

// DeleteLifecycleHook deletes a hook of a group.
func (b *Backend) DeleteLifecycleHook(ctx context.Context, in *asapi.DeleteLifecycleHookInput) (*asapi.DeleteLifecycleHookOutput, error) {
	if err := required(in, "AutoScalingGroupName", "LifecycleHookName"); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	group, name := aws.ToString(in.AutoScalingGroupName), aws.ToString(in.LifecycleHookName)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadGroup(tx, s, group); err != nil {
			return err
		}
		key := s.Key(kindHook, group+"/"+name)
		if ok, err := tx.Exists(key); err != nil || !ok {
			if err != nil {
				return err
			}
			return errValidation("No Lifecycle Hook found with name %s for group %s", name, group)
		}
		return tx.Delete(key)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteLifecycleHookOutput{}, nil
}
