package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/api/types/container"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// Task lifecycle states, in order.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html
const (
	statusProvisioning   = "PROVISIONING"
	statusPending        = "PENDING"
	statusActivating     = "ACTIVATING"
	statusRunning        = "RUNNING"
	statusDeactivating   = "DEACTIVATING"
	statusStopping       = "STOPPING"
	statusDeprovisioning = "DEPROVISIONING"
	statusStopped        = "STOPPED"
)

// Stopped reasons as ECS writes them.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
const (
	reasonEssentialExited = "Essential container in task exited"
	reasonUser            = "Task stopped by user"
	// reasonVanished is the task's reason when an essential container is
	// gone: for ECS, it exited.
	reasonVanished = reasonEssentialExited
	// containerVanished is the reason of a container the ECS agent can no
	// longer find by the id it saved (amazon-ecs-agent, agent/engine:
	// ContainerVanishedError, "No container matching saved ID found"),
	// as a task's containers report it.
	containerVanished = "ContainerVanishedError: No container matching saved ID found"
)

// errStopAsked ends a task's start when it was asked to stop meanwhile:
// it goes on to stop, its containers created so far removed.
var errStopAsked = errors.New("the task was asked to stop while it started")

// taskRef names one task: its scope, ARN and cluster.
type taskRef struct {
	backend.Scope
	arn, cluster, clusterArn string
}

func (k taskRef) key() sqlite.Key { return k.Scope.Key(kindTask, k.arn) }

// taskIndex is the indexed name of a stored task: RUNNING while it should
// run, STOPPING while it is being stopped, STOPPED once it has. ListTasks
// reads RUNNING; the agent reads RUNNING and STOPPING.
func taskIndex(t types.Task) string {
	switch {
	case aws.ToString(t.DesiredStatus) != statusStopped:
		return statusRunning
	case aws.ToString(t.LastStatus) != statusStopped:
		return statusStopping
	}
	return statusStopped
}

// liveIndexes are the taskIndex names of tasks that are not yet STOPPED.
var liveIndexes = [2]string{statusRunning, statusStopping}

// liveTasks decodes the cluster's tasks that run or are stopping.
func liveTasks[T any](tx *sqlite.Tx, s backend.Scope, clusterArn string) ([]T, error) {
	var out []T
	for _, name := range liveIndexes {
		q := s.Query(kindTask, clusterArn)
		q.Name = name
		tasks, err := sqlite.ListAll[T](tx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, tasks...)
	}
	return out, nil
}

// scanLiveTasks decodes every task, in every scope, that runs or is
// stopping.
func scanLiveTasks[T any](tx *sqlite.Tx) ([]sqlite.Keyed[T], error) {
	var out []sqlite.Keyed[T]
	for _, name := range liveIndexes {
		tasks, err := sqlite.ScanAll[T](tx, kindTask, name)
		if err != nil {
			return nil, err
		}
		out = append(out, tasks...)
	}
	return out, nil
}

// putTask stores a task under its cluster, indexed by taskIndex.
func putTask(tx *sqlite.Tx, s backend.Scope, t types.Task) error {
	return tx.Put(s.Row(kindTask, *t.TaskArn, *t.ClusterArn, taskIndex(t)), t)
}

// stoppedRetention is how long a stopped task stays visible: ECS shows
// stopped tasks for at least an hour, then forgets them.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
const stoppedRetention = time.Hour

// forgetStoppedTasks deletes, with their tags, the tasks in every scope
// that stopped more than stoppedRetention ago.
func (b *Backend) forgetStoppedTasks(ctx context.Context) error {
	cutoff := b.env.Clock().Add(-stoppedRetention)
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		stopped, err := sqlite.ScanAll[struct{ StoppedAt *time.Time }](tx, kindTask, statusStopped)
		if err != nil {
			return err
		}
		for _, t := range stopped {
			if t.Value.StoppedAt == nil || !t.Value.StoppedAt.Before(cutoff) {
				continue
			}
			tags := t.Key
			tags.Kind = kindTags
			if err := tx.Delete(t.Key); err != nil {
				return err
			}
			if err := tx.Delete(tags); err != nil {
				return err
			}
			// Service Connect endpoints a task stopped while berth was
			// down never removed.
			s := backend.Scope{Account: t.Key.Account, Region: t.Key.Region}
			if err := tx.DeleteAll(s.Query(kindSCEndpoint, t.Key.ID)); err != nil {
				return err
			}
		}
		return forgetRunTokens(tx, cutoff)
	})
}

// markStopped records task t STOPPED at now, its containers stopped and
// its network attachments deleted.
func markStopped(t *types.Task, now *time.Time) {
	t.LastStatus, t.StoppedAt, t.ExecutionStoppedAt = aws.String(statusStopped), now, now
	for i := range t.Containers {
		t.Containers[i].LastStatus = aws.String(statusStopped)
		t.Containers[i].NetworkInterfaces = backend.OrEmpty(t.Containers[i].NetworkInterfaces)
	}
	for i := range t.Attachments {
		t.Attachments[i].Status = aws.String("DELETED")
	}
}

// stopStored asks the stored task arn to stop as the service scheduler
// does (SERVICE_SCHEDULER_INITIATED), storing it with its next version if
// it was not asked before; it returns the task and whether it was.
func stopStored(tx *sqlite.Tx, s scope, arn, reason string, now *time.Time) (types.Task, bool, error) {
	var t types.Task
	if err := tx.Get(s.Key(kindTask, arn), &t); err != nil {
		return t, false, err
	}
	if !stopTask(&t, types.TaskStopCodeServiceSchedulerInitiated, reason, now) {
		return t, false, nil
	}
	t.Version++
	return t, true, putTask(tx, s.Scope, t)
}

// stopTask asks a task to stop: its desired status becomes STOPPED with
// the stop code and reason, unless it was already asked.
func stopTask(t *types.Task, code types.TaskStopCode, reason string, now *time.Time) bool {
	if aws.ToString(t.DesiredStatus) == statusStopped {
		return false
	}
	t.DesiredStatus, t.StopCode, t.StoppedReason = aws.String(statusStopped), code, aws.String(reason)
	if t.StoppingAt == nil {
		t.StoppingAt = now
	}
	return true
}

// failure is why a task could not start or keep running.
type failure struct {
	code   types.TaskStopCode
	reason string
}

func (f *failure) Error() string { return f.reason }

func failStart(format string, args ...any) *failure {
	return &failure{code: types.TaskStopCodeTaskFailedToStart, reason: fmt.Sprintf(format, args...)}
}

// runner drives one task through its lifecycle on the runtime: it creates
// and starts the containers, follows them until the task should stop, then
// stops and removes them. It wakes on the task's container events, on the
// agent's sweep and when the task is asked to stop.
type runner struct {
	a      *Agent
	ref    taskRef
	log    zerolog.Logger
	wake   chan struct{}
	cancel context.CancelFunc // ends run, leaving the containers as they are

	service string // the ARN of the task's service, if a service started it

	plan []plannedContainer
	mode types.NetworkMode
	ids  map[string]string // task container name → Docker id

	unshipped map[string]logStart // awslogs containers whose streams are open and output not yet shipping
	shippers  sync.WaitGroup

	credentials roleCredentials // the task role's, once asked for

	// secrets are the values the containers got from the secret stores,
	// kept to take them out of what the runtime says (see redact).
	secrets []string
}

func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// update changes the stored task in one transaction and, if that changed
// anything, stores it with its next version and tells the agent.
func (r *runner) update(ctx context.Context, change func(t *types.Task)) (types.Task, error) {
	var t types.Task
	changed := false
	err := r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(r.ref.key(), &t); err != nil {
			return err
		}
		before, err := json.Marshal(t)
		if err != nil {
			return err
		}
		change(&t)
		after, err := json.Marshal(t)
		if err != nil || bytes.Equal(before, after) {
			return err
		}
		changed = true
		t.Version++
		return putTask(tx, r.ref.Scope, t)
	})
	if changed {
		r.a.b.poke()
	}
	return t, err
}

func (r *runner) load(ctx context.Context) (t types.Task, td types.TaskDefinition, err error) {
	err = r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(r.ref.key(), &t); err != nil {
			return err
		}
		return tx.Get(r.ref.Scope.Key(kindTaskDefinition, *t.TaskDefinitionArn), &td)
	})
	return t, td, err
}

// run is the runner's goroutine. It returns nil when the task is
// STOPPED, ctx's error when the agent stops (the containers keep running
// and the next agent adopts them), and otherwise what kept it from going
// on, for the agent to try again later.
func (r *runner) run(ctx context.Context) error {
	t, td, err := r.load(ctx)
	if err != nil {
		return fmt.Errorf("loading task: %w", err)
	}
	if aws.ToString(t.LastStatus) == statusStopped {
		return nil
	}
	r.service = serviceOf(r.ref.Scope, taskKeys{Group: t.Group, StartedBy: t.StartedBy, ClusterArn: t.ClusterArn})
	service := r.service
	adopted, err := r.adopt(ctx, t, td)
	if err != nil {
		if aws.ToString(t.DesiredStatus) == statusStopped {
			// Asked to stop while its engine does not answer (its host
			// lost when berth started): its targets go all the same, its
			// containers once the engine answers.
			if err := r.deregister(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn().Err(err).Msg("deregistering the task's targets")
			}
		}
		return fmt.Errorf("adopting the task's containers: %w", err)
	}
	t = adopted
	if aws.ToString(t.DesiredStatus) != statusStopped {
		var f *failure
		err := r.start(ctx, t, td)
		if err == nil {
			r.log.Info().Msg("task running")
			if service != "" {
				r.a.taskRan(service)
			}
			err = r.monitor(ctx)
		}
		switch {
		case errors.As(err, &f):
			// The runtime's words may quote a container's environment.
			f.reason = redact(f.reason, r.secrets)
			r.log.Info().Str("reason", f.reason).Msg("task stopping")
			if f.code == types.TaskStopCodeTaskFailedToStart && service != "" {
				r.a.taskFailed(service)
			}
			r.update(ctx, func(t *types.Task) { stopTask(t, f.code, f.reason, r.a.b.now()) })
			if service != "" {
				if err := r.a.b.deploymentTaskFailed(ctx, scope{r.ref.Scope}, service, aws.ToString(t.StartedBy)); err != nil {
					r.log.Error().Err(err).Msg("counting a failed task")
				}
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errStopAsked):
		case err != nil:
			msg := redact(err.Error(), r.secrets)
			r.log.Error().Str("error", msg).Msg("task")
			r.update(ctx, func(t *types.Task) {
				stopTask(t, types.TaskStopCodeTaskFailedToStart, "ResourceInitializationError: "+msg, r.a.b.now())
			})
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.stop(ctx)
}

// adopt finds the containers a previous agent created for the task and
// returns the task as it now stands. A task that lost a container it had,
// one whose id it recorded or, once it was past PENDING, any of its
// essential ones (removed while berth was down), has stopped: an
// essential container is gone, so it exited, and the task is never
// started again.
func (r *runner) adopt(ctx context.Context, t types.Task, td types.TaskDefinition) (types.Task, error) {
	list, err := r.a.rt.List(ctx, map[string]string{runtime.LabelInstance: r.a.instance, runtime.LabelTask: r.ref.arn})
	if err != nil {
		return t, err
	}
	r.ids = map[string]string{}
	present := map[string]bool{} // by Docker id
	for _, c := range list {
		r.ids[c.Labels[runtime.LabelContainer]] = c.ID
		present[c.ID] = true
	}
	if len(list) > 0 {
		r.log.Info().Int("containers", len(list)).Msg("adopted the task's containers")
	}
	if aws.ToString(t.DesiredStatus) == statusStopped {
		return t, nil
	}
	last := aws.ToString(t.LastStatus)
	started := last != statusProvisioning && last != statusPending
	gone := map[string]bool{} // by task container name
	lost := false
	for _, cd := range td.ContainerDefinitions {
		name := aws.ToString(cd.Name)
		i := slices.IndexFunc(t.Containers, func(c types.Container) bool { return aws.ToString(c.Name) == name })
		recorded := ""
		if i >= 0 {
			recorded = aws.ToString(t.Containers[i].RuntimeId)
		}
		_, byName := r.ids[name]
		if (recorded != "" && !present[recorded]) || (started && !byName) {
			gone[name] = true
			lost = lost || cd.Essential == nil || *cd.Essential
		}
	}
	if !lost {
		return t, nil
	}
	r.log.Info().Msg("an essential container of the task is gone: the task stopped")
	return r.update(ctx, func(t *types.Task) {
		stopTask(t, types.TaskStopCodeEssentialContainerExited, reasonVanished, r.a.b.now())
		for i := range t.Containers {
			if c := &t.Containers[i]; gone[aws.ToString(c.Name)] {
				c.LastStatus, c.Reason = aws.String(statusStopped), aws.String(containerVanished)
			}
		}
	})
}

// unlessStopAsked returns errStopAsked if the task was asked to stop.
func (r *runner) unlessStopAsked(ctx context.Context) error {
	var t struct{ DesiredStatus *string }
	if err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error { return tx.Get(r.ref.key(), &t) }); err != nil {
		return err
	}
	if aws.ToString(t.DesiredStatus) == statusStopped {
		return errStopAsked
	}
	return nil
}

// start takes the task from PROVISIONING to RUNNING: network, images,
// containers, then each container once its dependencies are met.
func (r *runner) start(ctx context.Context, t types.Task, td types.TaskDefinition) error {
	var uncreated []string
	for _, cd := range td.ContainerDefinitions {
		if _, ok := r.ids[aws.ToString(cd.Name)]; !ok {
			uncreated = append(uncreated, aws.ToString(cd.Name))
		}
		if len(cd.EnvironmentFiles) > 0 {
			return failStart("ResourceInitializationError: failed to download env files: container %s reads environment files from S3, which berth does not have", aws.ToString(cd.Name))
		}
	}
	secrets, err := r.a.b.resolveSecrets(ctx, r.ref.Scope, t, td, uncreated)
	if err != nil {
		return err
	}
	for _, cs := range secrets {
		r.secrets = append(r.secrets, cs.values()...)
	}
	network := ""
	if td.NetworkMode == types.NetworkModeAwsvpc {
		network = r.a.networkName()
		if _, err := r.a.rt.Network(ctx, network, map[string]string{runtime.LabelInstance: r.a.instance}); err != nil {
			return failStart("ResourceInitializationError: failed to set up the task network: %v", err)
		}
	}
	plan, err := planTask(r.ref, t, withSecretOptions(td, secrets), r.a.instance, network)
	if err != nil {
		return failStart("ResourceInitializationError: %v", err)
	}
	for i := range plan {
		pc := &plan[i]
		cfg := pc.spec.Config
		cfg.Env = withSecrets(cfg.Env, secrets[pc.name].env)
		cfg.Env = withEnvironment(cfg.Env, r.a.taskEnvironment(r.ref, t, td, pc.name))
		pc.registryAuth = secrets[pc.name].registryAuth
	}
	if resolver, err := netip.ParseAddrPort(r.a.Resolver); err == nil {
		for _, pc := range plan {
			// In host mode the host's resolvers are the container's.
			if hc := pc.spec.HostConfig; !hc.NetworkMode.IsContainer() && !hc.NetworkMode.IsHost() && len(hc.DNS) == 0 {
				hc.DNS = []netip.Addr{resolver.Addr()}
			}
		}
	}
	var hosts []string
	if r.a.LoadBalancerHosts != nil {
		hosts = r.a.LoadBalancerHosts(ctx)
	}
	connect, err := r.serviceConnectHosts(ctx)
	if err != nil {
		return err
	}
	hosts = append(hosts, connect...)
	if len(hosts) > 0 {
		for _, pc := range plan {
			if hc := pc.spec.HostConfig; !hc.NetworkMode.IsContainer() {
				hc.ExtraHosts = append(hc.ExtraHosts, hosts...)
			}
		}
	}
	r.plan, r.mode = plan, td.NetworkMode
	if err := r.pull(ctx); err != nil {
		return err
	}

	for _, pc := range r.plan {
		if _, ok := r.ids[pc.name]; ok {
			continue
		}
		err := r.a.bounded(ctx, func() error {
			// Asked to stop while it waited its turn: create nothing.
			if err := r.unlessStopAsked(ctx); err != nil {
				return err
			}
			id, err := r.a.rt.Create(ctx, pc.spec)
			if err != nil {
				return failStart("CannotCreateContainerError: %v", err)
			}
			r.ids[pc.name] = id // stop removes it
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := r.openLogs(ctx); err != nil {
		return err
	}
	if _, err := r.update(ctx, func(t *types.Task) {
		if aws.ToString(t.LastStatus) == statusPending {
			t.LastStatus = aws.String(statusActivating)
		}
		for i := range t.Containers {
			t.Containers[i].RuntimeId = aws.String(r.ids[aws.ToString(t.Containers[i].Name)])
		}
	}); err != nil {
		return err
	}
	if err := r.startContainers(ctx); err != nil {
		return err
	}
	states, err := r.inspectAll(ctx)
	if err != nil {
		return err
	}
	_, err = r.update(ctx, func(t *types.Task) {
		now := r.a.b.now()
		if aws.ToString(t.LastStatus) != statusRunning {
			t.LastStatus, t.StartedAt = aws.String(statusRunning), now
			t.Connectivity, t.ConnectivityAt = types.ConnectivityConnected, now
		}
		r.record(t, states, true)
	})
	return err
}

// pull pulls the images that are not present, recording pull times.
func (r *runner) pull(ctx context.Context) error {
	if _, err := r.update(ctx, func(t *types.Task) {
		if aws.ToString(t.LastStatus) == statusProvisioning {
			t.LastStatus = aws.String(statusPending)
		}
		if t.PullStartedAt == nil {
			t.PullStartedAt = r.a.b.now()
		}
	}); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, pc := range r.plan {
		image := pc.spec.Config.Image
		if _, created := r.ids[pc.name]; created || seen[image] {
			continue
		}
		seen[image] = true
		// An ECR image is pulled from berth's registry, every time: its
		// tag may have moved.
		ref, auth, ecr := "", "", false
		if r.a.b.Images != nil {
			var err error
			if ref, auth, ecr, err = r.a.b.Images.Resolve(ctx, image); err != nil {
				return failStart("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref %s: %v", image, err)
			}
			if _, path, ok := strings.Cut(ref, "/"); ok && ecr && r.a.Registry != "" {
				ref = r.a.Registry + "/" + path
			}
		}
		if pc.registryAuth != "" {
			// repositoryCredentials: the container's own credentials,
			// never berth's.
			auth = pc.registryAuth
		}
		if ecr {
			for _, other := range r.plan {
				if other.spec.Config.Image == image {
					other.spec.Config.Image = ref
				}
			}
			image, seen[ref] = ref, true
		} else if pc.registryAuth != "" {
			// A private registry's image is pulled every time, with the
			// container's credentials, as ECS's agent does by default.
		} else if ok, err := r.a.rt.HasImage(ctx, image); err != nil {
			return failStart("CannotPullContainerError: %v", err)
		} else if ok {
			continue
		}
		r.log.Info().Str("image", image).Msg("pulling image")
		if err := r.a.rt.Pull(ctx, image, auth, func(line string) {
			r.log.Debug().Str("image", image).Msg(line)
		}); err != nil {
			return failStart("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref %s: %v", image, err)
		}
	}
	_, err := r.update(ctx, func(t *types.Task) {
		if t.PullStoppedAt == nil {
			t.PullStoppedAt = r.a.b.now()
		}
	})
	return err
}

// startContainers starts each created container once its dependsOn
// conditions hold, failing the task when one never can or its
// startTimeout passes.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
func (r *runner) startContainers(ctx context.Context) error {
	began := time.Now()
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		states, err := r.inspectAll(ctx)
		if err != nil {
			return err
		}
		waiting := false
		for _, pc := range r.plan {
			st := states[pc.name]
			if st.State == nil {
				return &failure{code: types.TaskStopCodeEssentialContainerExited, reason: reasonVanished}
			}
			if st.State.Status != container.StateCreated {
				r.shipLogs(ctx, pc)
				if pc.essential && exited(st) {
					return &failure{code: types.TaskStopCodeEssentialContainerExited, reason: reasonEssentialExited}
				}
				continue
			}
			met, err := dependenciesMet(pc, states)
			if err != nil {
				return err
			}
			if !met {
				if time.Since(began) > pc.startTimeout {
					return failStart("DependencyTimeoutError: container %s timed out waiting for its dependencies after %s", pc.name, pc.startTimeout)
				}
				waiting = true
				continue
			}
			if err := r.a.bounded(ctx, func() error {
				if err := r.unlessStopAsked(ctx); err != nil {
					return err
				}
				if err := r.a.rt.Start(ctx, r.ids[pc.name]); err != nil {
					return failStart("CannotStartContainerError: %v", err)
				}
				return nil
			}); err != nil {
				return err
			}
			waiting = true // look again: it may be a dependency of others
		}
		if !waiting {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-poll.C:
		}
	}
}

func exited(st container.InspectResponse) bool {
	return st.State.Status == container.StateExited || st.State.Status == container.StateDead
}

// dependenciesMet evaluates a container's dependsOn conditions; an error
// says one can never hold.
func dependenciesMet(pc plannedContainer, states map[string]container.InspectResponse) (bool, error) {
	for _, d := range pc.dependsOn {
		name := aws.ToString(d.ContainerName)
		st := states[name]
		if st.State == nil {
			return false, failStart("DependencyError: container %s depends on %s, which does not exist", pc.name, name)
		}
		started := st.State.Status != container.StateCreated
		switch d.Condition {
		case types.ContainerConditionStart:
			if !started {
				return false, nil
			}
		case types.ContainerConditionComplete:
			if !exited(st) {
				return false, nil
			}
		case types.ContainerConditionSuccess:
			if !exited(st) {
				return false, nil
			}
			if st.State.ExitCode != 0 {
				return false, failStart("DependencyError: container %s depends on %s succeeding, which exited with code %d", pc.name, name, st.State.ExitCode)
			}
		case types.ContainerConditionHealthy:
			if exited(st) || (started && st.State.Health == nil) {
				return false, failStart("DependencyError: container %s depends on %s being healthy, which it cannot become", pc.name, name)
			}
			if st.State.Health == nil || st.State.Health.Status != container.Healthy {
				return false, nil
			}
		}
	}
	return true, nil
}

// inspectAll inspects the task's containers by task container name; a
// container that is gone has a zero entry.
func (r *runner) inspectAll(ctx context.Context) (map[string]container.InspectResponse, error) {
	out := map[string]container.InspectResponse{}
	for name, id := range r.ids {
		st, err := r.a.rt.Inspect(ctx, id)
		if runtime.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[name] = st
	}
	return out, nil
}

// monitor registers a RUNNING service task in its target groups, then
// follows it until it should stop: an essential container exited or
// vanished, or the task was asked to stop.
func (r *runner) monitor(ctx context.Context) error {
	registered, discovered, joined := false, false, false
	backoff := time.Second
	for {
		// What failed is tried again a while later (1 s, doubling up to
		// 30 s): the next event the task sees may be a long way off.
		failed := false
		if !joined {
			var err error
			if joined, err = r.joinServiceConnect(ctx); err != nil {
				r.log.Warn().Err(err).Msg("adding the task to Service Connect")
				failed = true
			}
		}
		if !registered {
			if err := r.register(ctx); err != nil {
				r.log.Warn().Err(err).Msg("registering the task's targets")
				failed = true
			} else {
				registered = true
			}
		}
		if !discovered {
			if err := r.discover(ctx); err != nil {
				r.log.Warn().Err(err).Msg("registering the task in Cloud Map")
				failed = true
			} else {
				discovered = true
			}
		}
		var retry <-chan time.Time
		if failed {
			retry = time.After(backoff)
			backoff = min(2*backoff, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		case <-retry:
		}
		states, err := r.inspectAll(ctx)
		if err != nil {
			r.log.Warn().Err(err).Msg("inspecting the task's containers")
			// A task asked to stop while its engine does not answer (its
			// host lost) stops all the same: its targets are deregistered
			// and drained at once, and its containers stopped once the
			// engine answers again.
			if errors.Is(r.unlessStopAsked(ctx), errStopAsked) {
				return nil
			}
			continue
		}
		var f *failure
		t, err := r.update(ctx, func(t *types.Task) {
			r.record(t, states, false)
			for _, pc := range r.plan {
				st, ok := states[pc.name]
				switch {
				case !pc.essential:
				case !ok:
					f = &failure{code: types.TaskStopCodeEssentialContainerExited, reason: reasonVanished}
				case exited(st):
					f = &failure{code: types.TaskStopCodeEssentialContainerExited, reason: reasonEssentialExited}
				}
			}
			if f != nil {
				stopTask(t, f.code, f.reason, r.a.b.now())
			}
		})
		if err != nil {
			return err
		}
		if aws.ToString(t.DesiredStatus) == statusStopped {
			return nil
		}
	}
}

// record writes what the containers' states say into the task: status,
// exit codes, health, and with network its network bindings and
// interfaces.
func (r *runner) record(t *types.Task, states map[string]container.InspectResponse, network bool) {
	for i := range t.Containers {
		c := &t.Containers[i]
		st, ok := states[aws.ToString(c.Name)]
		if !ok || st.State == nil {
			continue
		}
		c.RuntimeId = aws.String(st.ID)
		switch {
		case exited(st):
			c.LastStatus, c.ExitCode = aws.String(statusStopped), aws.Int32(int32(st.State.ExitCode))
			if st.State.OOMKilled {
				c.Reason = aws.String("OutOfMemoryError: Container killed due to memory usage")
			}
		case st.State.Running:
			c.LastStatus = aws.String(statusRunning)
		}
		c.HealthStatus = types.HealthStatusUnknown
		if st.State.Health != nil {
			switch st.State.Health.Status {
			case container.Healthy:
				c.HealthStatus = types.HealthStatusHealthy
			case container.Unhealthy:
				c.HealthStatus = types.HealthStatusUnhealthy
			}
		}
		if network {
			c.NetworkBindings, c.NetworkInterfaces = bindings(st, r.mode, r.planned(*c.Name)), []types.NetworkInterface{}
		}
	}
	t.HealthStatus = taskHealth(t.Containers, r.plan)
	if network && r.mode == types.NetworkModeAwsvpc && len(r.plan) > 0 {
		r.attach(t, states[r.plan[0].name])
	}
}

func (r *runner) planned(name string) plannedContainer {
	i := slices.IndexFunc(r.plan, func(pc plannedContainer) bool { return pc.name == name })
	if i < 0 {
		return plannedContainer{}
	}
	return r.plan[i]
}

// taskHealth is the task's health as ECS derives it from its essential
// containers that have a health check: UNHEALTHY if any is, HEALTHY if all
// are, UNKNOWN otherwise.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html
func taskHealth(cs []types.Container, plan []plannedContainer) types.HealthStatus {
	checked, healthy := 0, 0
	for _, pc := range plan {
		if !pc.essential || pc.spec.Config.Healthcheck == nil {
			continue
		}
		checked++
		i := slices.IndexFunc(cs, func(c types.Container) bool { return aws.ToString(c.Name) == pc.name })
		if i < 0 {
			continue
		}
		switch cs[i].HealthStatus {
		case types.HealthStatusUnhealthy:
			return types.HealthStatusUnhealthy
		case types.HealthStatusHealthy:
			healthy++
		}
	}
	if checked > 0 && healthy == checked {
		return types.HealthStatusHealthy
	}
	return types.HealthStatusUnknown
}

// bindings reports a container's network bindings: in bridge mode the host
// ports Docker published (the ones it chose for hostPort 0 included), in
// host mode the container ports themselves.
func bindings(st container.InspectResponse, mode types.NetworkMode, pc plannedContainer) []types.NetworkBinding {
	out := []types.NetworkBinding{}
	switch mode {
	case types.NetworkModeHost:
		for p := range pc.spec.Config.ExposedPorts {
			out = append(out, types.NetworkBinding{
				BindIP: aws.String("0.0.0.0"), ContainerPort: aws.Int32(int32(p.Num())), HostPort: aws.Int32(int32(p.Num())),
				Protocol: types.TransportProtocol(p.Proto()),
			})
		}
	case types.NetworkModeBridge, "":
		if st.NetworkSettings == nil {
			return out
		}
		for p, bs := range st.NetworkSettings.Ports {
			for _, b := range bs {
				if !b.HostIP.Is4() {
					continue
				}
				var host int32
				fmt.Sscan(b.HostPort, &host)
				out = append(out, types.NetworkBinding{
					BindIP: aws.String(b.HostIP.String()), ContainerPort: aws.Int32(int32(p.Num())), HostPort: aws.Int32(host),
					Protocol: types.TransportProtocol(p.Proto()),
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b types.NetworkBinding) int { return int(*a.ContainerPort - *b.ContainerPort) })
	return out
}

// attach fills the task's ENI attachment and its containers' network
// interfaces from the Docker endpoint of an awsvpc task.
func (r *runner) attach(t *types.Task, owner container.InspectResponse) {
	if owner.NetworkSettings == nil || len(t.Attachments) == 0 {
		return
	}
	ep := owner.NetworkSettings.Networks[r.a.networkName()]
	if ep == nil || !ep.IPAddress.IsValid() {
		return
	}
	ip := ep.IPAddress.String()
	att := &t.Attachments[0]
	att.Status = aws.String("ATTACHED")
	set := func(name, value string) {
		for i := range att.Details {
			if aws.ToString(att.Details[i].Name) == name {
				att.Details[i].Value = aws.String(value)
				return
			}
		}
		att.Details = append(att.Details, types.KeyValuePair{Name: aws.String(name), Value: aws.String(value)})
	}
	set("networkInterfaceId", "eni-"+strings.ReplaceAll(aws.ToString(att.Id), "-", "")[:17])
	set("macAddress", ep.MacAddress.String())
	set("privateDnsName", privateDNSName(ip))
	set("privateIPv4Address", ip)
	for i := range t.Containers {
		t.Containers[i].NetworkInterfaces = []types.NetworkInterface{{AttachmentId: att.Id, PrivateIpv4Address: aws.String(ip)}}
	}
}

// privateDNSName is the private DNS name of a task's interface address.
func privateDNSName(ip string) string {
	return "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal"
}

// stop takes the task from DEACTIVATING to STOPPED: its targets are
// deregistered and drained, then each container gets its stop signal and,
// after its stopTimeout, SIGKILL, dependents before their dependencies;
// then the containers are removed. A container that cannot be stopped
// keeps the task STOPPING: the error says why, and the agent tries again.
func (r *runner) stop(ctx context.Context) error {
	if _, err := r.update(ctx, func(t *types.Task) {
		stopTask(t, types.TaskStopCodeUserInitiated, reasonUser, r.a.b.now())
		t.LastStatus = aws.String(statusDeactivating)
	}); err != nil {
		return fmt.Errorf("stopping task: %w", err)
	}
	if err := r.deregister(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the next agent drains and stops the task
		}
		r.log.Warn().Err(err).Msg("deregistering the task's targets")
	}
	if _, err := r.update(ctx, func(t *types.Task) { t.LastStatus = aws.String(statusStopping) }); err != nil {
		return fmt.Errorf("stopping task: %w", err)
	}
	if r.plan == nil { // adopted while stopping: stop in any order
		for name := range r.ids {
			r.plan = append(r.plan, plannedContainer{name: name, stopTimeout: defaultStopTimeout})
		}
	}
	for i := len(r.plan) - 1; i >= 0; i-- {
		pc := r.plan[i]
		if id, ok := r.ids[pc.name]; ok {
			if err := r.a.rt.Stop(ctx, id, pc.stopTimeout); err != nil && !runtime.IsNotFound(err) {
				return fmt.Errorf("stopping container %s: %w", pc.name, err)
			}
		}
	}
	r.logsShipped()
	states, _ := r.inspectAll(ctx)
	r.update(ctx, func(t *types.Task) {
		t.LastStatus = aws.String(statusDeprovisioning)
		r.record(t, states, false)
	})
	for name, id := range r.ids {
		if err := r.a.rt.Remove(ctx, id); err != nil && !runtime.IsNotFound(err) {
			r.log.Warn().Err(err).Str("container", name).Msg("removing container")
		}
	}
	if _, err := r.update(ctx, func(t *types.Task) { markStopped(t, r.a.b.now()) }); err != nil {
		return fmt.Errorf("recording the task stopped: %w", err)
	}
	r.log.Info().Msg("task stopped")
	return nil
}
