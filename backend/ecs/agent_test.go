package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/api/types/container"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// failingStops is a container runtime whose one container of the task
// never stops, as with a full disk: every Stop fails. It records when
// each was tried, by the test's clock.
type failingStops struct {
	task string
	now  func() time.Time

	mu    sync.Mutex
	stops []time.Time
}

var errDiskFull = errors.New("Error response from daemon: no space left on device")

func (f *failingStops) List(context.Context, map[string]string) ([]container.Summary, error) {
	return []container.Summary{{ID: "c0ffee", Labels: map[string]string{runtime.LabelTask: f.task, runtime.LabelContainer: "app"}}}, nil
}

func (f *failingStops) Stop(context.Context, string, time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, f.now())
	return errDiskFull
}

func (f *failingStops) Create(context.Context, runtime.Spec) (string, error) { return "", errDiskFull }
func (f *failingStops) Ping(context.Context) error                           { return nil }
func (f *failingStops) Host(context.Context) (runtime.Host, error)           { return runtime.Host{CPUs: 2}, nil }
func (f *failingStops) Start(context.Context, string) error                  { return errDiskFull }
func (f *failingStops) Remove(context.Context, string) error                 { return errDiskFull }
func (f *failingStops) Inspect(context.Context, string) (container.InspectResponse, error) {
	return container.InspectResponse{}, errDiskFull
}
func (f *failingStops) Events(context.Context, map[string]string) (<-chan runtime.Event, <-chan error) {
	return nil, nil
}
func (f *failingStops) Logs(context.Context, string, time.Time, ...runtime.Stream) (io.ReadCloser, error) {
	return nil, errDiskFull
}
func (f *failingStops) HasImage(context.Context, string) (bool, error) { return true, nil }
func (f *failingStops) Pull(context.Context, string, string, func(string)) error {
	return errDiskFull
}
func (f *failingStops) Network(context.Context, string, map[string]string) (string, error) {
	return "", errDiskFull
}
func (f *failingStops) Stats(context.Context, string) (json.RawMessage, error) {
	return nil, errDiskFull
}

// TestFailingStopBacksOff: a task whose container cannot be stopped stays
// STOPPING and is tried again, with exponential backoff capped at a
// minute, not in a busy loop. Ten minutes of the test's clock, in steps of
// 250 ms, each with an agent pass, see about 16 attempts, not 2400.
func TestFailingStopBacksOff(t *testing.T) {
	b, ctx, now := testBackend(t)
	arn := *runTask(t, b, ctx, ecsapi.RunTaskInput{}).Tasks[0].TaskArn
	if _, err := b.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: aws.String("c"), Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	rt := &failingStops{task: arn, now: func() time.Time { return *now }}
	a := NewAgent(b, rt, Host{Instance: "0123456789abcdef"}, []byte("test secret"), zerolog.Nop())
	a.after = func(time.Duration) <-chan time.Time { return nil } // the test moves the clock
	idle := func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.runners) == 0
	}
	start := *now
	for ; now.Sub(start) < 10*time.Minute; *now = now.Add(250 * time.Millisecond) {
		a.reconcile(context.Background())
		for deadline := time.Now().Add(10 * time.Second); !idle(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the task's runner did not end")
			}
		}
	}
	rt.mu.Lock()
	stops := rt.stops
	rt.mu.Unlock()
	t.Logf("%d attempts to stop in 10 minutes of the clock", len(stops))
	// 0.5 s doubling: attempts at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5 s,
	// then every minute: 8 + 8 in ten minutes.
	if len(stops) < 12 || len(stops) > 20 {
		t.Fatalf("%d attempts to stop in 10 minutes", len(stops))
	}
	for i := 2; i < len(stops); i++ {
		gap, before := stops[i].Sub(stops[i-1]), stops[i-1].Sub(stops[i-2])
		if gap < before || gap > time.Minute+250*time.Millisecond {
			t.Fatalf("attempt %d came %v after the one before, which came %v after its own", i, gap, before)
		}
	}
	out, err := b.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c"), Tasks: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Tasks[0].LastStatus) == statusStopped {
		t.Fatal("the task is STOPPED while its container could not be stopped")
	}
}

// sizedEngine is an engine that answers, with 4 CPUs and 8 GiB.
type sizedEngine struct{ failingStops }

func (*sizedEngine) Host(context.Context) (runtime.Host, error) {
	return runtime.Host{CPUs: 4, MemoryBytes: 8 << 30}, nil
}

// TestFleetHostSizedWhenItAnswers: a cluster made before a fleet host's
// engine answers has the host's instance with no CPU or memory known;
// once its agent reaches the engine, the instance is registered with the
// engine's CPUs (1024 CPU units per vCPU) and memory (in MiB), as an ECS
// agent registers its instance's resources when it starts.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerInstance.html
func TestFleetHostSizedWhenItAnswers(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	env := backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}}
	remote := Host{Instance: "0123456789abcdef", Name: "b", Address: "10.0.0.2", Zone: "b"}
	b := New(store, env, Host{Instance: "0123456789abcdef", CPUs: 2, MemoryMiB: 2048}, remote)
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	if _, err := b.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	registered := func() map[string]int32 {
		t.Helper()
		out, err := b.DescribeContainerInstances(ctx, &ecsapi.DescribeContainerInstancesInput{
			Cluster: aws.String("c"), ContainerInstances: []string{remote.containerInstanceID()},
		})
		if err != nil || len(out.ContainerInstances) != 1 {
			t.Fatalf("DescribeContainerInstances = %+v, %v", out, err)
		}
		got := map[string]int32{}
		for _, r := range out.ContainerInstances[0].RegisteredResources {
			got[aws.ToString(r.Name)] = r.IntegerValue
		}
		return got
	}
	if got := registered(); got["CPU"] != 0 || got["MEMORY"] != 0 {
		t.Fatalf("before its engine answered, the host registered %v", got)
	}
	a := NewAgent(b, &sizedEngine{}, remote, []byte("test secret"), zerolog.Nop())
	if err := a.ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := registered(); got["CPU"] != 4*1024 || got["MEMORY"] != 8*1024 {
		t.Fatalf("once its engine answered, the host registered %v, want CPU 4096 and MEMORY 8192", got)
	}
}

// TestDrainingWakesTheAgents: UpdateContainerInstancesState wakes the
// agents, so that the service scheduler replaces a DRAINING instance's
// service tasks at once, not at its next periodic sweep.
func TestDrainingWakesTheAgents(t *testing.T) {
	b, ctx, _ := testBackend(t)
	task := runTask(t, b, ctx, ecsapi.RunTaskInput{}).Tasks[0]
	wake := b.woken()
	if _, err := b.UpdateContainerInstancesState(ctx, &ecsapi.UpdateContainerInstancesStateInput{
		Cluster: aws.String("c"), ContainerInstances: []string{aws.ToString(task.ContainerInstanceArn)}, Status: types.ContainerInstanceStatusDraining,
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	default:
		t.Fatal("DRAINING an instance did not wake the agents")
	}
}
