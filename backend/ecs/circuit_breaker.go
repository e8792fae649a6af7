package ecs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// The deployment circuit breaker: tasks of an in-progress deployment that
// fail to start, or fail their health checks, count toward a threshold; at
// it the deployment FAILS and, with rollback, the service goes back to the
// revision it ran before.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html

// breakerThreshold is the circuit breaker's failure threshold: by default
// half the desired count, at least 3 and at most 200.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ThresholdConfiguration.html
func breakerThreshold(dc *types.DeploymentConfiguration, desired int32) int32 {
	kind, value := types.ThresholdTypeBoundedPercent, int32(50)
	if dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.ThresholdConfiguration != nil {
		tc := dc.DeploymentCircuitBreaker.ThresholdConfiguration
		kind, value = tc.Type, tc.Value
	}
	n := (desired*value + 99) / 100
	switch kind {
	case types.ThresholdTypeCount:
		return value
	case types.ThresholdTypeUnboundedPercent:
		return max(n, 1)
	}
	return min(max(n, 3), 200)
}

// countFailure counts a failed task of a deployment while it is the
// PRIMARY one in progress.
func countFailure(svc *types.Service, deployment string) {
	if len(svc.Deployments) == 0 {
		return
	}
	if d := &svc.Deployments[0]; aws.ToString(d.Id) == deployment && d.RolloutState == types.DeploymentRolloutStateInProgress {
		d.FailedTasks++
	}
}

// deploymentTaskFailed counts a task of the service that failed to start
// or whose essential container exited.
func (b *Backend) deploymentTaskFailed(ctx context.Context, s scope, serviceArn, deployment string) error {
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var svc types.Service
		if err := tx.Get(s.Key(kindService, serviceArn), &svc); err != nil {
			return notFound(err, func() error { return nil })
		}
		if len(svc.Deployments) == 0 {
			return nil
		}
		failed := svc.Deployments[0].FailedTasks
		countFailure(&svc, deployment)
		if svc.Deployments[0].FailedTasks == failed {
			return nil
		}
		return putService(tx, s, svc)
	})
}

// resetsOnHealthyTask reports whether a healthy task resets the failure
// count (the default).
func resetsOnHealthyTask(dc *types.DeploymentConfiguration) bool {
	return dc == nil || dc.DeploymentCircuitBreaker == nil || dc.DeploymentCircuitBreaker.ResetOnHealthyTask == nil || *dc.DeploymentCircuitBreaker.ResetOnHealthyTask
}

// tripBreaker fails the PRIMARY deployment when its failures reach the
// threshold and, with rollback, starts a deployment of the revision the
// service ran before.
func (b *Backend) tripBreaker(tx *sqlite.Tx, s scope, svc *types.Service, now *time.Time) error {
	dc := svc.DeploymentConfiguration
	if dc == nil || dc.DeploymentCircuitBreaker == nil || !dc.DeploymentCircuitBreaker.Enable || len(svc.Deployments) == 0 {
		return nil
	}
	failed := &svc.Deployments[0]
	if failed.RolloutState != types.DeploymentRolloutStateInProgress || failed.FailedTasks < breakerThreshold(dc, svc.DesiredCount) {
		return nil
	}
	return b.failDeployment(tx, s, svc, now, deploymentFailure{
		reason:   "ECS deployment circuit breaker: tasks failed to start.",
		event:    "deployment failed: tasks failed to start.",
		rollback: dc.DeploymentCircuitBreaker.Rollback,
		cause:    "ECS deployment circuit breaker",
		monitor: func(sd *types.ServiceDeployment) {
			if sd.DeploymentCircuitBreaker != nil {
				sd.DeploymentCircuitBreaker.Status, sd.DeploymentCircuitBreaker.FailureCount = types.ServiceDeploymentRollbackMonitorsStatusTriggered, failed.FailedTasks
			}
		},
	})
}

// failDeployment fails the PRIMARY deployment for f and, with rollback,
// starts a deployment of the revision the service ran before.
func (b *Backend) failDeployment(tx *sqlite.Tx, s scope, svc *types.Service, now *time.Time, f deploymentFailure) error {
	failed := &svc.Deployments[0]
	name, id := aws.ToString(svc.ServiceName), aws.ToString(failed.Id)
	failed.RolloutState, failed.UpdatedAt = types.DeploymentRolloutStateFailed, now
	failed.RolloutStateReason = aws.String(f.reason)
	addEvent(svc, b.env.IDs, now, fmt.Sprintf("(service %s) (deployment %s) %s", name, id, f.event))

	sdArn := aws.ToString(svc.CurrentServiceDeployment)
	var sd types.ServiceDeployment
	if err := tx.Get(s.Key(kindServiceDeployment, sdArn), &sd); err != nil {
		return notFound(err, func() error { return nil })
	}
	f.monitor(&sd)
	sd.UpdatedAt = now
	var rev types.ServiceRevision
	rollback := f.rollback && len(sd.SourceServiceRevisions) > 0 &&
		tx.Get(s.Key(kindServiceRevision, aws.ToString(sd.SourceServiceRevisions[0].Arn)), &rev) == nil
	if !rollback {
		sd.Status, sd.StoppedAt = types.ServiceDeploymentStatusStopped, now
		sd.StatusReason = failed.RolloutStateReason
		return tx.Put(s.Row(kindServiceDeployment, sdArn, *svc.ServiceArn, string(sd.Status)), sd)
	}
	// Roll back to the revision that ran before: a new PRIMARY deployment
	// of it replaces the failed one's tasks.
	// The deployment rolled back to is the latest completed one of that
	// revision; one still in progress when the failed one began stands in
	// for it.
	to := id
	var back *types.Deployment
	for _, completed := range []bool{true, false} {
		i := slices.IndexFunc(svc.Deployments[1:], func(d types.Deployment) bool {
			return (!completed || d.RolloutState == types.DeploymentRolloutStateCompleted) && aws.ToString(d.TaskDefinition) == aws.ToString(rev.TaskDefinition)
		})
		if i >= 0 {
			back = &svc.Deployments[1+i]
			to = aws.ToString(back.Id)
			break
		}
	}
	svc.TaskDefinition, svc.LoadBalancers, svc.ServiceRegistries = rev.TaskDefinition, rev.LoadBalancers, rev.ServiceRegistries
	svc.NetworkConfiguration, svc.CapacityProviderStrategy, svc.PlatformVersion = rev.NetworkConfiguration, rev.CapacityProviderStrategy, rev.PlatformVersion
	failed.Status = aws.String("ACTIVE")
	d := b.newDeployment(svc, now)
	// The revision's Service Connect configuration comes back too, with
	// the Cloud Map services of the deployment that ran it.
	if back != nil {
		d.ServiceConnectConfiguration, d.ServiceConnectResources = back.ServiceConnectConfiguration, back.ServiceConnectResources
	}
	d.RolloutStateReason = aws.String(f.cause + ": rolling back to deploymentId " + to + ".")
	svc.Deployments = append([]types.Deployment{d}, svc.Deployments...)
	svc.CurrentServiceRevisions = []types.ServiceCurrentRevisionSummary{{Arn: rev.ServiceRevisionArn, RequestedTaskCount: svc.DesiredCount}}
	sd.Status = types.ServiceDeploymentStatusRollbackInProgress
	sd.Rollback = &types.Rollback{Reason: d.RolloutStateReason, StartedAt: now, ServiceRevisionArn: rev.ServiceRevisionArn}
	return tx.Put(s.Row(kindServiceDeployment, sdArn, *svc.ServiceArn, string(sd.Status)), sd)
}
