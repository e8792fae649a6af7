package appautoscaling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"berth/backend"
	"berth/sqlite"
)

// scheduled is a stored scheduled action and when it next runs.
type scheduled struct {
	types.ScheduledAction
	// Next is when the action runs next; zero when it never will.
	Next time.Time
}

// maxScheduled is how many scheduled actions a target may have
// ("Scheduled actions per scalable target: 200").
// https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-limits.html
const maxScheduled = 200

// parseAction reads an action's schedule in its time zone.
func parseAction(a types.ScheduledAction) (schedule, error) {
	loc, err := time.LoadLocation(aws.ToString(a.Timezone))
	if err != nil || aws.ToString(a.Timezone) == "" || strings.EqualFold(aws.ToString(a.Timezone), "local") {
		return schedule{}, errValidation("Timezone %q is not a time zone of the IANA database (such as Etc/GMT+9 or Pacific/Tahiti).", aws.ToString(a.Timezone))
	}
	sch, err := parseSchedule(aws.ToString(a.Schedule), loc)
	if err != nil {
		return schedule{}, errValidation("Schedule %s is not valid: %v.", aws.ToString(a.Schedule), err)
	}
	return sch, nil
}

// nextRun is when an action runs next after after, within its start and
// end times; zero for never.
func nextRun(a types.ScheduledAction, sch schedule, after time.Time) time.Time {
	anchor := aws.ToTime(a.CreationTime)
	if a.StartTime != nil {
		anchor = *a.StartTime
		if after.Before(*a.StartTime) {
			after = a.StartTime.Add(-time.Nanosecond)
		}
	}
	t, ok := sch.next(after, anchor)
	if !ok || a.EndTime != nil && t.After(*a.EndTime) {
		return time.Time{}
	}
	return t
}

// PutScheduledAction creates or updates a scheduled action of a
// registered target.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
func (b *Backend) PutScheduledAction(ctx context.Context, in *aas.PutScheduledActionInput) (*aas.PutScheduledActionOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	if act := in.ScalableTargetAction; act != nil {
		if act.MinCapacity != nil && *act.MinCapacity < 0 || act.MaxCapacity != nil && *act.MaxCapacity < 0 {
			return nil, errValidation("Minimum and maximum capacity must not be negative.")
		}
		if act.MinCapacity != nil && act.MaxCapacity != nil && *act.MinCapacity > *act.MaxCapacity {
			return nil, errValidation("Minimum capacity cannot be greater than maximum capacity")
		}
	}
	if in.StartTime != nil && in.EndTime != nil && !in.EndTime.After(*in.StartTime) {
		return nil, errValidation("EndTime must be after StartTime.")
	}
	s := backend.ScopeFrom(ctx)
	resourceID, name := aws.ToString(in.ResourceId), aws.ToString(in.ScheduledActionName)
	tkey := targetKey(string(in.ServiceNamespace), resourceID, string(in.ScalableDimension))
	key := childKey(tkey, name)
	now := b.env.Clock()
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := getTarget(tx, s, in.ServiceNamespace, resourceID, in.ScalableDimension); err != nil {
			return err
		}
		var a scheduled
		err := tx.Get(s.Key(kindScheduled, key), &a)
		switch {
		case errors.Is(err, sqlite.ErrNotFound):
			if n, err := tx.Count(s.Query(kindScheduled, tkey)); err != nil {
				return err
			} else if n >= maxScheduled {
				return errLimit("A scalable target can have at most %d scheduled actions.", maxScheduled)
			}
			if in.Schedule == nil {
				return errValidation("Schedule is required when creating a scheduled action.")
			}
			a = scheduled{ScheduledAction: types.ScheduledAction{
				ScheduledActionName: aws.String(name),
				ScheduledActionARN: aws.String(fmt.Sprintf("arn:aws:autoscaling:%s:%s:scheduledAction:%s:%s:scheduledActionName/%s",
					s.Region, s.Account, backend.NewUUID(b.env.IDs), ecsARNPart(resourceID), name)),
				ServiceNamespace: in.ServiceNamespace, ResourceId: aws.String(resourceID), ScalableDimension: in.ScalableDimension,
				CreationTime: &now, Timezone: aws.String("UTC"),
			}}
		case err != nil:
			return err
		}
		if in.Schedule != nil {
			a.Schedule = in.Schedule
		}
		if in.Timezone != nil {
			a.Timezone = in.Timezone
		}
		if in.ScalableTargetAction != nil {
			a.ScalableTargetAction = in.ScalableTargetAction
		}
		// An update replaces the start and end times as given.
		a.StartTime, a.EndTime = in.StartTime, in.EndTime
		sch, err := parseAction(a.ScheduledAction)
		if err != nil {
			return err
		}
		a.Next = nextRun(a.ScheduledAction, sch, now.Add(-time.Nanosecond)) // an action for now runs now
		return tx.Put(s.Row(kindScheduled, key, tkey, aws.ToString(a.ScheduledActionARN)), a)
	})
	if err != nil {
		return nil, err
	}
	return &aas.PutScheduledActionOutput{}, nil
}

// DescribeScheduledActions lists the scheduled actions of a namespace, of
// one resource, of some names.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DescribeScheduledActions.html
func (b *Backend) DescribeScheduledActions(ctx context.Context, in *aas.DescribeScheduledActionsInput) (*aas.DescribeScheduledActionsOutput, error) {
	if err := checkMaxResults(in.MaxResults); err != nil {
		return nil, err
	}
	if in.ScalableDimension != "" && in.ResourceId == nil {
		return nil, errValidation("ResourceId is required when ScalableDimension is given.")
	}
	page, next, err := describe(ctx, b, kindScheduled, in.MaxResults, in.NextToken, func(a scheduled) bool {
		return a.ServiceNamespace != in.ServiceNamespace ||
			in.ResourceId != nil && aws.ToString(a.ResourceId) != *in.ResourceId ||
			in.ScalableDimension != "" && a.ScalableDimension != in.ScalableDimension ||
			len(in.ScheduledActionNames) > 0 && !slices.Contains(in.ScheduledActionNames, aws.ToString(a.ScheduledActionName))
	}, func(a scheduled) string { return aws.ToString(a.ScheduledActionARN) })
	if err != nil {
		return nil, err
	}
	out := &aas.DescribeScheduledActionsOutput{ScheduledActions: []types.ScheduledAction{}, NextToken: next}
	for _, a := range page {
		out.ScheduledActions = append(out.ScheduledActions, a.ScheduledAction)
	}
	return out, nil
}

// DeleteScheduledAction deletes a scheduled action.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScheduledAction.html
func (b *Backend) DeleteScheduledAction(ctx context.Context, in *aas.DeleteScheduledActionInput) (*aas.DeleteScheduledActionOutput, error) {
	if err := checkTarget(in.ServiceNamespace, in.ResourceId, in.ScalableDimension); err != nil {
		return nil, err
	}
	s := backend.ScopeFrom(ctx)
	key := childKey(targetKey(string(in.ServiceNamespace), aws.ToString(in.ResourceId), string(in.ScalableDimension)), aws.ToString(in.ScheduledActionName))
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindScheduled, key)); err != nil {
			return err
		} else if !ok {
			return errNotFound("No scheduled action found for service namespace: %s, resource ID: %s, scalable dimension: %s, scheduled action name: %s",
				in.ServiceNamespace, aws.ToString(in.ResourceId), in.ScalableDimension, aws.ToString(in.ScheduledActionName))
		}
		return tx.Delete(s.Key(kindScheduled, key))
	})
	if err != nil {
		return nil, err
	}
	return &aas.DeleteScheduledActionOutput{}, nil
}

// scheduleTick is how often Run looks for scheduled actions due: a
// second, so that an at() runs within a second of its time.
const scheduleTick = time.Second

// Run runs the scheduled actions that fall due on berth's clock, until
// ctx ends.
func (b *Backend) Run(ctx context.Context) {
	backend.Every(ctx, scheduleTick, func(ctx context.Context) { b.RunDue(ctx) })
}

// RunDue runs every scheduled action due now, in every account and
// region, and returns how many ran.
func (b *Backend) RunDue(ctx context.Context) int {
	now := b.env.Clock()
	var due []sqlite.Keyed[scheduled]
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		all, err := sqlite.ScanAll[scheduled](tx, kindScheduled, "")
		for _, a := range all {
			if !a.Value.Next.IsZero() && !now.Before(a.Value.Next) {
				due = append(due, a)
			}
		}
		return err
	})
	if err != nil {
		b.log.Warn().Err(err).Msg("reading the scheduled actions due")
		return 0
	}
	for _, a := range due {
		b.runScheduled(backend.WithScope(ctx, backend.Scope{Account: a.Key.Account, Region: a.Key.Region}), a.Key.ID, a.Value, now)
	}
	return len(due)
}

// runScheduled runs one scheduled action: it sets the target's minimum
// and maximum as the action says and brings the service within them ("If
// current capacity is less than the specified minimum capacity,
// Application Auto Scaling scales out ... to the specified minimum
// capacity", https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html),
// records the activity in the words of the User Guide's CLI examples of
// scheduled scaling as remembered ("Setting min capacity to 5 and max
// capacity to 10", cause "scheduled action name my-second-scheduled-action
// was triggered"; not checked against the page), and sets when the
// action runs next.
func (b *Backend) runScheduled(ctx context.Context, key string, a scheduled, now time.Time) {
	s := backend.ScopeFrom(ctx)
	tkey := targetKey(string(a.ServiceNamespace), aws.ToString(a.ResourceId), string(a.ScalableDimension))
	act := a.ScalableTargetAction
	if act == nil {
		act = &types.ScalableTargetAction{}
	}
	var t target
	var fault error
	skip := false
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var still scheduled
		if err := tx.Get(s.Key(kindScheduled, key), &still); err != nil {
			return err
		}
		if !still.Next.Equal(a.Next) { // changed since read: the next run decides
			skip = true
			return nil
		}
		var err error
		if t, err = getTarget(tx, s, a.ServiceNamespace, aws.ToString(a.ResourceId), a.ScalableDimension); err != nil {
			return err
		}
		if sch, err := parseAction(a.ScheduledAction); err == nil {
			still.Next = nextRun(a.ScheduledAction, sch, now)
		} else {
			still.Next = time.Time{}
		}
		if err := tx.Put(s.Row(kindScheduled, key, tkey, aws.ToString(a.ScheduledActionARN)), still); err != nil {
			return err
		}
		if t.SuspendedState != nil && aws.ToBool(t.SuspendedState.ScheduledScalingSuspended) {
			skip = true
			return nil
		}
		lo, hi := aws.ToInt32(t.MinCapacity), aws.ToInt32(t.MaxCapacity)
		if act.MinCapacity != nil {
			lo = *act.MinCapacity
		}
		if act.MaxCapacity != nil {
			hi = *act.MaxCapacity
		}
		if lo > hi {
			fault = fmt.Errorf("the minimum capacity %d would exceed the maximum %d", lo, hi)
			return nil
		}
		t.MinCapacity, t.MaxCapacity = &lo, &hi
		return tx.Put(s.Row(kindTarget, tkey, "", aws.ToString(t.ScalableTargetARN)), t)
	})
	if err != nil || skip {
		if err != nil && !errors.Is(err, sqlite.ErrNotFound) { // else deleted meanwhile
			b.log.Warn().Err(err).Str("scheduled_action", aws.ToString(a.ScheduledActionARN)).Msg("running a scheduled action")
		}
		return
	}
	var parts []string
	if act.MinCapacity != nil {
		parts = append(parts, fmt.Sprintf("min capacity to %d", *act.MinCapacity))
	}
	if act.MaxCapacity != nil {
		parts = append(parts, fmt.Sprintf("max capacity to %d", *act.MaxCapacity))
	}
	what := strings.Join(parts, " and ")
	ac := activity(t.ScalableTarget, now)
	ac.Description = aws.String("Setting " + what)
	ac.Cause = aws.String(fmt.Sprintf("scheduled action name %s was triggered", aws.ToString(a.ScheduledActionName)))
	end := b.env.Clock()
	ac.EndTime = &end
	if fault != nil {
		ac.StatusCode = types.ScalingActivityStatusCodeFailed
		ac.StatusMessage = aws.String(fmt.Sprintf("Failed to set %s: %v", what, fault))
	} else {
		ac.StatusCode = types.ScalingActivityStatusCodeSuccessful
		ac.StatusMessage = aws.String("Successfully set " + what)
	}
	if err := b.record(ctx, ac); err != nil {
		b.log.Warn().Err(err).Msg("recording a scheduled action's activity")
	}
	if fault == nil {
		b.enforceBounds(ctx, t.ScalableTarget, act.MinCapacity != nil, act.MaxCapacity != nil)
	}
}
