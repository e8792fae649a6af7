package secretsmanager

import (
	"context"
	"time"

	"berth/backend"
	"berth/sqlite"
)

// A secret scheduled for deletion no longer exists once its recovery
// window has passed: every operation treats it so at once, and Purge
// removes its row, values included, every purgeEvery.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html

// purgeEvery is how often Run purges.
const purgeEvery = 10 * time.Minute

// Run purges the secrets whose recovery window has passed every purgeEvery
// until ctx ends.
func (b *Backend) Run(ctx context.Context) {
	backend.Every(ctx, purgeEvery, func(ctx context.Context) { b.Purge(ctx) })
}

// Purge removes the secrets, in every scope, whose recovery window has
// passed, and returns how many it removed.
func (b *Backend) Purge(ctx context.Context) (int, error) {
	now := b.now()
	n := 0
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		all, err := sqlite.ScanAll[secret](tx, kindSecret, "")
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.Value.gone(now) {
				if err := drop(tx, s.Key, s.Value.ARN); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}
