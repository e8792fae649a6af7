package ecs

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/sqlite"
)

// StopUnrun is the agent of a berth without a runtime (--runtime none),
// where tasks are recorded but never run: each task asked to stop is
// recorded STOPPED at once, as ECS records a task whose containers have
// ended, so that it frees its instance's resources and leaves its
// cluster deletable; stopped tasks are forgotten after stoppedRetention.
// It returns when ctx ends.
func (b *Backend) StopUnrun(ctx context.Context, sweep time.Duration, log zerolog.Logger) {
	tick := time.NewTicker(sweep)
	defer tick.Stop()
	wake := b.woken()
	for {
		if err := b.stopUnrun(ctx); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("recording stopped tasks") // the next wake or sweep tries again
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
			if err := b.forgetStoppedTasks(ctx); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Msg("forgetting stopped tasks")
			}
		}
	}
}

// stopUnrun records STOPPED every live task whose desired status is:
// those of the STOPPING index (taskIndex) alone, not every live task,
// since it runs after each RunTask.
func (b *Backend) stopUnrun(ctx context.Context) error {
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		stopping, err := sqlite.ScanAll[types.Task](tx, kindTask, statusStopping)
		if err != nil {
			return err
		}
		now := b.now()
		for _, k := range stopping {
			t := k.Value
			if aws.ToString(t.DesiredStatus) != statusStopped {
				continue
			}
			markStopped(&t, now)
			t.Version++
			if err := putTask(tx, backend.Scope{Account: k.Key.Account, Region: k.Key.Region}, t); err != nil {
				return err
			}
		}
		return nil
	})
}
