package ecs

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// Publisher stores the datapoints berth publishes in the AWS namespaces:
// the CloudWatch backend's Publish, in the scope of ctx.
type Publisher interface {
	Publish(ctx context.Context, namespace string, data []cwtypes.MetricDatum) error
}

// UsageReader reads the running containers' usage: the Docker runtime's
// Usages.
type UsageReader interface {
	Usages(ctx context.Context, labels map[string]string) ([]runtime.Usage, error)
}

// Metrics publishes the AWS/ECS CPUUtilization and MemoryUtilization of
// services and clusters from the real usage of their tasks' containers,
// as the ECS agent reports it: it reads every running container a few
// times a period, and once a period publishes each service's and each
// cluster's utilization, with its Minimum, Maximum and SampleCount. Its
// methods are for one goroutine at a time: Run's.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html
type Metrics struct {
	b        *Backend
	rt       UsageReader
	instance string
	pub      Publisher
	period   time.Duration
	log      zerolog.Logger

	last  map[string]runtime.Usage // by container id: its previous reading
	tasks map[string]*taskUsage    // by task ARN: what it used this period
}

// SamplesPerPeriod is how many times a period Metrics reads the
// containers: ECS "collects multiple data points every minute. It then
// aggregates them to one data point before sending the data to
// CloudWatch"; every ten seconds of a minute.
const SamplesPerPeriod = 6

// NewMetrics returns the metrics of the tasks that berth instance runs on
// rt, published to pub once every period (a minute, as ECS publishes).
func NewMetrics(b *Backend, rt UsageReader, instance string, pub Publisher, period time.Duration, log zerolog.Logger) *Metrics {
	return &Metrics{
		b: b, rt: rt, instance: instance, pub: pub, period: period, log: log,
		last: map[string]runtime.Usage{}, tasks: map[string]*taskUsage{},
	}
}

// Run samples and publishes until ctx ends. Periods line up on
// multiples of the period, as CloudWatch's minutes do, and each is
// published once, at its end, stamped with its start: a slow machine
// merges a late period into the next rather than stamping two in one. A
// sample that takes longer than its share of the period delays the next
// one (the ticker drops ticks), never the period's publication.
func (m *Metrics) Run(ctx context.Context) {
	sample := time.NewTicker(max(m.period/SamplesPerPeriod, time.Millisecond))
	defer sample.Stop()
	end := m.b.env.Clock().Truncate(m.period).Add(m.period)
	publish := time.NewTimer(end.Sub(m.b.env.Clock()))
	defer publish.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sample.C:
			if err := m.Sample(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn().Err(err).Msg("reading the usage of task containers")
			}
		case <-publish.C:
			now := m.b.env.Clock()
			for !end.Add(m.period).After(now) {
				end = end.Add(m.period) // periods missed go with this one
			}
			if err := m.Publish(ctx, end.Add(-m.period)); err != nil && ctx.Err() == nil {
				m.log.Warn().Err(err).Msg("publishing the AWS/ECS metrics")
			}
			end = end.Add(m.period)
			publish.Reset(end.Sub(m.b.env.Clock()))
		}
	}
}

// taskUsage is what a task used over the samples of a period.
type taskUsage struct {
	cpuUnits   float64 // the sum over samples with a CPU rate
	cpuSamples int
	memoryMiB  float64 // the sum over samples
	samples    int
}

// runningTask is the part of a stored task that Sample reads.
type runningTask struct{ LastStatus *string }

// Sample reads every running container of the instance's tasks once, when
// any task runs.
func (m *Metrics) Sample(ctx context.Context) error {
	var tasks []sqlite.Keyed[runningTask]
	if err := m.b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tasks, err = scanLiveTasks[runningTask](tx)
		return err
	}); err != nil {
		return err
	}
	running := false
	for _, t := range tasks {
		running = running || aws.ToString(t.Value.LastStatus) == statusRunning
	}
	if !running {
		clear(m.last)
		return nil
	}
	usages, err := m.rt.Usages(ctx, map[string]string{runtime.LabelInstance: m.instance})
	m.add(usages)
	return err
}

// add counts one sample of the containers' readings into their tasks'
// usage. A task's CPU counts only when each of its containers has a
// rate, from a previous reading.
func (m *Metrics) add(usages []runtime.Usage) {
	type sample struct {
		cpu, memory float64
		rated       bool
	}
	samples := map[string]*sample{}
	seen := map[string]bool{}
	for _, u := range usages {
		task := u.Labels[runtime.LabelTask]
		s := samples[task]
		if s == nil {
			s = &sample{rated: true}
			samples[task] = s
		}
		prev, ok := m.last[u.ContainerID]
		units, rated := cpuUnits(prev, u)
		s.cpu, s.rated = s.cpu+units, s.rated && ok && rated
		s.memory += float64(u.MemoryBytes) / (1 << 20)
		m.last[u.ContainerID], seen[u.ContainerID] = u, true
	}
	for id := range m.last {
		if !seen[id] {
			delete(m.last, id)
		}
	}
	for task, s := range samples {
		t := m.tasks[task]
		if t == nil {
			t = &taskUsage{}
			m.tasks[task] = t
		}
		t.memoryMiB += s.memory
		t.samples++
		if s.rated {
			t.cpuUnits += s.cpu
			t.cpuSamples++
		}
	}
}

// cpuUnits is the CPU a container used between two readings, in CPU units
// (1,024 to a vCPU: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/capacity-tasksize.html):
// the CPU time it used over the time between them. A counter that went
// back (the container restarted) gives no rate.
func cpuUnits(prev, cur runtime.Usage) (float64, bool) {
	elapsed := cur.Read.Sub(prev.Read)
	if prev.Read.IsZero() || elapsed <= 0 || cur.CPUNanos < prev.CPUNanos {
		return 0, false
	}
	return float64(cur.CPUNanos-prev.CPUNanos) / float64(elapsed.Nanoseconds()) * 1024, true
}

// Publish publishes the utilization of the period that began at start
// from the samples taken since the last Publish, then forgets them.
func (m *Metrics) Publish(ctx context.Context, start time.Time) error {
	usage := m.tasks
	m.tasks = map[string]*taskUsage{}
	if len(usage) == 0 {
		return nil
	}
	var loads []taskLoad
	instances := map[clusterKey]map[string]capacity{}
	if err := m.b.store.View(ctx, func(tx *sqlite.Tx) error {
		tasks, err := scanLiveTasks[types.Task](tx)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			u := usage[t.Key.ID]
			if u == nil || aws.ToString(t.Value.LastStatus) != statusRunning {
				continue
			}
			s := backend.Scope{Account: t.Key.Account, Region: t.Key.Region}
			k := clusterKey{s, aws.ToString(t.Value.ClusterArn)}
			if _, ok := instances[k]; !ok {
				if instances[k], err = clusterCapacity(tx, s, k.arn); err != nil {
					return err
				}
			}
			loads = append(loads, loadOf(k, t.Value, u))
		}
		return nil
	}); err != nil {
		return err
	}
	at := start.Truncate(time.Second)
	data := map[backend.Scope][]cwtypes.MetricDatum{}
	for k, ls := range groupBy(loads, func(l taskLoad) clusterKey { return l.cluster }) {
		name := resourceName(k.arn, "cluster")
		data[k.Scope] = append(data[k.Scope], clusterDatums(name, ls, instances[k], at)...)
		for service, ls := range groupBy(ls, func(l taskLoad) string { return l.service }) {
			if service != "" {
				data[k.Scope] = append(data[k.Scope], serviceDatums(name, service, ls, at)...)
			}
		}
	}
	var errs []error
	for s, d := range data {
		if err := m.pub.Publish(backend.WithScope(ctx, s), "AWS/ECS", d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clusterKey names a cluster across scopes.
type clusterKey struct {
	backend.Scope
	arn string
}

// taskLoad is what one running task used over a period, and what it
// reserves.
type taskLoad struct {
	cluster  clusterKey
	service  string // the service's name; "" for a standalone task
	instance string // its container instance's ARN; "" on Fargate
	// cpu (CPU units) and memory (MiB) used, averaged over the period's
	// samples; hasCPU is false when no sample had a CPU rate.
	cpu, memory float64
	hasCPU      bool
	reserved    capacity
}

// capacity is CPU units and MiB of memory, reserved or registered.
type capacity struct{ cpu, memory float64 }

// loadOf is task t's load from its usage u.
func loadOf(k clusterKey, t types.Task, u *taskUsage) taskLoad {
	l := taskLoad{cluster: k, instance: aws.ToString(t.ContainerInstanceArn), reserved: taskReserved(t)}
	if g := aws.ToString(t.Group); strings.HasPrefix(g, "service:") {
		l.service = strings.TrimPrefix(g, "service:")
	}
	l.memory = u.memoryMiB / float64(u.samples)
	if u.cpuSamples > 0 {
		l.cpu, l.hasCPU = u.cpuUnits/float64(u.cpuSamples), true
	}
	return l
}

// minCPUReserved is the CPU a container without cpu (or with less than
// two units) holds: the ECS agent gives it two CPU shares, the kernel's
// minimum, and reports two units reserved for it: "containerMetrics.CPUReserved
// is never 0, minimal it gets is 2"
// (https://github.com/aws-observability/aws-otel-collector/issues/1368,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#ContainerDefinition-cpu).
const minCPUReserved = 2

// taskReserved is what task t reserves for the utilization metrics: the
// task's cpu, else its containers' cpu (two units at least each); the
// task's memory, else each container's memoryReservation (the soft
// limit), else its memory (the hard limit). Overrides count.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html
func taskReserved(t types.Task) capacity {
	var r capacity
	taskCPU, taskMemory := aws.ToString(t.Cpu), aws.ToString(t.Memory)
	if o := t.Overrides; o != nil {
		taskCPU, taskMemory = firstSet(o.Cpu, taskCPU), firstSet(o.Memory, taskMemory)
	}
	for _, c := range t.Containers {
		cpu, memory, soft := aws.ToString(c.Cpu), aws.ToString(c.Memory), aws.ToString(c.MemoryReservation)
		if t.Overrides != nil {
			for _, co := range t.Overrides.ContainerOverrides {
				if aws.ToString(co.Name) == aws.ToString(c.Name) {
					cpu, memory, soft = int32Or(co.Cpu, cpu), int32Or(co.Memory, memory), int32Or(co.MemoryReservation, soft)
				}
			}
		}
		r.cpu += max(number(cpu), minCPUReserved)
		if soft != "" {
			r.memory += number(soft)
		} else {
			r.memory += number(memory)
		}
	}
	if v := number(taskCPU); v > 0 {
		r.cpu = v
	}
	if v := number(taskMemory); v > 0 {
		r.memory = v
	}
	return r
}

// clusterCapacity is what each of cluster arn's container instances in
// status ACTIVE or DRAINING registered, by ARN: only those "affect
// cluster utilization metrics".
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster_utilization.html
func clusterCapacity(tx *sqlite.Tx, s backend.Scope, arn string) (map[string]capacity, error) {
	list, err := sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, arn))
	if err != nil {
		return nil, err
	}
	out := map[string]capacity{}
	for _, ci := range list {
		if st := aws.ToString(ci.Status); st != "ACTIVE" && st != "DRAINING" {
			continue
		}
		var c capacity
		for _, r := range ci.RegisteredResources {
			switch aws.ToString(r.Name) {
			case "CPU":
				c.cpu = float64(r.IntegerValue)
			case "MEMORY":
				c.memory = float64(r.IntegerValue)
			}
		}
		out[aws.ToString(ci.ContainerInstanceArn)] = c
	}
	return out, nil
}

// serviceDatums are a service's CPUUtilization and MemoryUtilization
// (dimensions ClusterName and ServiceName) from its running tasks' loads.
// Each task is one sample: the SampleCount is "the number of RUNNING tasks
// in the service" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html#cw_running_task_count),
// Minimum and Maximum are the least and the most used task's own
// utilization, and the Average is the service's: the CPU units (MiB) its
// tasks used over those they reserve, times 100.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html
func serviceDatums(cluster, service string, loads []taskLoad, at time.Time) []cwtypes.MetricDatum {
	var cpuUsed, cpuReserved, memUsed, memReserved []float64
	for _, l := range loads {
		if l.hasCPU {
			cpuUsed, cpuReserved = append(cpuUsed, l.cpu), append(cpuReserved, l.reserved.cpu)
		}
		memUsed, memReserved = append(memUsed, l.memory), append(memReserved, l.reserved.memory)
	}
	dims := []cwtypes.Dimension{
		{Name: aws.String("ClusterName"), Value: aws.String(cluster)},
		{Name: aws.String("ServiceName"), Value: aws.String(service)},
	}
	return datums(dims, at, utilization(cpuUsed, cpuReserved), utilization(memUsed, memReserved))
}

// clusterDatums are a cluster's CPUUtilization and MemoryUtilization
// (dimension ClusterName): what the tasks on its ACTIVE and DRAINING
// container instances used over what those instances registered, each
// instance one sample. Tasks on no instance (Fargate) do not count: the
// cluster metrics are "only used for tasks using the EC2 launch type".
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster_utilization.html
func clusterDatums(cluster string, loads []taskLoad, instances map[string]capacity, at time.Time) []cwtypes.MetricDatum {
	used := map[string]*capacity{}
	rated := map[string]bool{}
	for arn := range instances {
		used[arn], rated[arn] = &capacity{}, true
	}
	for _, l := range loads {
		u := used[l.instance]
		if u == nil {
			continue
		}
		u.cpu, u.memory = u.cpu+l.cpu, u.memory+l.memory
		rated[l.instance] = rated[l.instance] && l.hasCPU
	}
	var cpuUsed, cpuRegistered, memUsed, memRegistered []float64
	for arn, c := range instances {
		if rated[arn] {
			cpuUsed, cpuRegistered = append(cpuUsed, used[arn].cpu), append(cpuRegistered, c.cpu)
		}
		memUsed, memRegistered = append(memUsed, used[arn].memory), append(memRegistered, c.memory)
	}
	dims := []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(cluster)}}
	return datums(dims, at, utilization(cpuUsed, cpuRegistered), utilization(memUsed, memRegistered))
}

// datums are the CPUUtilization and MemoryUtilization datapoints of one
// dimension set, each left out when it has no statistics.
func datums(dims []cwtypes.Dimension, at time.Time, cpu, memory *cwtypes.StatisticSet) []cwtypes.MetricDatum {
	var out []cwtypes.MetricDatum
	for _, m := range []struct {
		name string
		set  *cwtypes.StatisticSet
	}{{"CPUUtilization", cpu}, {"MemoryUtilization", memory}} {
		if m.set != nil {
			out = append(out, cwtypes.MetricDatum{
				MetricName: aws.String(m.name), Dimensions: dims, Timestamp: aws.Time(at),
				Unit: cwtypes.StandardUnitPercent, StatisticValues: m.set,
			})
		}
	}
	return out
}

// utilization is the statistic set of members (tasks, or instances) that
// each used used[i] of reserved[i]: one sample a member, the Minimum and
// Maximum the members' own percentages, and the Sum such that the Average
// is the total used over the total reserved, times 100. Members that
// reserve nothing are left out; nil when none is left.
func utilization(used, reserved []float64) *cwtypes.StatisticSet {
	var n, totalUsed, totalReserved float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, r := range reserved {
		if r <= 0 {
			continue
		}
		p := used[i] * 100 / r
		lo, hi = min(lo, p), max(hi, p)
		n, totalUsed, totalReserved = n+1, totalUsed+used[i], totalReserved+r
	}
	if n == 0 {
		return nil
	}
	// Rounding may put the weighted average a hair outside [lo, hi],
	// which CloudWatch would refuse.
	avg := min(max(totalUsed*100/totalReserved, lo), hi)
	return &cwtypes.StatisticSet{SampleCount: aws.Float64(n), Sum: aws.Float64(avg * n), Minimum: aws.Float64(lo), Maximum: aws.Float64(hi)}
}

// groupBy splits loads by key.
func groupBy[K comparable](loads []taskLoad, key func(taskLoad) K) map[K][]taskLoad {
	out := map[K][]taskLoad{}
	for _, l := range loads {
		out[key(l)] = append(out[key(l)], l)
	}
	return out
}

// number parses a task definition's numeric string; 0 when empty or not
// a number.
func number(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// firstSet is *p when set, else def.
func firstSet(p *string, def string) string {
	if p != nil && *p != "" {
		return *p
	}
	return def
}

// int32Or is *p as a string when set, else def.
func int32Or(p *int32, def string) string {
	if p != nil {
		return strconv.Itoa(int(*p))
	}
	return def
}
