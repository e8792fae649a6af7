package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// RunTask is idempotent by its clientToken, which the SDKs fill in and
// keep when they retry: a call that ran answers again with its tasks, as
// they are now, and its failures, instead of starting more. Tokens are
// kept as long as stopped tasks, an hour.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-clientToken

// kindRunToken is a RunTask's client token and what the call answered.
const kindRunToken = "ecs/run-token"

type runToken struct {
	TaskArns []string
	Failures []types.Failure
	At       int64 // ms since the epoch
}

// ranBefore returns what the RunTask with client token answered, when one
// did within the hour.
func (b *Backend) ranBefore(ctx context.Context, s scope, token string) ([]types.Task, []types.Failure, bool, error) {
	var tasks []types.Task
	var run runToken
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(s.Key(kindRunToken, token), &run); err != nil {
			return err
		}
		for _, arn := range run.TaskArns {
			var t types.Task
			if err := tx.Get(s.Key(kindTask, arn), &t); err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		return nil
	})
	switch {
	case errors.Is(err, sqlite.ErrNotFound):
		return nil, nil, false, nil
	case err != nil:
		return nil, nil, false, err
	}
	return tasks, run.Failures, true, nil
}

// rememberRun keeps what a RunTask with client token answered.
func (b *Backend) rememberRun(ctx context.Context, s scope, token string, tasks []types.Task, failures []types.Failure) error {
	run := runToken{Failures: failures, At: b.env.Clock().UnixMilli()}
	for _, t := range tasks {
		run.TaskArns = append(run.TaskArns, *t.TaskArn)
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error { return tx.Put(s.Row(kindRunToken, token, "", ""), run) })
}

// forgetRunTokens deletes the client tokens older than cutoff.
func forgetRunTokens(tx *sqlite.Tx, cutoff time.Time) error {
	return tx.DeleteScanned(kindRunToken, func(_ sqlite.Key, body []byte) bool {
		var run runToken
		return json.Unmarshal(body, &run) == nil && run.At < cutoff.UnixMilli()
	})
}
