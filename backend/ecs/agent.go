package ecs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// Agent makes the stored tasks and services real on a container runtime,
// as the ECS agent and the service scheduler do in AWS: one runner per
// task that should run or is stopping, and a scheduler pass over the
// services. It wakes on every API change, on the runtime's container
// events, and on a periodic sweep, never by polling containers.
//
// Each host of the fleet has its own agent, which runs the tasks placed
// on it on its engine; the local host's also runs Fargate tasks, the
// tasks of instances that are no host's, and the service scheduler.
type Agent struct {
	b        *Backend
	rt       runtime.Runtime
	host     Host
	instance string          // the berth instance id its labels carry
	wake     <-chan struct{} // from Run on
	secret   []byte          // the instance's secret key, which keys credentials ids
	log      zerolog.Logger
	sweep    time.Duration
	// LoadBalancerHosts, when set, lists the "name:address" extra hosts
	// that every task container gets: the load balancers' DNS names, so
	// that calls through a load balancer work from inside tasks.
	LoadBalancerHosts func(context.Context) []string

	// ServiceConnectAddress, when set, is where this agent's task
	// containers reach the Service Connect proxy: the tasks of Service
	// Connect services get their namespace's aliases there in /etc/hosts.
	ServiceConnectAddress string
	// TaskEndpoint, when set, is the base URL at which task containers
	// reach Endpoint: task metadata, task role credentials, berth's API.
	TaskEndpoint string
	// Resolver, when set, is the address (host:53) of berth's DNS server
	// that task containers reach: their resolver, unless the container
	// definition names dnsServers, so that Cloud Map and Route 53 names
	// resolve in tasks as in a VPC.
	Resolver string
	// Registry, when set, is the address (host:port) at which the host's
	// engine reaches berth's image registry, when not at the address the
	// registry serves locally: ECR images are pulled from there.
	Registry string
	// Credentials issues the task roles' credentials.
	Credentials RoleSessions

	// starting bounds how many tasks create and start containers at once,
	// so that a burst of tasks queues in berth, not in the Docker Engine.
	starting chan struct{}

	// after is the timer of every retry: time.After, or a test's clock.
	after func(time.Duration) <-chan time.Time

	mu       sync.Mutex
	runners  map[string]*runner // by task ARN
	wg       sync.WaitGroup
	retry    map[string]backoff // by service ARN: when its next task may start
	restarts map[string]backoff // by task ARN: when a runner that failed may run again
}

// NewAgent returns the agent of host h, whose engine rt is, for the
// backend's tasks (and, for the local host, its services); secret is the
// berth instance's secret key (backend.Secret).
func NewAgent(b *Backend, rt runtime.Runtime, h Host, secret []byte, log zerolog.Logger) *Agent {
	return &Agent{
		b: b, rt: rt, host: h, instance: h.Instance, secret: secret, log: log, sweep: 10 * time.Second,
		starting: make(chan struct{}, 4), runners: map[string]*runner{}, retry: map[string]backoff{}, restarts: map[string]backoff{},
		after: time.After,
	}
}

// now is the agent's clock: the backend's.
func (a *Agent) now() time.Time { return a.b.env.Clock() }

// Retries back off exponentially, from a base delay doubling on each
// failure in a row up to a cap, so that a persistent failure (a full
// disk, a Docker Engine that refuses every call) costs a few attempts a
// minute, not a busy loop.
const (
	runnerRetryBase = 500 * time.Millisecond
	eventsRetryBase = 500 * time.Millisecond
	retryCap        = time.Minute
)

// backoff is the state of something retried: its failures in a row and
// when it may be tried next.
type backoff struct {
	failures int
	until    time.Time
}

// failed counts one more failure at now and returns the delay before the
// next attempt: base, doubled for each earlier failure in a row, at most
// retryCap.
func (b *backoff) failed(now time.Time, base time.Duration) time.Duration {
	b.failures++
	delay := retryCap
	if shift := b.failures - 1; shift < 16 && base<<shift < retryCap {
		delay = base << shift
	}
	b.until = now.Add(delay)
	return delay
}

// wakeAfter pokes the backend after d, unless ctx ends first.
func (a *Agent) wakeAfter(ctx context.Context, d time.Duration) {
	timer := a.after(d)
	go func() {
		select {
		case <-timer:
			a.b.poke()
		case <-ctx.Done():
		}
	}()
}

// bounded runs fn, a container create or start, when fewer than
// cap(a.starting) others run.
func (a *Agent) bounded(ctx context.Context, fn func() error) error {
	select {
	case a.starting <- struct{}{}:
		defer func() { <-a.starting }()
		return fn()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// networkName is the berth bridge network that awsvpc tasks attach to.
func (a *Agent) networkName() string {
	return "berth-" + a.instance[:min(12, len(a.instance))] + "-awsvpc"
}

// Run adopts what a previous run left, then reconciles until ctx ends. The
// containers keep running when it returns; the next Run adopts them.
func (a *Agent) Run(ctx context.Context) error {
	a.wake = a.b.woken()
	go a.events(ctx)
	go a.heartbeat(ctx)
	tick := time.NewTicker(a.sweep)
	defer tick.Stop()
	sweep := true
	for {
		if sweep {
			if err := a.removeOrphans(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn().Err(err).Msg("removing orphaned containers")
			}
			if a.local() {
				if err := a.b.forgetStoppedTasks(ctx); err != nil && ctx.Err() == nil {
					a.log.Warn().Err(err).Msg("forgetting stopped tasks")
				}
			}
			a.wakeAll()
		}
		a.reconcile(ctx)
		select {
		case <-ctx.Done():
			a.wg.Wait()
			return nil
		case <-a.wake:
			sweep = false
		case <-tick.C:
			sweep = true
		}
	}
}

// Heartbeats: how often an agent checks that its engine answers, how
// long it waits for the answer, and how many checks in a row may fail
// before the host is lost: its instance's agent is then disconnected, and
// no task is placed on it until its engine answers again.
const (
	heartbeatInterval = 2 * time.Second
	heartbeatTimeout  = 3 * time.Second
	heartbeatMisses   = 3
)

// heartbeat pings the agent's engine every heartbeatInterval and records
// whether it answers; a change wakes the scheduler and, once the engine is
// back, every runner, so that the host reconciles.
func (a *Agent) heartbeat(ctx context.Context) {
	misses := 0
	for ctx.Err() == nil {
		err := a.ping(ctx)
		if ctx.Err() != nil {
			return
		}
		if misses = misses + 1; err == nil {
			misses = 0
		}
		if (err == nil || misses >= heartbeatMisses) && a.b.fleet.setConnected(a.host, err == nil) {
			if err != nil {
				a.log.Warn().Err(err).Msg("the host's Docker Engine does not answer: its agent is disconnected")
			} else {
				a.log.Info().Msg("the host's Docker Engine answers again: its agent is connected")
				a.mu.Lock()
				clear(a.restarts) // runners failed while it was lost: they reconcile now
				a.mu.Unlock()
				a.wakeAll()
			}
			a.b.poke()
		}
		select {
		case <-ctx.Done():
		case <-a.after(heartbeatInterval):
		}
	}
}

// ping checks that the engine answers within heartbeatTimeout and, for a
// host of the fleet not yet sized or coming back from lost (its machine
// may have been resized or replaced meanwhile), records the size its
// engine says.
func (a *Agent) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, heartbeatTimeout)
	defer cancel()
	back := !a.b.fleet.connected(a.host.ec2InstanceID())
	if err := a.rt.Ping(ctx); err != nil || a.host.CPUs != 0 || a.b.fleet.sized(a.host).CPUs != 0 && !back {
		return err
	}
	h, err := a.rt.Host(ctx)
	if err == nil {
		a.b.fleet.setSize(a.host, h.CPUs, h.MemoryBytes>>20)
		if err := a.b.resized(ctx, a.host); err != nil && ctx.Err() == nil {
			a.log.Warn().Err(err).Msg("registering the host's size")
		}
	}
	return err
}

// removeOrphans removes, in parallel, the containers of this instance that
// belong to no task that is running or stopping: those a previous run left
// for tasks that are gone, and those whose removal failed.
func (a *Agent) removeOrphans(ctx context.Context) error {
	list, err := a.rt.List(ctx, map[string]string{runtime.LabelInstance: a.instance})
	if err != nil {
		return err
	}
	var tasks []sqlite.Keyed[struct{}]
	if err := a.b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tasks, err = scanLiveTasks[struct{}](tx)
		return err
	}); err != nil {
		return err
	}
	live := map[string]bool{}
	for _, t := range tasks {
		live[t.Key.ID] = true
	}
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, c := range list {
		if live[c.Labels[runtime.LabelTask]] {
			continue
		}
		a.log.Info().Str("container", c.ID[:12]).Str("task", c.Labels[runtime.LabelTask]).Msg("removing container of no known task")
		wg.Go(func() {
			if err := a.rt.Remove(ctx, c.ID); err != nil && !runtime.IsNotFound(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// events wakes the runner of each task whose container has an event,
// reconnecting the stream when it breaks (and waking every runner then,
// since events may have been missed).
func (a *Agent) events(ctx context.Context) {
	var retry backoff
	for ctx.Err() == nil {
		events, errs := a.rt.Events(ctx, map[string]string{runtime.LabelInstance: a.instance})
		a.wakeAll()
		for ev := range events {
			retry = backoff{} // the stream worked
			a.mu.Lock()
			r := a.runners[ev.Labels[runtime.LabelTask]]
			a.mu.Unlock()
			if r != nil {
				r.poke()
			}
		}
		if err := <-errs; ctx.Err() == nil {
			delay := retry.failed(a.now(), eventsRetryBase)
			a.log.Warn().Err(err).Dur("retry_in", delay).Msg("container event stream broke; reconnecting")
			select {
			case <-ctx.Done():
			case <-a.after(delay):
			}
		}
	}
}

func (a *Agent) wakeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.runners {
		r.poke()
	}
}

// reconcile runs the service scheduler, then makes sure every task that
// should run or is stopping has a runner, and wakes those asked to stop.
func (a *Agent) reconcile(ctx context.Context) {
	if a.local() {
		if err := a.schedule(ctx); err != nil && ctx.Err() == nil {
			a.log.Error().Err(err).Msg("service scheduler")
		}
	}
	var tasks []sqlite.Keyed[taskKeys]
	err := a.b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tasks, err = scanLiveTasks[taskKeys](tx)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error().Err(err).Msg("listing tasks")
		}
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	live := map[string]bool{}
	for _, t := range tasks {
		live[t.Key.ID] = true
	}
	for arn := range a.restarts {
		if !live[arn] {
			delete(a.restarts, arn) // stopped, or forgotten, meanwhile
		}
	}
	for _, t := range tasks {
		arn := t.Key.ID
		if !a.runs(t.Value) {
			continue
		}
		if r, ok := a.runners[arn]; ok {
			if aws.ToString(t.Value.DesiredStatus) == statusStopped {
				r.poke()
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if a.now().Before(a.restarts[arn].until) {
			continue // its last runner failed: it runs again when the backoff ends
		}
		ref := taskRef{Scope: backend.Scope{Account: t.Key.Account, Region: t.Key.Region}, arn: arn, clusterArn: aws.ToString(t.Value.ClusterArn)}
		ref.cluster = ref.clusterArn[strings.LastIndex(ref.clusterArn, "/")+1:]
		rctx, cancel := context.WithCancel(ctx)
		r := &runner{a: a, ref: ref, wake: make(chan struct{}, 1), log: a.log.With().Str("task", arn).Logger(), cancel: cancel,
			unshipped: map[string]logStart{}}
		a.runners[arn] = r
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer cancel()
			err := r.run(rctx)
			a.mu.Lock()
			delete(a.runners, arn)
			switch {
			case rctx.Err() != nil:
			case err != nil:
				b := a.restarts[arn]
				delay := b.failed(a.now(), runnerRetryBase)
				a.restarts[arn] = b
				r.log.Warn().Err(err).Int("failures", b.failures).Dur("retry_in", delay).Msg("task runner failed; trying again later")
				a.wakeAfter(ctx, delay)
			default:
				delete(a.restarts, arn)
			}
			a.mu.Unlock()
			a.b.poke()
		}()
	}
}

// local reports whether the agent is the local host's.
func (a *Agent) local() bool { return a.host.Name == "" }

// runs reports whether the agent runs task t: one placed on its host or,
// for the local host's agent, any task placed on no host.
func (a *Agent) runs(t taskKeys) bool {
	if h, ok := a.b.fleet.host(aws.ToString(t.ContainerInstanceArn)); ok {
		return h.Name == a.host.Name
	}
	return a.local()
}

// Reset forgets every task, for a store that was wiped: it stops
// following them and removes their containers at once, with no draining
// and no stop signal.
func (a *Agent) Reset(ctx context.Context) error {
	a.mu.Lock()
	for _, r := range a.runners {
		r.cancel()
	}
	a.retry, a.restarts = map[string]backoff{}, map[string]backoff{}
	a.mu.Unlock()
	return a.removeOrphans(ctx) // every container is one now
}

// taskKeys is what listing and scheduling tasks needs of a stored task.
type taskKeys struct {
	TaskArn, ClusterArn, LastStatus, DesiredStatus, TaskDefinitionArn, Group, StartedBy, ContainerInstanceArn *string
	LaunchType                                                                                                types.LaunchType
	HealthStatus                                                                                              types.HealthStatus
	StopCode                                                                                                  types.TaskStopCode
	StartedAt                                                                                                 *time.Time
}
