// Package runtime is the container engine behind ECS tasks: a small
// interface over what berth asks of the Docker Engine, and its
// implementation with the Engine's Go client.
//
// Every container and network berth creates carries the labels below, and
// berth acts only on objects that carry its instance label: a Docker host
// shared with other work is safe.
package runtime

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Labels berth puts on what it creates, each starting with LabelPrefix.
const (
	LabelPrefix         = "berth."
	LabelInstance       = "berth.instance"        // the berth instance (stable per data directory)
	LabelAccount        = "berth.account"         // the task's account
	LabelRegion         = "berth.region"          // the task's region
	LabelCluster        = "berth.cluster"         // the task's cluster name
	LabelTask           = "berth.task-arn"        // the task's ARN
	LabelContainer      = "berth.container-name"  // the container's name in the task definition
	LabelTaskDefinition = "berth.task-definition" // family:revision
	// LabelTaskVolume marks a Docker volume of one task's own (a volume
	// with no host path, or of task scope), removed with its last container.
	LabelTaskVolume = "berth.task-volume"
)

// Stream is one of a container's output streams.
type Stream string

// A container's output streams, named as Docker's fluentd log driver
// names them in a record's source field.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Spec is one container to create.
type Spec struct {
	Name       string
	Config     *container.Config
	HostConfig *container.HostConfig
	Networking *network.NetworkingConfig
}

// Event says that something happened to a container berth created: it
// started, died, changed health, or was removed.
type Event struct {
	Action      string
	ContainerID string
	Labels      map[string]string
}

// Host is what the engine's machine offers to tasks.
type Host struct {
	CPUs        int
	MemoryBytes int64
}

// Runtime runs containers. Every method acts only on objects carrying the
// labels given or berth's instance label, and returns within a bounded time.
type Runtime interface {
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// Host reports the CPUs and memory of the engine's machine.
	Host(ctx context.Context) (Host, error)
	// Create creates a container from spec and returns its id.
	Create(ctx context.Context, spec Spec) (string, error)
	// Start starts a created container.
	Start(ctx context.Context, id string) error
	// Stop sends the container's stop signal, waits up to timeout, then
	// kills it.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Remove removes a container, running or not, with its anonymous
	// volumes and the task volumes (LabelTaskVolume) no other container
	// uses.
	Remove(ctx context.Context, id string) error
	// Inspect reports a container's state, ports and networks.
	Inspect(ctx context.Context, id string) (container.InspectResponse, error)
	// List returns every container, running or not, that has all labels.
	List(ctx context.Context, labels map[string]string) ([]container.Summary, error)
	// Events streams the events of containers that have all labels until
	// ctx ends or the stream breaks; the error channel says which.
	Events(ctx context.Context, labels map[string]string) (<-chan Event, <-chan error)
	// Logs follows a container's output from since on: the streams named,
	// or stdout and stderr together when none is. Each line starts with the
	// time it was written (RFC 3339 with nanoseconds) and a space. The
	// output ends once the container has stopped and all of it is read, or
	// when ctx ends.
	Logs(ctx context.Context, id string, since time.Time, streams ...Stream) (io.ReadCloser, error)
	// HasImage reports whether image is present locally.
	HasImage(ctx context.Context, image string) (bool, error)
	// Pull pulls image with the registry credentials auth (an
	// X-Registry-Auth value; "" for none), reporting progress lines to
	// progress.
	Pull(ctx context.Context, image, auth string, progress func(string)) error
	// Network returns the id of the bridge network name, creating it with
	// labels if it does not exist.
	Network(ctx context.Context, name string, labels map[string]string) (string, error)
	// Stats returns one sample of a container's resource usage, the
	// Engine's stats document as it sends it.
	Stats(ctx context.Context, id string) (json.RawMessage, error)
}
