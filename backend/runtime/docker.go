package runtime

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// callTimeout bounds every Engine call but pulls and event streams.
const callTimeout = 30 * time.Second

// pullTimeout bounds one image pull.
const pullTimeout = 10 * time.Minute

// Docker is the Runtime of the local Docker Engine. Its Engine API version
// is negotiated on first use, so older and newer engines both work.
type Docker struct {
	c        *client.Client
	instance string
	// creating makes network creation one at a time: engines before API
	// 1.44 create a second network of the same name rather than refuse.
	creating sync.Mutex
}

// NewDocker returns the runtime of the Engine that DOCKER_HOST (or the
// default socket) names, acting for the berth instance.
func NewDocker(instance string) (*Docker, error) {
	c, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	return &Docker{c: c, instance: instance}, nil
}

// NewRemoteDocker returns the runtime of the Engine at host (tcp://addr:port)
// reached over mutual TLS with config (its client certificate and the
// authority the engine's certificate is checked against), acting for the
// berth instance.
func NewRemoteDocker(host string, config *tls.Config, instance string) (*Docker, error) {
	transport := &http.Transport{TLSClientConfig: config, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}
	c, err := client.New(client.WithHTTPClient(&http.Client{Transport: transport}), client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	return &Docker{c: c, instance: instance}, nil
}

// Close releases the client's connections.
func (d *Docker) Close() error { return d.c.Close() }

// Ping checks that the Engine answers.
func (d *Docker) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := d.c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return err
}

// IsNotFound reports whether err says a container, image or network does
// not exist.
func IsNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// Create implements Runtime.
func (d *Docker) Create(ctx context.Context, spec Spec) (string, error) {
	if spec.Config.Labels[LabelInstance] != d.instance {
		return "", fmt.Errorf("container %s lacks berth's instance label", spec.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := d.c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name, Config: spec.Config, HostConfig: spec.HostConfig, NetworkingConfig: spec.Networking,
	})
	return res.ID, err
}

// Start implements Runtime.
func (d *Docker) Start(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := d.owned(ctx, id); err != nil {
		return err
	}
	_, err := d.c.ContainerStart(ctx, id, client.ContainerStartOptions{})
	return err
}

// Stop implements Runtime.
func (d *Docker) Stop(ctx context.Context, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout+timeout)
	defer cancel()
	if err := d.owned(ctx, id); err != nil {
		return err
	}
	secs := int(timeout.Seconds())
	_, err := d.c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
	return err
}

// Remove implements Runtime.
func (d *Docker) Remove(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := d.inspect(ctx, id)
	if err != nil {
		return err
	}
	if c.Config == nil || c.Config.Labels[LabelInstance] != d.instance {
		return fmt.Errorf("container %s is not berth's", id)
	}
	if _, err := d.c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		return err
	}
	for _, m := range c.Mounts {
		if m.Type == mount.TypeVolume && m.Name != "" {
			d.removeTaskVolume(ctx, m.Name)
		}
	}
	return nil
}

// removeTaskVolume removes a volume of berth's that is a task's own; one
// another container of the task still uses stays, for that container's
// removal to take.
func (d *Docker) removeTaskVolume(ctx context.Context, name string) {
	v, err := d.c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil || v.Volume.Labels[LabelInstance] != d.instance || v.Volume.Labels[LabelTaskVolume] == "" {
		return
	}
	d.c.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}) // in use: the last user removes it
}

// owned refuses to act on a container without berth's instance label.
func (d *Docker) owned(ctx context.Context, id string) error {
	c, err := d.inspect(ctx, id)
	if err != nil {
		return err
	}
	if c.Config == nil || c.Config.Labels[LabelInstance] != d.instance {
		return fmt.Errorf("container %s is not berth's", id)
	}
	return nil
}

// Inspect implements Runtime.
func (d *Docker) Inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return d.inspect(ctx, id)
}

func (d *Docker) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	res, err := d.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return res.Container, err
}

// labelFilter filters by every label in labels.
func labelFilter(labels map[string]string) client.Filters {
	f := make(client.Filters)
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// List implements Runtime.
func (d *Docker) List(ctx context.Context, labels map[string]string) ([]container.Summary, error) {
	if len(labels) == 0 {
		return nil, errors.New("listing containers needs a label")
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := d.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilter(labels)})
	return res.Items, err
}

// Events implements Runtime.
func (d *Docker) Events(ctx context.Context, labels map[string]string) (<-chan Event, <-chan error) {
	f := labelFilter(labels).Add("type", "container")
	res := d.c.Events(ctx, client.EventsListOptions{Filters: f})
	out, errc := make(chan Event), make(chan error, 1)
	go func() {
		// The client never closes Messages: the stream's end is its error.
		defer close(out)
		for {
			select {
			case m := <-res.Messages:
				select {
				case out <- Event{Action: string(m.Action), ContainerID: m.Actor.ID, Labels: m.Actor.Attributes}:
				case <-ctx.Done():
					errc <- ctx.Err()
					return
				}
			case err := <-res.Err:
				errc <- err
				return
			case <-ctx.Done():
				errc <- ctx.Err()
				return
			}
		}
	}()
	return out, errc
}

// Logs implements Runtime.
func (d *Docker) Logs(ctx context.Context, id string, since time.Time, streams ...Stream) (io.ReadCloser, error) {
	c, err := d.Inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	opts := client.ContainerLogsOptions{
		ShowStdout: len(streams) == 0 || slices.Contains(streams, Stdout),
		ShowStderr: len(streams) == 0 || slices.Contains(streams, Stderr),
		Timestamps: true, Follow: true,
	}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	res, err := d.c.ContainerLogs(ctx, id, opts)
	if err != nil || c.Config.Tty {
		return res, err // a terminal's output is not multiplexed
	}
	r, w := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(w, w, res)
		res.Close()
		w.CloseWithError(err)
	}()
	return r, nil
}

// HasImage implements Runtime.
func (d *Docker) HasImage(ctx context.Context, image string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := d.c.ImageInspect(ctx, image)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Pull implements Runtime.
func (d *Docker) Pull(ctx context.Context, image, auth string, progress func(string)) error {
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	res, err := d.c.ImagePull(ctx, image, client.ImagePullOptions{RegistryAuth: auth})
	if err != nil {
		return err
	}
	defer res.Close()
	for m, err := range res.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if line := strings.TrimSpace(strings.Join([]string{m.ID, m.Status}, " ")); line != "" && m.Progress == nil {
			progress(line)
		}
	}
	return nil
}

// Network implements Runtime.
func (d *Docker) Network(ctx context.Context, name string, labels map[string]string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	d.creating.Lock()
	defer d.creating.Unlock()
	if n, err := d.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); err == nil {
		if n.Network.Labels[LabelInstance] != d.instance {
			return "", fmt.Errorf("network %s is not berth's", name)
		}
		return n.Network.ID, nil
	} else if !IsNotFound(err) {
		return "", err
	}
	res, err := d.c.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	return res.ID, err
}

// Stats implements Runtime.
func (d *Docker) Stats(ctx context.Context, id string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := d.owned(ctx, id); err != nil {
		return nil, err
	}
	res, err := d.c.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var doc json.RawMessage
	return doc, json.NewDecoder(res.Body).Decode(&doc)
}

// LabelEndpoint marks the network that gives the host the address of the
// task endpoint. Every berth on the host shares it, so it carries no
// instance label and RemoveAll leaves it.
const LabelEndpoint = "berth.task-endpoint"

// HostAddress makes gateway's address one of the host's, where containers
// reach it whatever their network: it creates (or finds) the bridge
// network name of gateway's prefix with that address as its gateway, which
// the Engine assigns to the network's bridge interface on the host.
func (d *Docker) HostAddress(ctx context.Context, name string, gateway netip.Prefix) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	d.creating.Lock()
	defer d.creating.Unlock()
	found := func() (bool, error) {
		n, err := d.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		if IsNotFound(err) {
			return false, nil
		}
		if err == nil && n.Network.Labels[LabelEndpoint] != gateway.String() {
			err = fmt.Errorf("network %s is not berth's task endpoint network", name)
		}
		return err == nil, err
	}
	if ok, err := found(); ok || err != nil {
		return err
	}
	_, err := d.c.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver: "bridge",
		IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: gateway.Masked(), Gateway: gateway.Addr()}}},
		Labels: map[string]string{LabelEndpoint: gateway.String()},
	})
	if err != nil {
		if ok, _ := found(); ok { // another berth made it first
			return nil
		}
	}
	return err
}

// BridgeGateway is the address of the host on Docker's default bridge
// network (docker0's, 172.17.0.1 by default): where containers reach the
// host, and the host ports published for them.
func (d *Docker) BridgeGateway(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	n, err := d.c.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if err != nil {
		return "", err
	}
	for _, c := range n.Network.IPAM.Config {
		switch {
		case c.Gateway.IsValid() && c.Gateway.Is4():
			return c.Gateway.String(), nil
		case c.Subnet.IsValid() && c.Subnet.Addr().Is4():
			// The engine may list the subnet alone: its gateway is then
			// the subnet's first address, which dockerd gives docker0.
			return c.Subnet.Masked().Addr().Next().String(), nil
		}
	}
	return "", fmt.Errorf("docker's bridge network has no IPv4 gateway")
}

// Host reports the engine machine's CPUs and memory.
func (d *Docker) Host(ctx context.Context) (Host, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := d.c.Info(ctx, client.InfoOptions{})
	return Host{CPUs: res.Info.NCPU, MemoryBytes: res.Info.MemTotal}, err
}

// RemoveAll removes every container, network and task volume that any
// berth instance created: the labels say which.
func (d *Docker) RemoveAll(ctx context.Context) (int, error) {
	call := func(fn func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		if err := fn(ctx); err != nil && !IsNotFound(err) {
			return err
		}
		return nil
	}
	f := make(client.Filters).Add("label", LabelInstance)
	var list client.ContainerListResult
	if err := call(func(ctx context.Context) (err error) {
		list, err = d.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		return err
	}); err != nil {
		return 0, err
	}
	var errs []error
	for _, c := range list.Items {
		errs = append(errs, call(func(ctx context.Context) error {
			_, err := d.c.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			return err
		}))
	}
	var nets client.NetworkListResult
	errs = append(errs, call(func(ctx context.Context) (err error) {
		nets, err = d.c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		return err
	}))
	for _, n := range nets.Items {
		errs = append(errs, call(func(ctx context.Context) error {
			_, err := d.c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
			return err
		}))
	}
	var volumes client.VolumeListResult
	errs = append(errs, call(func(ctx context.Context) (err error) {
		volumes, err = d.c.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", LabelTaskVolume)})
		return err
	}))
	for _, v := range volumes.Items {
		if v.Labels[LabelInstance] == "" {
			continue
		}
		errs = append(errs, call(func(ctx context.Context) error {
			_, err := d.c.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
			return err
		}))
	}
	return len(list.Items), errors.Join(errs...)
}
