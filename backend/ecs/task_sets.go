package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// Task sets belong to services whose deployments an external controller
// manages (deploymentController EXTERNAL): each is stored on its own,
// under its service, and listed in DescribeServices' taskSets.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-external.html

// externalService loads an ACTIVE service with the EXTERNAL controller.
func (b *Backend) externalService(tx *sqlite.Tx, s scope, cluster *string, ref string) (types.Cluster, types.Service, error) {
	c, svc, err := b.service(tx, s, cluster, ref)
	if err != nil {
		return c, svc, err
	}
	if aws.ToString(svc.Status) != "ACTIVE" {
		return c, svc, errServiceNotActive()
	}
	if svc.DeploymentController == nil || svc.DeploymentController.Type != types.DeploymentControllerTypeExternal {
		return c, svc, errInvalidParameter("Amazon ECS only supports task set management on services configured to use external deployment controllers.")
	}
	return c, svc, nil
}

func taskSetsOf(tx *sqlite.Tx, s scope, serviceArn string) ([]types.TaskSet, error) {
	return sqlite.ListAll[types.TaskSet](tx, s.Query(kindTaskSet, serviceArn))
}

// taskSet finds a task set of the service by id or ARN.
func taskSet(sets []types.TaskSet, ref string) (int, error) {
	i := slices.IndexFunc(sets, func(ts types.TaskSet) bool {
		return *ts.TaskSetArn == ref || *ts.Id == ref || strings.HasSuffix(*ts.TaskSetArn, "/"+ref)
	})
	if i < 0 {
		return 0, errTaskSetNotFound()
	}
	return i, nil
}

func putTaskSet(tx *sqlite.Tx, s scope, ts types.TaskSet) error {
	return tx.Put(s.Row(kindTaskSet, *ts.TaskSetArn, *ts.ServiceArn, *ts.Id), ts)
}

// computedDesiredCount is the share of the service's desired count that a
// task set's scale asks for, rounded up.
func computedDesiredCount(desired int32, scale *types.Scale) int32 {
	return int32(math.Ceil(float64(desired) * scale.Value / 100))
}

// maxTaskSets is how many task sets (deployments) an external-controller
// service holds at most: CreateTaskSet refuses a sixth, in ECS's words as
// users met them (https://github.com/aws-samples/ecs-bg-external-controller/issues/6,
// https://github.com/pipe-cd/pipecd/issues/4692).
const maxTaskSets = 5

// CreateTaskSet adds a task set to an external-controller service.
func (b *Backend) CreateTaskSet(ctx context.Context, in *ecsapi.CreateTaskSetInput) (*ecsapi.CreateTaskSetOutput, error) {
	s := scopeOf(ctx)
	if in.Service == nil || in.Cluster == nil || in.TaskDefinition == nil {
		return nil, errInvalidParameter("service, cluster and taskDefinition must be specified.")
	}
	scale := in.Scale
	if scale == nil {
		scale = &types.Scale{Value: 100, Unit: types.ScaleUnitPercent}
	}
	if scale.Value < 0 || scale.Value > 100 {
		return nil, errInvalidParameter("scale must be between 0 and 100 percent.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validCapacityProviderCount(in.CapacityProviderStrategy); err != nil {
		return nil, err
	}
	if err := b.validNetwork(ctx, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	var ts types.TaskSet
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, svc, err := b.externalService(tx, s, in.Cluster, *in.Service)
		if err != nil {
			return err
		}
		sets, err := taskSetsOf(tx, s, *svc.ServiceArn)
		if err != nil {
			return err
		}
		if len(sets) >= maxTaskSets {
			return errInvalidParameter("%d deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit.", len(sets))
		}
		td, err := b.taskDefinition(tx, s, *in.TaskDefinition)
		if err != nil {
			return errInvalidParameter("TaskDefinition not found.")
		}
		launchType := in.LaunchType
		if launchType == "" && len(in.CapacityProviderStrategy) == 0 {
			launchType = svc.LaunchType
		}
		providers := in.CapacityProviderStrategy
		if in.LaunchType == "" && len(providers) == 0 {
			providers = svc.CapacityProviderStrategy
		}
		if err := validLaunch(resolvedLaunchType(launchType, providers, c.DefaultCapacityProviderStrategy), in.PlatformVersion, in.NetworkConfiguration); err != nil {
			return err
		}
		if err := validPlacement(&td, launchType, in.NetworkConfiguration, in.LoadBalancers, nil); err != nil {
			return err
		}
		id := "ecs-svc/" + b.digits(19)
		now := b.now()
		ts = types.TaskSet{
			Id:                       aws.String(id),
			TaskSetArn:               aws.String(s.arn("task-set/" + *c.ClusterName + "/" + *svc.ServiceName + "/" + id)),
			ServiceArn:               svc.ServiceArn,
			ClusterArn:               c.ClusterArn,
			ExternalId:               in.ExternalId,
			Status:                   aws.String("ACTIVE"),
			TaskDefinition:           td.TaskDefinitionArn,
			ComputedDesiredCount:     computedDesiredCount(svc.DesiredCount, scale),
			CreatedAt:                now,
			UpdatedAt:                now,
			LaunchType:               launchType,
			CapacityProviderStrategy: in.CapacityProviderStrategy,
			PlatformVersion:          platformVersion(launchType, in.PlatformVersion),
			PlatformFamily:           platformFamily(launchType),
			NetworkConfiguration:     in.NetworkConfiguration,
			LoadBalancers:            backend.OrEmpty(in.LoadBalancers),
			ServiceRegistries:        backend.OrEmpty(in.ServiceRegistries),
			Scale:                    scale,
			StabilityStatus:          types.StabilityStatusSteadyState,
			StabilityStatusAt:        now,
			Tags:                     backend.OrEmpty(in.Tags),
		}
		if ts.ComputedDesiredCount > 0 {
			ts.StabilityStatus = types.StabilityStatusStabilizing
		}
		if err := putTaskSet(tx, s, ts); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return setTags(tx, s, *ts.TaskSetArn, in.Tags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.CreateTaskSetOutput{TaskSet: &ts}, nil
}

// changeTaskSet applies change to one task set of a service.
func (b *Backend) changeTaskSet(ctx context.Context, cluster, service, ref *string, change func(tx *sqlite.Tx, sets []types.TaskSet, i int, svc *types.Service) error) (types.TaskSet, error) {
	s := scopeOf(ctx)
	if service == nil || cluster == nil || ref == nil {
		return types.TaskSet{}, errInvalidParameter("cluster, service and task set must be specified.")
	}
	var ts types.TaskSet
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		_, svc, err := b.externalService(tx, s, cluster, *service)
		if err != nil {
			return err
		}
		sets, err := taskSetsOf(tx, s, *svc.ServiceArn)
		if err != nil {
			return err
		}
		i, err := taskSet(sets, *ref)
		if err != nil {
			return err
		}
		if err := change(tx, sets, i, &svc); err != nil {
			return err
		}
		ts = sets[i]
		return nil
	})
	return ts, err
}

// UpdateTaskSet changes a task set's scale.
func (b *Backend) UpdateTaskSet(ctx context.Context, in *ecsapi.UpdateTaskSetInput) (*ecsapi.UpdateTaskSetOutput, error) {
	if in.Scale == nil || in.Scale.Value < 0 || in.Scale.Value > 100 {
		return nil, errInvalidParameter("scale must be between 0 and 100 percent.")
	}
	s := scopeOf(ctx)
	ts, err := b.changeTaskSet(ctx, in.Cluster, in.Service, in.TaskSet, func(tx *sqlite.Tx, sets []types.TaskSet, i int, svc *types.Service) error {
		sets[i].Scale = in.Scale
		sets[i].ComputedDesiredCount = computedDesiredCount(svc.DesiredCount, in.Scale)
		sets[i].UpdatedAt = b.now()
		return putTaskSet(tx, s, sets[i])
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateTaskSetOutput{TaskSet: &ts}, nil
}

// DeleteTaskSet deletes a task set; the PRIMARY one only with force. With no
// tasks to drain it is gone at once and reported DRAINING, as ECS reports it.
func (b *Backend) DeleteTaskSet(ctx context.Context, in *ecsapi.DeleteTaskSetInput) (*ecsapi.DeleteTaskSetOutput, error) {
	s := scopeOf(ctx)
	ts, err := b.changeTaskSet(ctx, in.Cluster, in.Service, in.TaskSet, func(tx *sqlite.Tx, sets []types.TaskSet, i int, _ *types.Service) error {
		if aws.ToString(sets[i].Status) == "PRIMARY" && !aws.ToBool(in.Force) {
			return errInvalidParameter("The primary task set cannot be deleted without force.")
		}
		// Only force deletes a task set that has not been scaled down to
		// zero (API_DeleteTaskSet, force); the text is berth's.
		if sc := sets[i].Scale; sc != nil && sc.Value > 0 && !aws.ToBool(in.Force) {
			return errInvalidParameter("The task set has not been scaled down to zero: scale it to 0 first, or delete it with force.")
		}
		sets[i].Status, sets[i].ComputedDesiredCount, sets[i].UpdatedAt = aws.String("DRAINING"), 0, b.now()
		if err := tx.Delete(s.Key(kindTags, *sets[i].TaskSetArn)); err != nil {
			return err
		}
		return tx.Delete(s.Key(kindTaskSet, *sets[i].TaskSetArn))
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteTaskSetOutput{TaskSet: &ts}, nil
}

// UpdateServicePrimaryTaskSet makes a task set the PRIMARY one (the one
// serving production traffic); the previous PRIMARY becomes ACTIVE.
func (b *Backend) UpdateServicePrimaryTaskSet(ctx context.Context, in *ecsapi.UpdateServicePrimaryTaskSetInput) (*ecsapi.UpdateServicePrimaryTaskSetOutput, error) {
	s := scopeOf(ctx)
	ts, err := b.changeTaskSet(ctx, in.Cluster, in.Service, in.PrimaryTaskSet, func(tx *sqlite.Tx, sets []types.TaskSet, i int, svc *types.Service) error {
		for j := range sets {
			status := "ACTIVE"
			if j == i {
				status = "PRIMARY"
			}
			if aws.ToString(sets[j].Status) == status {
				continue
			}
			sets[j].Status, sets[j].UpdatedAt = aws.String(status), b.now()
			if err := putTaskSet(tx, s, sets[j]); err != nil {
				return err
			}
		}
		svc.TaskDefinition = sets[i].TaskDefinition
		return putService(tx, s, *svc)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UpdateServicePrimaryTaskSetOutput{TaskSet: &ts}, nil
}

// DescribeTaskSets describes a service's task sets, all or those named.
func (b *Backend) DescribeTaskSets(ctx context.Context, in *ecsapi.DescribeTaskSetsInput) (*ecsapi.DescribeTaskSetsOutput, error) {
	s := scopeOf(ctx)
	if in.Service == nil || in.Cluster == nil {
		return nil, errInvalidParameter("cluster and service must be specified.")
	}
	out := &ecsapi.DescribeTaskSetsOutput{TaskSets: []types.TaskSet{}, Failures: []types.Failure{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		_, svc, err := b.externalService(tx, s, in.Cluster, *in.Service)
		if err != nil {
			return err
		}
		sets, err := taskSetsOf(tx, s, *svc.ServiceArn)
		if err != nil {
			return err
		}
		pick := sets
		if len(in.TaskSets) > 0 {
			pick = nil
			for _, ref := range in.TaskSets {
				i, err := taskSet(sets, ref)
				if err != nil {
					out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
					continue
				}
				pick = append(pick, sets[i])
			}
		}
		for _, ts := range pick {
			if slices.Contains(in.Include, types.TaskSetFieldTags) {
				if ts.Tags, err = tags(tx, s, *ts.TaskSetArn); err != nil {
					return err
				}
			} else {
				ts.Tags = nil
			}
			out.TaskSets = append(out.TaskSets, ts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scheduleTaskSets brings each task set of an external-controller service
// to its share of the service's desired count (its computedDesiredCount):
// it starts or stops the set's tasks (those it started, by its id), counts
// them into the set and the service, and reports the set STEADY_STATE once
// its running count is its share with none pending. The tasks of a task
// set that was deleted are stopped; a DRAINING service's sets want none.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-external.html
func (a *Agent) scheduleTaskSets(ctx context.Context, s scope, arn string, tasks []taskKeys) error {
	throttled := a.throttled(arn)
	return a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var svc types.Service
		if err := tx.Get(s.Key(kindService, arn), &svc); err != nil {
			return err
		}
		sets, err := taskSetsOf(tx, s, arn)
		if err != nil {
			return err
		}
		draining := aws.ToString(svc.Status) == "DRAINING"
		bySet := map[string][]taskKeys{}
		for _, t := range tasks {
			if aws.ToString(t.DesiredStatus) != statusStopped {
				bySet[aws.ToString(t.StartedBy)] = append(bySet[aws.ToString(t.StartedBy)], t)
			}
		}
		now := a.b.now()
		var stop []taskKeys
		before, err := json.Marshal(svc)
		if err != nil {
			return err
		}
		svc.RunningCount, svc.PendingCount = 0, 0
		for i := range sets {
			ts := &sets[i]
			id := aws.ToString(ts.Id)
			live := bySet[id]
			delete(bySet, id)
			want := computedDesiredCount(svc.DesiredCount, ts.Scale)
			if draining {
				want = 0
			}
			switch n := int(want) - len(live); {
			case n > 0 && !throttled:
				started, err := a.startServiceTasks(tx, s, &svc, taskSetOrigin(*ts), n)
				if err != nil {
					return err
				}
				for _, arn := range started {
					live = append(live, taskKeys{TaskArn: aws.String(arn), LastStatus: aws.String(statusProvisioning)})
				}
			case n < 0:
				// Pending tasks go first.
				slices.SortStableFunc(live, func(x, y taskKeys) int {
					return cmpBool(aws.ToString(x.LastStatus) == statusRunning, aws.ToString(y.LastStatus) == statusRunning)
				})
				stop, live = append(stop, live[:-n]...), live[-n:]
			}
			var running, pending int32
			for _, t := range live {
				if aws.ToString(t.LastStatus) == statusRunning {
					running++
				} else {
					pending++
				}
			}
			stable := running == want && pending == 0
			status := types.StabilityStatusStabilizing
			if stable {
				status = types.StabilityStatusSteadyState
			}
			if ts.ComputedDesiredCount != want || ts.RunningCount != running || ts.PendingCount != pending || ts.StabilityStatus != status {
				ts.ComputedDesiredCount, ts.RunningCount, ts.PendingCount = want, running, pending
				if ts.StabilityStatus != status {
					ts.StabilityStatus, ts.StabilityStatusAt = status, now
				}
				if err := putTaskSet(tx, s, *ts); err != nil {
					return err
				}
			}
			svc.RunningCount += running
			svc.PendingCount += pending
		}
		for _, orphans := range bySet { // tasks of deleted task sets
			stop = append(stop, orphans...)
		}
		for _, t := range stop {
			if _, _, err := stopStored(tx, s, *t.TaskArn, "Scaling activity initiated by (deployment "+aws.ToString(t.StartedBy)+")", now); err != nil {
				return err
			}
		}
		if draining && len(tasks) == 0 {
			svc.Status = aws.String("INACTIVE")
		}
		if after, err := json.Marshal(svc); err != nil || bytes.Equal(before, after) {
			return err
		}
		return putService(tx, s, svc)
	})
}

// taskSetOrigin is a task set as a task origin.
func taskSetOrigin(ts types.TaskSet) taskOrigin {
	return taskOrigin{id: ts.Id, taskDefinition: ts.TaskDefinition, platformVersion: ts.PlatformVersion, launchType: ts.LaunchType,
		capacityProviders: ts.CapacityProviderStrategy, network: ts.NetworkConfiguration, loadBalancers: ts.LoadBalancers,
		registries: ts.ServiceRegistries}
}

// cmpBool orders false before true.
func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case !x:
		return -1
	}
	return 1
}
