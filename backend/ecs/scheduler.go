package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// The service scheduler: each pass compares every ACTIVE or DRAINING
// service with its tasks and starts or stops tasks to bring the PRIMARY
// deployment to the desired count, replacing the older deployments'
// tasks within minimumHealthyPercent and maximumPercent.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html

// maxEvents is how many service events ECS keeps.
const maxEvents = 100

// taskFailed notes that a task of the service failed to start: the
// service's next task waits, as ECS throttles such a service.
func (a *Agent) taskFailed(serviceArn string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.retry[serviceArn]
	delay := b.failed(a.now(), time.Second)
	a.retry[serviceArn] = b
	a.wakeAfter(context.Background(), delay)
}

// taskRan notes that a task of the service reached RUNNING.
func (a *Agent) taskRan(serviceArn string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.retry, serviceArn)
}

func (a *Agent) throttled(serviceArn string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now().Before(a.retry[serviceArn].until)
}

// serviceOf is the ARN of the service that started task t, or "".
func serviceOf(s backend.Scope, t taskKeys) string {
	name, ok := strings.CutPrefix(aws.ToString(t.Group), "service:")
	if !ok || !strings.HasPrefix(aws.ToString(t.StartedBy), "ecs-svc/") {
		return ""
	}
	cluster := aws.ToString(t.ClusterArn)
	return scope{s}.arn("service/" + cluster[strings.LastIndex(cluster, "/")+1:] + "/" + name)
}

// schedule runs one pass over every ACTIVE or DRAINING service.
func (a *Agent) schedule(ctx context.Context) error {
	var services []sqlite.Keyed[serviceKeys]
	byService := map[string][]taskKeys{}
	err := a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		for _, status := range []string{"ACTIVE", "DRAINING"} {
			svcs, err := sqlite.ScanAll[serviceKeys](tx, kindService, status)
			if err != nil {
				return err
			}
			services = append(services, svcs...)
		}
		tasks, err := scanLiveTasks[taskKeys](tx)
		for _, t := range tasks {
			s := backend.Scope{Account: t.Key.Account, Region: t.Key.Region}
			if svc := serviceOf(s, t.Value); svc != "" {
				byService[svc] = append(byService[svc], t.Value)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, svc := range services {
		s := scope{backend.Scope{Account: svc.Key.Account, Region: svc.Key.Region}}
		schedule := func(ctx context.Context, s scope, arn string, tasks []taskKeys) error {
			return a.scheduleService(ctx, s, arn, tasks, a.b.watchedAlarms(ctx, s, svc.Value.DeploymentConfiguration))
		}
		switch dc := svc.Value.DeploymentController; {
		case dc != nil && dc.Type == types.DeploymentControllerTypeExternal:
			schedule = a.scheduleTaskSets
		case dc != nil && dc.Type != types.DeploymentControllerTypeEcs:
			continue
		}
		if err := schedule(ctx, s, svc.Key.ID, byService[svc.Key.ID]); err != nil {
			a.log.Error().Err(err).Str("service", svc.Key.ID).Msg("scheduling service")
		}
	}
	return nil
}

// scheduleService applies one plan to one service in one transaction;
// alarms are the deployment alarms it watches, in their current state.
func (a *Agent) scheduleService(ctx context.Context, s scope, arn string, tasks []taskKeys, alarms []cwtypes.MetricAlarm) error {
	throttled := a.throttled(arn)
	elb, err := a.b.targetHealth(ctx, s, arn)
	if err != nil {
		return err
	}
	return a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var svc types.Service
		if err := tx.Get(s.Key(kindService, arn), &svc); err != nil {
			return err
		}
		if len(svc.Deployments) == 0 {
			return nil
		}
		checked := map[string]bool{}
		for _, t := range tasks {
			arn := aws.ToString(t.TaskDefinitionArn)
			if _, ok := checked[arn]; !ok {
				var td types.TaskDefinition
				if err := tx.Get(s.Key(kindTaskDefinition, arn), &td); err == nil {
					checked[arn] = hasHealthCheck(td)
				}
			}
		}
		draining, err := drainingInstances(tx, s, *svc.ClusterArn)
		if err != nil {
			return err
		}
		now := a.b.now()
		grace := time.Duration(aws.ToInt32(svc.HealthCheckGracePeriodSeconds)) * time.Second
		p := planService(svc, tasks, func(t taskKeys) verdict {
			var lb *elbHealth
			if h, ok := elb[*t.TaskArn]; ok {
				lb = &h
			}
			return judge(t, aws.ToString(svc.ServiceName), checked[aws.ToString(t.TaskDefinitionArn)], lb, grace, *now)
		}, draining)
		if throttled {
			p.start = 0
		}
		p.hold = a.b.holdsForBake(&svc, alarms, *now)
		before, err := json.Marshal(svc)
		if err != nil {
			return err
		}
		var stopped, started []string
		for _, st := range p.stop {
			t, asked, err := stopStored(tx, s, st.arn, st.reason, now)
			if err != nil {
				return err
			}
			if asked {
				stopped = append(stopped, st.arn)
				if st.event != "" {
					addEvent(&svc, a.b.env.IDs, now, st.event)
					countFailure(&svc, aws.ToString(t.StartedBy))
				}
			}
		}
		if p.start > 0 {
			var err error
			if started, err = a.startServiceTasks(tx, s, &svc, primaryOrigin(&svc), p.start); err != nil {
				return err
			}
		}
		p.add(aws.ToString(svc.Deployments[0].Id), 0, int32(len(started)), 0)
		name := aws.ToString(svc.ServiceName)
		if len(stopped) > 0 {
			addEvent(&svc, a.b.env.IDs, now, fmt.Sprintf("(service %s) has stopped %d running tasks: %s.", name, len(stopped), taskList(stopped)))
		}
		if len(started) > 0 {
			addEvent(&svc, a.b.env.IDs, now, fmt.Sprintf("(service %s) has started %d tasks: %s.", name, len(started), taskList(started)))
		}
		a.b.settleDeployments(tx, s, &svc, p, now)
		if p.healthy > 0 && resetsOnHealthyTask(svc.DeploymentConfiguration) {
			svc.Deployments[0].FailedTasks = 0
		}
		if err := a.b.tripBreaker(tx, s, &svc, now); err != nil {
			return err
		}
		if err := a.b.checkAlarms(tx, s, &svc, alarms, now); err != nil {
			return err
		}
		if after, err := json.Marshal(svc); err != nil || bytes.Equal(before, after) {
			return err
		}
		return putService(tx, s, svc)
	})
}

// drainingInstances returns the ARNs of cluster's DRAINING container
// instances.
func drainingInstances(tx *sqlite.Tx, s scope, cluster string) (map[string]bool, error) {
	instances, err := sqlite.ListAll[struct{ ContainerInstanceArn, Status *string }](tx, s.Query(kindContainerInstance, cluster))
	out := map[string]bool{}
	for _, ci := range instances {
		if aws.ToString(ci.Status) == "DRAINING" {
			out[aws.ToString(ci.ContainerInstanceArn)] = true
		}
	}
	return out, err
}

// hasHealthCheck reports whether an essential container of td has a
// container health check, so that its tasks count as healthy only once
// HEALTHY.
func hasHealthCheck(td types.TaskDefinition) bool {
	return slices.ContainsFunc(td.ContainerDefinitions, func(cd types.ContainerDefinition) bool {
		return (cd.Essential == nil || *cd.Essential) && cd.HealthCheck != nil && len(cd.HealthCheck.Command) > 0
	})
}

func taskList(arns []string) string {
	var parts []string
	for _, arn := range arns {
		parts = append(parts, "(task "+taskID(arn)+")")
	}
	return strings.Join(parts, " ")
}

// addEvent records a service event, newest first.
func addEvent(svc *types.Service, ids backend.IDs, now *time.Time, msg string) {
	ev := types.ServiceEvent{Id: aws.String(backend.NewUUID(ids)), CreatedAt: now, Message: aws.String(msg)}
	svc.Events = append([]types.ServiceEvent{ev}, svc.Events...)
	if len(svc.Events) > maxEvents {
		svc.Events = svc.Events[:maxEvents]
	}
}

// taskOrigin is what a service's new tasks start from: its PRIMARY
// deployment or, under an external deployment controller, a task set.
type taskOrigin struct {
	id, taskDefinition, platformVersion *string
	launchType                          types.LaunchType
	capacityProviders                   []types.CapacityProviderStrategyItem
	network                             *types.NetworkConfiguration
	loadBalancers                       []types.LoadBalancer
	registries                          []types.ServiceRegistry
	// deployment is the PRIMARY deployment, for its Service Connect
	// configuration; nil for a task set.
	deployment *types.Deployment
}

// primaryOrigin is the service's PRIMARY deployment as a task origin.
func primaryOrigin(svc *types.Service) taskOrigin {
	d := svc.Deployments[0]
	return taskOrigin{id: d.Id, taskDefinition: d.TaskDefinition, platformVersion: d.PlatformVersion, launchType: d.LaunchType,
		capacityProviders: d.CapacityProviderStrategy, network: d.NetworkConfiguration, loadBalancers: svc.LoadBalancers,
		registries: svc.ServiceRegistries, deployment: &d}
}

// startServiceTasks stores n new tasks of the service from origin.
func (a *Agent) startServiceTasks(tx *sqlite.Tx, s scope, svc *types.Service, d taskOrigin, n int) ([]string, error) {
	var c types.Cluster
	if err := tx.Get(s.Key(kindCluster, *svc.ClusterArn), &c); err != nil {
		return nil, err
	}
	var td types.TaskDefinition
	if err := tx.Get(s.Key(kindTaskDefinition, aws.ToString(d.taskDefinition)), &td); err != nil {
		return nil, err
	}
	spec := taskSpec{
		startedBy: d.id, group: aws.String("service:" + *svc.ServiceName), launchType: d.launchType,
		capacityProviders: d.capacityProviders, network: d.network,
		platformVersion: d.platformVersion, enableExecuteCommand: svc.EnableExecuteCommand,
		managedTags: svc.EnableECSManagedTags, service: aws.ToString(svc.ServiceName),
	}
	switch svc.PropagateTags {
	case types.PropagateTagsService:
		var err error
		if spec.tags, err = tags(tx, s, *svc.ServiceArn); err != nil {
			return nil, err
		}
	case types.PropagateTagsTaskDefinition:
		var err error
		if spec.tags, err = propagatedTags(tx, s, *td.TaskDefinitionArn, nil); err != nil {
			return nil, err
		}
	}
	launchType := launchTypeOf(d.launchType, d.capacityProviders)
	var arns []string
	var placing *placement
	for range n {
		t := a.b.newTask(s, c, td, spec, launchType)
		if launchType == types.LaunchTypeEc2 {
			constraints := svc.PlacementConstraints
			if svc.SchedulingStrategy == types.SchedulingStrategyDaemon {
				// A daemon runs once on each container instance.
				constraints = append(slices.Clip(constraints), types.PlacementConstraint{Type: types.PlacementConstraintTypeDistinctInstance})
			}
			if placing == nil {
				var err error
				if placing, err = a.b.newPlacement(tx, s, c); err != nil {
					return nil, err
				}
			}
			arn, failure := placing.place(t, td, constraints, serviceStrategy(*svc))
			if failure != nil {
				why := "Reason: " + noInstances
				if failure.Arn != nil {
					why = fmt.Sprintf("The closest matching (container-instance %s) %s.", resourceName(*failure.Arn, "container-instance"), placementProblem(*failure.Reason))
				}
				addEvent(svc, a.b.env.IDs, a.b.now(), fmt.Sprintf("(service %s) was unable to place a task because no container instance met all of its requirements. %s For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
					*svc.ServiceName, why))
				a.taskFailed(*svc.ServiceArn)
				break
			}
			t.ContainerInstanceArn = aws.String(arn)
		}
		if err := putTask(tx, s.Scope, t); err != nil {
			return nil, err
		}
		var connect []scTarget
		var namespace string
		if d.deployment != nil && d.deployment.ServiceConnectConfiguration != nil && d.deployment.ServiceConnectConfiguration.Enabled {
			connect, namespace = scTargets(*d.deployment, td), aws.ToString(d.deployment.ServiceConnectConfiguration.Namespace)
		}
		if len(d.loadBalancers) > 0 || len(d.registries) > 0 || namespace != "" {
			tt := taskTargets{TaskArn: *t.TaskArn, LoadBalancers: d.loadBalancers, Registries: slices.Clone(d.registries),
				Connect: connect, ConnectNamespace: namespace}
			for _, c := range connect {
				tt.Registries = append(tt.Registries, c.registry())
			}
			if err := tx.Put(s.Row(kindTaskTargets, *t.TaskArn, *svc.ServiceArn, ""), tt); err != nil {
				return nil, err
			}
		}
		if err := putTaskTags(tx, s, t); err != nil {
			return nil, err
		}
		arns = append(arns, *t.TaskArn)
	}
	return arns, nil
}

// serviceStrategy is how a service's tasks are placed: its placement
// strategy, or by default spread over availability zones: "For tasks
// running as part of an Amazon ECS service, the task placement strategy
// is spread using the attribute:ecs.availability-zone."
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html
func serviceStrategy(svc types.Service) []types.PlacementStrategy {
	if len(svc.PlacementStrategy) > 0 || svc.SchedulingStrategy == types.SchedulingStrategyDaemon {
		return svc.PlacementStrategy
	}
	return []types.PlacementStrategy{{Type: types.PlacementStrategyTypeSpread, Field: aws.String("attribute:ecs.availability-zone")}}
}

// settleDeployments writes the plan's counts into the service and its
// deployments, ends deployments with no tasks left, completes the PRIMARY
// rollout when it has its tasks and no other deployment remains, and
// records steady state.
func (b *Backend) settleDeployments(tx *sqlite.Tx, s scope, svc *types.Service, p servicePlan, now *time.Time) {
	name := aws.ToString(svc.ServiceName)
	var kept []types.Deployment
	svc.RunningCount, svc.PendingCount = 0, 0
	for i, d := range svc.Deployments {
		n := p.counts[aws.ToString(d.Id)]
		if i > 0 && n.present == 0 {
			continue // the old deployment has no tasks left
		}
		d.RunningCount, d.PendingCount = n.running, n.pending
		if i > 0 {
			d.DesiredCount = int32(n.present)
		}
		svc.RunningCount += d.RunningCount
		svc.PendingCount += d.PendingCount
		kept = append(kept, d)
	}
	svc.Deployments = kept
	if svc.SchedulingStrategy == types.SchedulingStrategyDaemon && aws.ToString(svc.Status) == "ACTIVE" {
		svc.DesiredCount = p.desired // one task per container instance
	}
	primary := &svc.Deployments[0]
	if primary.DesiredCount != p.desired {
		primary.DesiredCount = p.desired
	}
	if aws.ToString(svc.Status) == "DRAINING" {
		if p.present() == 0 && len(svc.Deployments) == 1 {
			svc.Status = aws.String("INACTIVE")
		}
		return
	}
	steady := len(svc.Deployments) == 1 && primary.RunningCount == p.desired && primary.PendingCount == 0 && p.healthy >= int(p.desired)
	if steady && primary.RolloutState == types.DeploymentRolloutStateInProgress && !p.hold {
		primary.RolloutState = types.DeploymentRolloutStateCompleted
		primary.RolloutStateReason = aws.String("ECS deployment " + aws.ToString(primary.Id) + " completed.")
		primary.UpdatedAt = now
		addEvent(svc, b.env.IDs, now, fmt.Sprintf("(service %s) (deployment %s) deployment completed.", name, aws.ToString(primary.Id)))
		b.finishServiceDeployment(tx, s, svc, now)
	}
	steadyMsg := fmt.Sprintf("(service %s) has reached a steady state.", name)
	if steady && (len(svc.Events) == 0 || aws.ToString(svc.Events[0].Message) != steadyMsg) {
		addEvent(svc, b.env.IDs, now, steadyMsg)
	}
}

// finishServiceDeployment marks the service's current service deployment
// SUCCESSFUL.
func (b *Backend) finishServiceDeployment(tx *sqlite.Tx, s scope, svc *types.Service, now *time.Time) {
	arn := aws.ToString(svc.CurrentServiceDeployment)
	var sd types.ServiceDeployment
	if arn == "" || tx.Get(s.Key(kindServiceDeployment, arn), &sd) != nil {
		return
	}
	switch sd.Status {
	case types.ServiceDeploymentStatusInProgress:
		sd.Status = types.ServiceDeploymentStatusSuccessful
	case types.ServiceDeploymentStatusRollbackInProgress:
		sd.Status = types.ServiceDeploymentStatusRollbackSuccessful
	default:
		return
	}
	sd.FinishedAt, sd.UpdatedAt = now, now
	if sd.DeploymentCircuitBreaker != nil && sd.DeploymentCircuitBreaker.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		sd.DeploymentCircuitBreaker.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
	}
	if sd.Alarms != nil && sd.Alarms.Status == types.ServiceDeploymentRollbackMonitorsStatusMonitoring {
		sd.Alarms.Status = types.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
	}
	tx.Put(s.Row(kindServiceDeployment, arn, *svc.ServiceArn, string(sd.Status)), sd)
}

// servicePlan is what one scheduler pass does to a service.
type servicePlan struct {
	desired int32
	start   int          // new tasks of the PRIMARY deployment
	stop    []taskToStop // tasks to stop
	healthy int          // healthy PRIMARY tasks that keep running
	counts  map[string]deploymentCount
	hold    bool // the PRIMARY rollout may not complete yet: its alarms' bake time
}

type taskToStop struct {
	arn, reason, event string
}

// add counts a deployment's running, pending and stopping tasks; all are
// present until STOPPED.
func (p *servicePlan) add(deployment string, running, pending, stopping int32) {
	c := p.counts[deployment]
	c.running, c.pending, c.present = c.running+running, c.pending+pending, c.present+int(running+pending+stopping)
	p.counts[deployment] = c
}

// present counts the service's tasks not yet STOPPED, whatever deployment
// started them: UpdateService drops a deployment with no running or pending
// task while its tasks may still be stopping.
func (p *servicePlan) present() int {
	n := 0
	for _, c := range p.counts {
		n += c.present
	}
	return n
}

// deploymentCount counts a deployment's tasks after the plan.
type deploymentCount struct {
	running, pending int32
	present          int // tasks not yet STOPPED, stopping ones included
}

// verdict is a task's health as the scheduler judges it.
type verdict struct {
	healthy bool // counts toward minimumHealthyPercent
	// failed is the stop reason of a task that failed its health checks
	// after the grace period, with the service event that says so.
	failed, event string
}

// judge says whether a task is healthy: RUNNING and, with container health
// checks, HEALTHY and, behind load balancers (lb not nil), healthy in
// every target group. Within the grace period after it started, failing checks are
// ignored; after it, they fail the task.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
func judge(t taskKeys, service string, checked bool, lb *elbHealth, grace time.Duration, now time.Time) verdict {
	id := resourceName(*t.TaskArn, "task")
	graceOver := t.StartedAt == nil || now.Sub(*t.StartedAt) >= grace
	switch {
	case t.HealthStatus == types.HealthStatusUnhealthy && graceOver:
		return verdict{failed: "Task failed container health checks", event: fmt.Sprintf("(service %s) (task %s) failed container health checks.", service, id)}
	case lb != nil && lb.unhealthy != "" && graceOver:
		return verdict{
			failed: "Task failed ELB health checks in (target-group " + lb.unhealthy + ")",
			event:  fmt.Sprintf("(service %s) %s is unhealthy in (target-group %s) due to (reason %s).", service, lb.target, lb.unhealthy, lb.reason),
		}
	}
	return verdict{healthy: aws.ToString(t.LastStatus) == statusRunning && (!checked || t.HealthStatus == types.HealthStatusHealthy) && (lb == nil || lb.healthy)}
}

// planService decides which tasks to start and stop. Tasks that failed
// their health checks are replaced; the PRIMARY deployment grows to the
// desired count within maximumPercent; older deployments' tasks, and
// those on the DRAINING container instances draining names, stop while
// enough healthy tasks remain for minimumHealthyPercent (rounded up), as
// ECS replaces a draining instance's service tasks.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html
func planService(svc types.Service, tasks []taskKeys, health func(taskKeys) verdict, draining map[string]bool) servicePlan {
	primary := aws.ToString(svc.Deployments[0].Id)
	desired := svc.DesiredCount
	switch {
	case aws.ToString(svc.Status) != "ACTIVE":
		desired = 0
	case svc.SchedulingStrategy == types.SchedulingStrategyDaemon:
		desired = max(1, desired) // one task per host (CreateService counted them)
	}
	p := servicePlan{desired: desired, counts: map[string]deploymentCount{}}
	verdicts := map[string]verdict{}
	for _, t := range tasks {
		verdicts[*t.TaskArn] = health(t)
	}
	healthy := func(t taskKeys) bool { return verdicts[*t.TaskArn].healthy }
	stop := func(t taskKeys, reason, event string) {
		p.stop = append(p.stop, taskToStop{arn: *t.TaskArn, reason: reason, event: event})
		p.add(aws.ToString(t.StartedBy), 0, 0, 1)
	}
	var mine, old []taskKeys
	for _, t := range tasks {
		if aws.ToString(t.DesiredStatus) == statusStopped {
			p.add(aws.ToString(t.StartedBy), 0, 0, 1)
			continue
		}
		if v := verdicts[*t.TaskArn]; v.failed != "" {
			stop(t, v.failed, v.event)
			continue
		}
		if aws.ToString(t.StartedBy) == primary && !draining[aws.ToString(t.ContainerInstanceArn)] {
			mine = append(mine, t)
		} else {
			old = append(old, t)
		}
	}
	// Tasks not yet healthy go first, then the newest.
	order := func(ts []taskKeys) {
		slices.SortStableFunc(ts, func(a, b taskKeys) int {
			if ha, hb := healthy(a), healthy(b); ha != hb {
				if hb {
					return -1
				}
				return 1
			}
			return 0
		})
	}
	scaling := "Scaling activity initiated by (deployment " + primary + ")"
	order(mine)
	for len(mine) > int(desired) {
		stop(mine[0], scaling, "")
		mine = mine[1:]
	}
	maxPct, minPct := int32(200), int32(100)
	if dc := svc.DeploymentConfiguration; dc != nil {
		maxPct, minPct = aws.ToInt32(dc.MaximumPercent), aws.ToInt32(dc.MinimumHealthyPercent)
	}
	maxTotal := int(desired * maxPct / 100)
	minHealthy := int((desired*minPct + 99) / 100)
	p.start = max(0, min(int(desired)-len(mine), maxTotal-len(mine)-len(old)))
	count := 0
	for _, t := range mine {
		if healthy(t) {
			count++
		}
	}
	p.healthy = count
	for _, t := range old {
		if healthy(t) {
			count++
		}
	}
	order(old)
	var kept []taskKeys
	for _, t := range old {
		switch {
		case !healthy(t):
			stop(t, scaling, "")
		case count-1 >= minHealthy:
			stop(t, scaling, "")
			count--
		default:
			kept = append(kept, t)
		}
	}
	for _, t := range append(mine, kept...) {
		if aws.ToString(t.LastStatus) == statusRunning {
			p.add(aws.ToString(t.StartedBy), 1, 0, 0)
		} else {
			p.add(aws.ToString(t.StartedBy), 0, 1, 0)
		}
	}
	return p
}

// placementProblem says in a service event why the closest instance could
// not take a task, as ECS does.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html
func placementProblem(reason string) string {
	switch reason {
	case "RESOURCE:MEMORY":
		return "has insufficient memory available"
	case "RESOURCE:CPU":
		return "has insufficient CPU units available"
	case "RESOURCE:PORTS":
		return "is already using a port required by your task"
	}
	return fmt.Sprintf("encountered error %q", reason)
}
