package ecs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// kindTaskProtection holds the scale-in protection of service tasks.
const kindTaskProtection = "ecs/task-protection"

// protection reads a task's protection; an expired one reads as none.
func (b *Backend) protection(tx *sqlite.Tx, s scope, t types.Task) (types.ProtectedTask, error) {
	p := types.ProtectedTask{TaskArn: t.TaskArn}
	err := tx.Get(s.Key(kindTaskProtection, *t.TaskArn), &p)
	if err != nil && !errors.Is(err, sqlite.ErrNotFound) {
		return p, err
	}
	if p.ExpirationDate != nil && !b.env.Clock().Before(*p.ExpirationDate) {
		return types.ProtectedTask{TaskArn: t.TaskArn}, nil
	}
	return p, nil
}

// forTasks runs fn for each task named, reporting unknown or non-service
// tasks as failures, as ECS does.
func (b *Backend) forTasks(tx *sqlite.Tx, s scope, cluster *string, refs []string, fn func(types.Task) (types.ProtectedTask, error)) ([]types.ProtectedTask, []types.Failure, error) {
	if len(refs) == 0 || len(refs) > 10 {
		return nil, nil, errInvalidParameter("tasks must have between 1 and 10 items.")
	}
	c, err := b.cluster(tx, s, cluster)
	if err != nil {
		return nil, nil, err
	}
	protected, failures := []types.ProtectedTask{}, []types.Failure{}
	for _, ref := range refs {
		t, err := b.task(tx, s, c, ref)
		switch {
		case err != nil:
			failures = append(failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("TASK_NOT_FOUND")})
		case !strings.HasPrefix(aws.ToString(t.Group), "service:"):
			failures = append(failures, types.Failure{Arn: t.TaskArn, Reason: aws.String("TASK_NOT_VALID"), Detail: aws.String("Task protection is only supported for tasks that are part of a service.")})
		default:
			p, err := fn(t)
			if err != nil {
				return nil, nil, err
			}
			protected = append(protected, p)
		}
	}
	return protected, failures, nil
}

// GetTaskProtection reports the scale-in protection of service tasks.
func (b *Backend) GetTaskProtection(ctx context.Context, in *ecsapi.GetTaskProtectionInput) (*ecsapi.GetTaskProtectionOutput, error) {
	s := scopeOf(ctx)
	out := &ecsapi.GetTaskProtectionOutput{}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		var err error
		out.ProtectedTasks, out.Failures, err = b.forTasks(tx, s, in.Cluster, in.Tasks, func(t types.Task) (types.ProtectedTask, error) {
			return b.protection(tx, s, t)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTaskProtection protects service tasks from scale-in for
// expiresInMinutes (default 120, at most 2880), or removes the protection.
func (b *Backend) UpdateTaskProtection(ctx context.Context, in *ecsapi.UpdateTaskProtectionInput) (*ecsapi.UpdateTaskProtectionOutput, error) {
	s := scopeOf(ctx)
	minutes := int32(120)
	if in.ExpiresInMinutes != nil {
		minutes = *in.ExpiresInMinutes
	}
	if minutes < 1 || minutes > 2880 {
		return nil, errInvalidParameter("expiresInMinutes must be between 1 and 2880.")
	}
	out := &ecsapi.UpdateTaskProtectionOutput{}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var err error
		out.ProtectedTasks, out.Failures, err = b.forTasks(tx, s, in.Cluster, in.Tasks, func(t types.Task) (types.ProtectedTask, error) {
			p := types.ProtectedTask{TaskArn: t.TaskArn, ProtectionEnabled: in.ProtectionEnabled}
			if !in.ProtectionEnabled {
				return p, tx.Delete(s.Key(kindTaskProtection, *t.TaskArn))
			}
			until := b.now().Add(time.Duration(minutes) * time.Minute)
			p.ExpirationDate = &until
			return p, tx.Put(s.Row(kindTaskProtection, *t.TaskArn, *t.ClusterArn, ""), p)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
