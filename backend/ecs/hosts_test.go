package ecs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/backend"
	"berth/backend/runtime"
	"berth/sqlite"
)

// fleetBackend is a backend with the local host and a fleet host "b",
// and a cluster "c", which both joined.
func fleetBackend(t *testing.T) (*Backend, context.Context, Host) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	env := backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}}
	remote := Host{Instance: "0123456789abcdef", Name: "b", Address: "10.0.0.2", Zone: "b", CPUs: 4, MemoryMiB: 8192}
	b := New(store, env, Host{Instance: "0123456789abcdef", CPUs: 2, MemoryMiB: 2048}, remote)
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	if _, err := b.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	return b, ctx, remote
}

// TestUserInstanceWithAHostsEC2ID: an instance a client registers is the
// client's even when its identity document names a host's EC2 instance
// (DescribeInstances lists their ids): it keeps its cluster from being
// deleted, as any active container instance does ("You must deregister
// all container instances from this cluster before you may delete it",
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html),
// and berth does not deregister it with the hosts' own.
func TestUserInstanceWithAHostsEC2ID(t *testing.T) {
	b, ctx, remote := fleetBackend(t)
	doc := `{"instanceId":"` + remote.ec2InstanceID() + `","availabilityZone":"us-east-1b"}`
	reg, err := b.RegisterContainerInstance(ctx, &ecsapi.RegisterContainerInstanceInput{
		Cluster: aws.String("c"), InstanceIdentityDocument: aws.String(doc),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.DeleteCluster(ctx, &ecsapi.DeleteClusterInput{Cluster: aws.String("c")})
	if !awsproto.HasCode(err, &types.ClusterContainsContainerInstancesException{}) {
		t.Fatalf("DeleteCluster with a client's instance active = %v, want ClusterContainsContainerInstancesException", err)
	}
	out, err := b.DescribeContainerInstances(ctx, &ecsapi.DescribeContainerInstancesInput{
		Cluster: aws.String("c"), ContainerInstances: []string{*reg.ContainerInstance.ContainerInstanceArn},
	})
	if err != nil || len(out.ContainerInstances) != 1 || aws.ToString(out.ContainerInstances[0].Status) != "ACTIVE" {
		t.Fatalf("the client's instance after DeleteCluster: %+v, %v", out, err)
	}
}

// TestHostInstanceNotReregistered: a host's container instance is
// registered by berth's own agent; a client's RegisterContainerInstance
// naming it (which an ECS agent uses to register its own instance again)
// is refused, and leaves its EC2 instance id and resources as they were.
func TestHostInstanceNotReregistered(t *testing.T) {
	b, ctx, remote := fleetBackend(t)
	arn := "arn:aws:ecs:us-east-1:123456789012:container-instance/c/" + remote.containerInstanceID()
	_, err := b.RegisterContainerInstance(ctx, &ecsapi.RegisterContainerInstanceInput{
		Cluster: aws.String("c"), ContainerInstanceArn: aws.String(arn),
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0aaaaaaaaaaaaaaaa"}`),
		TotalResources:           []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1 << 20}},
	})
	if err == nil {
		t.Errorf("a host's instance was registered again by a client")
	}
	out, err := b.DescribeContainerInstances(ctx, &ecsapi.DescribeContainerInstancesInput{
		Cluster: aws.String("c"), ContainerInstances: []string{arn},
	})
	if err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("DescribeContainerInstances = %+v, %v", out, err)
	}
	ci := out.ContainerInstances[0]
	if aws.ToString(ci.Ec2InstanceId) != remote.ec2InstanceID() {
		t.Errorf("the host's instance is now EC2 instance %s", aws.ToString(ci.Ec2InstanceId))
	}
	for _, r := range ci.RegisteredResources {
		if aws.ToString(r.Name) == "CPU" && r.IntegerValue != 4*1024 {
			t.Errorf("the host's instance registers %d CPU units, want 4096 (its 4 CPUs)", r.IntegerValue)
		}
	}
}

// TestStartTaskOnALostHost: StartTask on an instance whose agent is
// disconnected fails with AGENT, "The container instance that you
// attempted to launch a task onto has an agent that's currently
// disconnected."
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html
func TestStartTaskOnALostHost(t *testing.T) {
	b, ctx, remote := fleetBackend(t)
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth/testapp"), Memory: aws.Int32(128)}},
	}); err != nil {
		t.Fatal(err)
	}
	b.fleet.setConnected(remote, false)
	out, err := b.StartTask(ctx, &ecsapi.StartTaskInput{
		Cluster: aws.String("c"), TaskDefinition: aws.String("web"), ContainerInstances: []string{remote.containerInstanceID()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "AGENT" {
		t.Fatalf("StartTask on a lost host = %d tasks, failures %v; want the failure AGENT", len(out.Tasks), reasons(out.Failures))
	}
}

// TestDrainingALostHost: UpdateContainerInstancesState answers with the
// instance as DescribeContainerInstances shows it, its agent disconnected
// while its host is lost, and stores no such thing: once the host answers
// again, its agent is connected.
func TestDrainingALostHost(t *testing.T) {
	b, ctx, remote := fleetBackend(t)
	b.fleet.setConnected(remote, false)
	out, err := b.UpdateContainerInstancesState(ctx, &ecsapi.UpdateContainerInstancesStateInput{
		Cluster: aws.String("c"), ContainerInstances: []string{remote.containerInstanceID()}, Status: types.ContainerInstanceStatusDraining,
	})
	if err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("UpdateContainerInstancesState = %+v, %v", out, err)
	}
	if out.ContainerInstances[0].AgentConnected {
		t.Errorf("a lost host's instance answered with its agent connected")
	}
	b.fleet.setConnected(remote, true)
	d, err := b.DescribeContainerInstances(ctx, &ecsapi.DescribeContainerInstancesInput{
		Cluster: aws.String("c"), ContainerInstances: []string{remote.containerInstanceID()},
	})
	if err != nil || len(d.ContainerInstances) != 1 || !d.ContainerInstances[0].AgentConnected {
		t.Fatalf("once the host answers: %+v, %v; want its agent connected", d, err)
	}
}

// resizableEngine is an engine that answers with the CPUs it is given.
type resizableEngine struct {
	failingStops
	cpus int
}

func (e *resizableEngine) Host(context.Context) (runtime.Host, error) {
	return runtime.Host{CPUs: e.cpus, MemoryBytes: 8 << 30}, nil
}

// TestHostResizedWhileLost: a host whose engine comes back after it was
// lost may be another machine, or the same one resized; its instance is
// registered with the size its engine says then, as an ECS agent
// registers its instance's resources when it starts.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerInstance.html
func TestHostResizedWhileLost(t *testing.T) {
	b, ctx, _ := fleetBackend(t)
	remote := Host{Instance: "0123456789abcdef", Name: "b", Address: "10.0.0.2", Zone: "b"}
	b.fleet.hosts[1] = remote // not sized by berth's flags: by its engine
	engine := &resizableEngine{cpus: 4}
	a := NewAgent(b, engine, remote, []byte("test secret"), zerolog.Nop())
	cpu := func() int32 {
		t.Helper()
		if err := a.ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		out, err := b.DescribeContainerInstances(ctx, &ecsapi.DescribeContainerInstancesInput{
			Cluster: aws.String("c"), ContainerInstances: []string{remote.containerInstanceID()},
		})
		if err != nil || len(out.ContainerInstances) != 1 {
			t.Fatalf("DescribeContainerInstances = %+v, %v", out, err)
		}
		for _, r := range out.ContainerInstances[0].RegisteredResources {
			if aws.ToString(r.Name) == "CPU" {
				return r.IntegerValue
			}
		}
		return 0
	}
	if got := cpu(); got != 4*1024 {
		t.Fatalf("registered %d CPU units, want 4096", got)
	}
	b.fleet.setConnected(remote, false)
	engine.cpus = 8
	if got := cpu(); got != 8*1024 {
		t.Fatalf("after the host came back with 8 CPUs, registered %d CPU units, want 8192", got)
	}
}

// TestHostInstanceWithoutResources: a host's instance stored without its
// resources (as a client's RegisterContainerInstance of it left one,
// before berth refused it) is registered anew with its engine's size;
// placing a task on the cluster does not fail on it.
func TestHostInstanceWithoutResources(t *testing.T) {
	b, ctx, remote := fleetBackend(t)
	s := scope{backend.Scope{Account: "123456789012", Region: "us-east-1"}}
	arn := s.arn("container-instance/c/" + remote.containerInstanceID())
	if err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var ci types.ContainerInstance
		if err := tx.Get(s.Key(kindContainerInstance, arn), &ci); err != nil {
			return err
		}
		ci.RegisteredResources, ci.RemainingResources = []types.Resource{}, []types.Resource{}
		return tx.Put(s.Row(kindContainerInstance, arn, s.arn("cluster/c"), *ci.Ec2InstanceId), ci)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth/testapp"), Memory: aws.Int32(128)}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RunTask(ctx, &ecsapi.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")}); err != nil {
		t.Fatalf("RunTask: %v", err)
	}
}
