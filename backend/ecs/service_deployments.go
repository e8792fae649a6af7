package ecs

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// Every deployment the ECS controller starts is recorded as a service
// revision (what the tasks run) and a service deployment (the move from the
// previous revisions to it).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html

// recordDeployment stores the revision and service deployment of the
// service's new PRIMARY deployment, marks the one it supersedes, and points
// the service at them.
func (b *Backend) recordDeployment(tx *sqlite.Tx, s scope, c types.Cluster, svc *types.Service) error {
	now := svc.Deployments[0].CreatedAt
	base := *c.ClusterName + "/" + *svc.ServiceName + "/"
	rev := types.ServiceRevision{
		ServiceRevisionArn:       aws.String(s.arn("service-revision/" + base + b.digits(19))),
		ServiceArn:               svc.ServiceArn,
		ClusterArn:               c.ClusterArn,
		TaskDefinition:           svc.TaskDefinition,
		CapacityProviderStrategy: svc.CapacityProviderStrategy,
		LaunchType:               svc.LaunchType,
		PlatformVersion:          svc.PlatformVersion,
		PlatformFamily:           svc.PlatformFamily,
		LoadBalancers:            svc.LoadBalancers,
		ServiceRegistries:        svc.ServiceRegistries,
		NetworkConfiguration:     svc.NetworkConfiguration,
		ContainerImages:          []types.ContainerImage{},
		CreatedAt:                now,
	}
	if len(svc.Deployments) > 0 {
		rev.ServiceConnectConfiguration = svc.Deployments[0].ServiceConnectConfiguration
	}
	if td, err := b.taskDefinition(tx, s, aws.ToString(svc.TaskDefinition)); err == nil {
		for _, cd := range td.ContainerDefinitions {
			rev.ContainerImages = append(rev.ContainerImages, types.ContainerImage{ContainerName: cd.Name, Image: cd.Image})
		}
	}
	if err := tx.Put(s.Row(kindServiceRevision, *rev.ServiceRevisionArn, *svc.ServiceArn, ""), rev); err != nil {
		return err
	}
	target := &types.ServiceRevisionSummary{Arn: rev.ServiceRevisionArn, RequestedTaskCount: svc.DesiredCount}
	sd := types.ServiceDeployment{
		ServiceDeploymentArn:    aws.String(s.arn("service-deployment/" + base + b.env.IDs.Hex(21))),
		ServiceArn:              svc.ServiceArn,
		ClusterArn:              c.ClusterArn,
		CreatedAt:               now,
		StartedAt:               now,
		UpdatedAt:               now,
		TargetServiceRevision:   target,
		SourceServiceRevisions:  []types.ServiceRevisionSummary{},
		Status:                  types.ServiceDeploymentStatusInProgress,
		DeploymentConfiguration: svc.DeploymentConfiguration,
		DeploymentCircuitBreaker: &types.ServiceDeploymentCircuitBreaker{
			Status: types.ServiceDeploymentRollbackMonitorsStatusDisabled, Threshold: breakerThreshold(svc.DeploymentConfiguration, svc.DesiredCount),
		},
	}
	if dc := svc.DeploymentConfiguration; dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable {
		sd.DeploymentCircuitBreaker.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoring
	}
	if dc := svc.DeploymentConfiguration; dc != nil && dc.Alarms != nil {
		sd.Alarms = &types.ServiceDeploymentAlarms{Status: types.ServiceDeploymentRollbackMonitorsStatusDisabled, AlarmNames: dc.Alarms.AlarmNames, TriggeredAlarmNames: []string{}}
		if dc.Alarms.Enable {
			sd.Alarms.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoring
		}
	}
	if svc.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted {
		sd.Status, sd.FinishedAt = types.ServiceDeploymentStatusSuccessful, now
	}
	if prev := aws.ToString(svc.CurrentServiceDeployment); prev != "" {
		var old types.ServiceDeployment
		if err := tx.Get(s.Key(kindServiceDeployment, prev), &old); err == nil {
			sd.SourceServiceRevisions = append(sd.SourceServiceRevisions, *old.TargetServiceRevision)
			if old.Status == types.ServiceDeploymentStatusInProgress || old.Status == types.ServiceDeploymentStatusPending {
				old.Status, old.StoppedAt, old.UpdatedAt = types.ServiceDeploymentStatusStopped, now, now
				old.StatusReason = aws.String("The service deployment was superseded by " + *sd.ServiceDeploymentArn + ".")
				if err := tx.Put(s.Row(kindServiceDeployment, prev, *svc.ServiceArn, string(old.Status)), old); err != nil {
					return err
				}
			}
		}
	}
	if err := tx.Put(s.Row(kindServiceDeployment, *sd.ServiceDeploymentArn, *svc.ServiceArn, string(sd.Status)), sd); err != nil {
		return err
	}
	svc.CurrentServiceDeployment = sd.ServiceDeploymentArn
	svc.CurrentServiceRevisions = []types.ServiceCurrentRevisionSummary{{Arn: rev.ServiceRevisionArn, RequestedTaskCount: svc.DesiredCount}}
	return nil
}

// ListServiceDeployments lists a service's deployments, newest first,
// optionally by status and creation time.
func (b *Backend) ListServiceDeployments(ctx context.Context, in *ecsapi.ListServiceDeploymentsInput) (*ecsapi.ListServiceDeploymentsOutput, error) {
	s := scopeOf(ctx)
	if in.Service == nil {
		return nil, errInvalidParameter("service must be specified.")
	}
	limit, err := pageLimit(in.MaxResults, 20, 100)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListServiceDeploymentsOutput{ServiceDeployments: []types.ServiceDeploymentBrief{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		_, svc, err := b.service(tx, s, in.Cluster, *in.Service)
		if err != nil {
			return err
		}
		all, err := sqlite.ListAll[types.ServiceDeployment](tx, s.Query(kindServiceDeployment, *svc.ServiceArn))
		if err != nil {
			return err
		}
		slices.Reverse(all)
		var arns []string
		for _, sd := range all {
			if len(in.Status) > 0 && !slices.Contains(in.Status, sd.Status) {
				continue
			}
			if ca := in.CreatedAt; ca != nil && ((ca.After != nil && !sd.CreatedAt.After(*ca.After)) || (ca.Before != nil && !sd.CreatedAt.Before(*ca.Before))) {
				continue
			}
			arns = append(arns, *sd.ServiceDeploymentArn)
		}
		page, next, err := pageStrings(arns, in.NextToken, limit)
		if err != nil {
			return err
		}
		for _, arn := range page {
			sd := all[slices.IndexFunc(all, func(d types.ServiceDeployment) bool { return *d.ServiceDeploymentArn == arn })]
			out.ServiceDeployments = append(out.ServiceDeployments, types.ServiceDeploymentBrief{
				ServiceDeploymentArn: sd.ServiceDeploymentArn, ServiceArn: sd.ServiceArn, ClusterArn: sd.ClusterArn,
				CreatedAt: sd.CreatedAt, StartedAt: sd.StartedAt, FinishedAt: sd.FinishedAt, Status: sd.Status,
				StatusReason: sd.StatusReason, TargetServiceRevisionArn: sd.TargetServiceRevision.Arn,
			})
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeServiceDeployments describes up to 20 service deployments.
func (b *Backend) DescribeServiceDeployments(ctx context.Context, in *ecsapi.DescribeServiceDeploymentsInput) (*ecsapi.DescribeServiceDeploymentsOutput, error) {
	out := &ecsapi.DescribeServiceDeploymentsOutput{ServiceDeployments: []types.ServiceDeployment{}}
	var err error
	out.Failures, err = describeByArn(ctx, b, in.ServiceDeploymentArns, kindServiceDeployment, func(sd types.ServiceDeployment) {
		out.ServiceDeployments = append(out.ServiceDeployments, sd)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeServiceRevisions describes up to 20 service revisions.
func (b *Backend) DescribeServiceRevisions(ctx context.Context, in *ecsapi.DescribeServiceRevisionsInput) (*ecsapi.DescribeServiceRevisionsOutput, error) {
	out := &ecsapi.DescribeServiceRevisionsOutput{ServiceRevisions: []types.ServiceRevision{}}
	var err error
	out.Failures, err = describeByArn(ctx, b, in.ServiceRevisionArns, kindServiceRevision, func(r types.ServiceRevision) {
		out.ServiceRevisions = append(out.ServiceRevisions, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// describeByArn loads up to 20 resources of one kind by ARN, reporting the
// missing ones as failures.
func describeByArn[T any](ctx context.Context, b *Backend, arns []string, kind string, found func(T)) ([]types.Failure, error) {
	s := scopeOf(ctx)
	if len(arns) == 0 || len(arns) > 20 {
		return nil, errInvalidParameter("Between 1 and 20 ARNs must be specified.")
	}
	failures := []types.Failure{}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		for _, arn := range arns {
			var v T
			if err := tx.Get(s.Key(kind, arn), &v); err != nil {
				if err = notFound(err, func() error { return nil }); err != nil {
					return err
				}
				failures = append(failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			found(v)
		}
		return nil
	})
	return failures, err
}
