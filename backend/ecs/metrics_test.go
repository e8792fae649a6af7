package ecs

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// stats returns the named metric's statistic set among data.
func stats(t *testing.T, data []cwtypes.MetricDatum, name string) *cwtypes.StatisticSet {
	t.Helper()
	for _, d := range data {
		if aws.ToString(d.MetricName) == name {
			if d.Unit != cwtypes.StandardUnitPercent {
				t.Errorf("%s: unit %s, want Percent", name, d.Unit)
			}
			return d.StatisticValues
		}
	}
	t.Fatalf("no %s among %d datapoints", name, len(data))
	return nil
}

func near(got, want float64) bool { return math.Abs(got-want) < 1e-9 }

// average is a statistic set's Average.
func average(s *cwtypes.StatisticSet) float64 { return *s.Sum / *s.SampleCount }

// The service utilization example of the ECS developer guide: a task
// reserving 512 CPU units and 1,024 MiB that uses 2,048 CPU units and
// 512 MiB reports 400% CPU and 50% memory utilization; idle at 128 units
// and 128 MiB, 25% and 12.5%.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html
func TestServiceUtilizationAsECSDocuments(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	reserved := capacity{cpu: 512, memory: 1024}
	for _, c := range []struct {
		cpu, memory       float64
		wantCPU, wantMemo float64
	}{
		{2048, 512, 400, 50},
		{128, 128, 25, 12.5},
	} {
		data := serviceDatums("default", "web", []taskLoad{{cpu: c.cpu, memory: c.memory, hasCPU: true, reserved: reserved}}, at)
		cpu, mem := stats(t, data, "CPUUtilization"), stats(t, data, "MemoryUtilization")
		if !near(average(cpu), c.wantCPU) || !near(*cpu.Minimum, c.wantCPU) || !near(*cpu.Maximum, c.wantCPU) || *cpu.SampleCount != 1 {
			t.Errorf("using %v units: CPU %+v, want %v%%", c.cpu, *cpu, c.wantCPU)
		}
		if !near(average(mem), c.wantMemo) || *mem.SampleCount != 1 {
			t.Errorf("using %v MiB: memory %+v, want %v%%", c.memory, *mem, c.wantMemo)
		}
		for _, d := range data {
			if len(d.Dimensions) != 2 || *d.Dimensions[0].Name != "ClusterName" || *d.Dimensions[1].Name != "ServiceName" || !d.Timestamp.Equal(at) {
				t.Errorf("datum %+v: want ClusterName and ServiceName at %v", d, at)
			}
		}
	}
}

// Each running task is one sample ("the number of RUNNING tasks in the
// service" is the SampleCount of a one-minute period), Minimum and
// Maximum are the least and most used task's own utilization, and the
// Average is the formula's: total used over total reserved.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html#cw_running_task_count
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html
func TestServiceUtilizationStatisticsAcrossTasks(t *testing.T) {
	t.Parallel()
	r := capacity{cpu: 512, memory: 1024}
	data := serviceDatums("default", "web", []taskLoad{
		{cpu: 2048, memory: 512, hasCPU: true, reserved: r},
		{cpu: 128, memory: 128, hasCPU: true, reserved: r},
	}, time.Now())
	cpu := stats(t, data, "CPUUtilization")
	// (2,048 + 128) × 100 / (512 × 2) = 212.5
	if *cpu.SampleCount != 2 || !near(*cpu.Minimum, 25) || !near(*cpu.Maximum, 400) || !near(average(cpu), 212.5) {
		t.Errorf("CPU %+v: want 2 samples, min 25, max 400, average 212.5", *cpu)
	}
	mem := stats(t, data, "MemoryUtilization")
	// (512 + 128) × 100 / (1,024 × 2) = 31.25
	if *mem.SampleCount != 2 || !near(*mem.Minimum, 12.5) || !near(*mem.Maximum, 50) || !near(average(mem), 31.25) {
		t.Errorf("memory %+v: want 2 samples, min 12.5, max 50, average 31.25", *mem)
	}
	// A task whose CPU has no rate yet (its first sample) counts for
	// memory only.
	data = serviceDatums("default", "web", []taskLoad{{memory: 256, reserved: r}}, time.Now())
	if len(data) != 1 || *data[0].MetricName != "MemoryUtilization" {
		t.Errorf("a task with no CPU rate published %+v, want memory only", data)
	}
}

// The cluster utilization example: instances registering 16,384 and 2,048
// CPU units, 30,158 and 3,768 MiB; ten tasks each using 1,024 units and
// 2,048 MiB "is reported to CloudWatch as 55% CPU utilization and 60%
// memory utilization" (10,240 / 18,432 and 20,480 / 33,926).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster_utilization.html
func TestClusterUtilizationAsECSDocuments(t *testing.T) {
	t.Parallel()
	instances := map[string]capacity{
		"c4.4xlarge": {cpu: 16384, memory: 30158},
		"c4.large":   {cpu: 2048, memory: 3768},
		"inactive":   {}, // registers nothing: left out
	}
	var loads []taskLoad
	for i := range 10 {
		on := "c4.4xlarge"
		if i == 0 {
			on = "c4.large"
		}
		loads = append(loads, taskLoad{instance: on, cpu: 1024, memory: 2048, hasCPU: true, reserved: capacity{1024, 2048}})
	}
	// A Fargate task (on no instance) does not count for the cluster.
	loads = append(loads, taskLoad{cpu: 4096, memory: 4096, hasCPU: true, reserved: capacity{1024, 2048}})
	data := clusterDatums("default", loads, instances, time.Now())
	cpu, mem := stats(t, data, "CPUUtilization"), stats(t, data, "MemoryUtilization")
	if got := math.Floor(average(cpu)); got != 55 || *cpu.SampleCount != 2 {
		t.Errorf("cluster CPU %+v (average %v): want 55%% over 2 instances", *cpu, average(cpu))
	}
	if got := math.Floor(average(mem)); got != 60 {
		t.Errorf("cluster memory %+v (average %v): want 60%%", *mem, average(mem))
	}
	// The c4.large runs one task: 1,024 / 2,048 = 50%; the c4.4xlarge
	// nine: 9,216 / 16,384 = 56.25%.
	if !near(*cpu.Minimum, 50) || !near(*cpu.Maximum, 56.25) {
		t.Errorf("cluster CPU %+v: want min 50, max 56.25", *cpu)
	}
	for _, d := range data {
		if len(d.Dimensions) != 1 || *d.Dimensions[0].Name != "ClusterName" {
			t.Errorf("datum %+v: want ClusterName alone", d)
		}
	}
	// A cluster with no container instance (Fargate only) has no cluster
	// utilization.
	if data := clusterDatums("default", loads[10:], nil, time.Now()); len(data) != 0 {
		t.Errorf("a cluster with no instances published %+v", data)
	}
}

// What a task reserves: the task-level cpu and memory when given; else
// its containers' cpu, where a container without cpu holds the two units
// the agent gives it ("containerMetrics.CPUReserved is never 0, minimal
// it gets is 2": https://github.com/aws-observability/aws-otel-collector/issues/1368),
// and each container's memoryReservation, else its memory ("If you
// specify a soft limit (memoryReservation), it's used to calculate the
// amount of reserved memory. Otherwise, the hard limit (memory) is used":
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html).
func TestTaskReservation(t *testing.T) {
	t.Parallel()
	container := func(name, cpu, memory, soft string) types.Container {
		c := types.Container{Name: aws.String(name), Cpu: aws.String(cpu)}
		if memory != "" {
			c.Memory = aws.String(memory)
		}
		if soft != "" {
			c.MemoryReservation = aws.String(soft)
		}
		return c
	}
	for _, c := range []struct {
		name string
		task types.Task
		want capacity
	}{
		{"task level", types.Task{Cpu: aws.String("256"), Memory: aws.String("512"),
			Containers: []types.Container{container("app", "128", "", "")}}, capacity{256, 512}},
		{"containers", types.Task{Containers: []types.Container{
			container("app", "512", "1024", "256"), container("sidecar", "128", "128", "")}}, capacity{640, 384}},
		{"no cpu", types.Task{Containers: []types.Container{
			container("app", "0", "512", ""), container("sidecar", "0", "", "64")}}, capacity{4, 576}},
		{"overrides", types.Task{Cpu: aws.String("256"), Memory: aws.String("512"),
			Overrides: &types.TaskOverride{Cpu: aws.String("1024"), Memory: aws.String("2048")}}, capacity{1024, 2048}},
		{"container overrides", types.Task{Containers: []types.Container{container("app", "128", "128", "")},
			Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Cpu: aws.Int32(256), MemoryReservation: aws.Int32(64)}}}}, capacity{256, 64}},
	} {
		if got := taskReserved(c.task); got != c.want {
			t.Errorf("%s: reserves %+v, want %+v", c.name, got, c.want)
		}
	}
}

// A container's CPU is its CPU time over the time between two readings,
// in units of 1,024 to a vCPU
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/capacity-tasksize.html).
func TestCPUUnitsFromReadings(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	read := func(at time.Duration, cpu time.Duration) runtime.Usage {
		return runtime.Usage{Read: t0.Add(at), CPUNanos: uint64(cpu)}
	}
	for _, c := range []struct {
		name      string
		prev, cur runtime.Usage
		want      float64
		ok        bool
	}{
		{"a full vCPU", read(0, time.Second), read(10*time.Second, 11*time.Second), 1024, true},
		{"a quarter vCPU", read(0, 0), read(10*time.Second, 2500*time.Millisecond), 256, true},
		{"two vCPUs", read(0, 0), read(time.Second, 2*time.Second), 2048, true},
		{"idle", read(0, time.Second), read(10*time.Second, time.Second), 0, true},
		{"no previous reading", runtime.Usage{}, read(time.Second, time.Second), 0, false},
		{"restarted", read(0, 5*time.Second), read(time.Second, time.Second), 0, false},
		{"same reading", read(0, time.Second), read(0, time.Second), 0, false},
	} {
		got, ok := cpuUnits(c.prev, c.cur)
		if ok != c.ok || !near(got, c.want) {
			t.Errorf("%s: %v units (%v), want %v (%v)", c.name, got, ok, c.want, c.ok)
		}
	}
}

// Samples of a period add up per task: CPU from the second reading of a
// container on, memory from the first, the containers of a task summed.
func TestSamplesAddUpPerTask(t *testing.T) {
	t.Parallel()
	m := &Metrics{last: map[string]runtime.Usage{}, tasks: map[string]*taskUsage{}}
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const mib = 1 << 20
	reading := func(id string, at, cpu time.Duration, memory uint64) runtime.Usage {
		return runtime.Usage{ContainerID: id, Labels: map[string]string{runtime.LabelTask: "task"}, Read: t0.Add(at), CPUNanos: uint64(cpu), MemoryBytes: memory}
	}
	m.add([]runtime.Usage{reading("a", 0, 0, 100*mib), reading("b", 0, 0, 20*mib)})
	m.add([]runtime.Usage{reading("a", 10*time.Second, 5*time.Second, 100*mib), reading("b", 10*time.Second, 0, 40*mib)})
	u := m.tasks["task"]
	// Memory: (120 + 140) / 2 samples = 130 MiB; CPU: one rated sample of
	// half a vCPU = 512 units.
	if u.samples != 2 || u.cpuSamples != 1 || !near(u.memoryMiB/2, 130) || !near(u.cpuUnits, 512) {
		t.Errorf("task usage %+v: want 2 samples, 130 MiB, one CPU sample of 512 units", *u)
	}
	// A container gone from a sample is forgotten.
	m.add([]runtime.Usage{reading("a", 20*time.Second, 5*time.Second, 100*mib)})
	if _, ok := m.last["b"]; ok {
		t.Error("the reading of a container gone is kept")
	}
}

// fakeUsage answers Usages with the readings of its next sample.
type fakeUsage struct {
	calls   int
	samples [][]runtime.Usage
}

func (f *fakeUsage) Usages(context.Context, map[string]string) ([]runtime.Usage, error) {
	f.calls++
	if len(f.samples) == 0 {
		return nil, nil
	}
	s := f.samples[0]
	f.samples = f.samples[1:]
	return s, nil
}

// published records what was published, by scope.
type published map[backend.Scope][]cwtypes.MetricDatum

func (p published) Publish(ctx context.Context, namespace string, data []cwtypes.MetricDatum) error {
	if namespace != "AWS/ECS" {
		return errors.New("namespace " + namespace)
	}
	s := backend.ScopeFrom(ctx)
	p[s] = append(p[s], data...)
	return nil
}

// find returns the datum of metric with exactly the dimension values
// given, in dimension order.
func find(data []cwtypes.MetricDatum, metric string, values ...string) *cwtypes.StatisticSet {
	for _, d := range data {
		if aws.ToString(d.MetricName) != metric || len(d.Dimensions) != len(values) {
			continue
		}
		match := true
		for i, v := range values {
			match = match && aws.ToString(d.Dimensions[i].Value) == v
		}
		if match {
			return d.StatisticValues
		}
	}
	return nil
}

// A running service task, read twice ten seconds apart, is published in
// its scope per service and per cluster; nothing is read while no task
// runs.
func TestMetricsSampleAndPublish(t *testing.T) {
	b, ctx, now := testBackend(t)
	rt := &fakeUsage{}
	pub := published{}
	m := NewMetrics(b, rt, "0123456789abcdef", pub, time.Minute, zerolog.Nop())
	if err := m.Sample(ctx); err != nil || rt.calls != 0 {
		t.Fatalf("with no task running, Sample read the runtime %d times (%v)", rt.calls, err)
	}
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("burn"), ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("berth/testapp"), Cpu: 256, Memory: aws.Int32(128)},
		},
	}); err != nil {
		t.Fatal(err)
	}
	out, err := b.RunTask(ctx, &ecsapi.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("burn"), Group: aws.String("service:web")})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("RunTask = %+v, %v", out, err)
	}
	task := out.Tasks[0]
	s := scopeOf(ctx)
	if err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var stored types.Task
		if err := tx.Get(s.Key(kindTask, *task.TaskArn), &stored); err != nil {
			return err
		}
		stored.LastStatus = aws.String(statusRunning)
		return putTask(tx, s.Scope, stored)
	}); err != nil {
		t.Fatal(err)
	}
	reading := func(at, cpu time.Duration) []runtime.Usage {
		return []runtime.Usage{{ContainerID: "c1", Labels: map[string]string{runtime.LabelTask: *task.TaskArn},
			Read: now.Add(at), CPUNanos: uint64(cpu), MemoryBytes: 64 << 20}}
	}
	// A quarter of a vCPU (256 units) between the readings, and 64 MiB.
	rt.samples = [][]runtime.Usage{reading(0, time.Second), reading(10*time.Second, 3500*time.Millisecond)}
	for range 2 {
		if err := m.Sample(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Publish(ctx, *now); err != nil {
		t.Fatal(err)
	}
	data := pub[s.Scope]
	if len(pub) != 1 || len(data) != 4 {
		t.Fatalf("published %+v, want 4 datapoints in %v", pub, s.Scope)
	}
	// The service: 256 of 256 units, 64 of 128 MiB. The cluster: the
	// host's instance registers 2 CPUs (2,048 units) and 2,048 MiB.
	for _, c := range []struct {
		metric string
		dims   []string
		want   float64
	}{
		{"CPUUtilization", []string{"c", "web"}, 100},
		{"MemoryUtilization", []string{"c", "web"}, 50},
		{"CPUUtilization", []string{"c"}, 12.5},
		{"MemoryUtilization", []string{"c"}, 3.125},
	} {
		set := find(data, c.metric, c.dims...)
		if set == nil || !near(average(set), c.want) || *set.SampleCount != 1 {
			t.Errorf("%s %v = %+v, want %v%% of one sample", c.metric, c.dims, set, c.want)
		}
	}
	// The period's samples are spent: the next period starts empty.
	clear(pub)
	if err := m.Publish(ctx, now.Add(time.Minute)); err != nil || len(pub) != 0 {
		t.Errorf("a period without samples published %+v (%v)", pub, err)
	}
}
