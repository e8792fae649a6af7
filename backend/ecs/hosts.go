package ecs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// Host is one machine berth places EC2 tasks on: a Docker Engine, the
// local one or one of the fleet's (--engine). It is registered as a
// container instance in every cluster that runs an EC2 task, with its
// real CPUs and memory, under ids that derive from berth's instance id
// and the host's name, so that they survive a restart.
type Host struct {
	Instance string // the berth instance id
	// Name is "" for the local engine, else the name the fleet gives it.
	Name string
	// Address is where the host's instance targets (its tasks' host
	// ports) are reached: 127.0.0.1 for the local engine.
	Address string
	// TaskAddress, when set, is where the host's tasks reach it and the
	// host ports of other tasks on it (the local engine's Docker bridge
	// gateway, as 127.0.0.1 is each container's own): the address berth
	// registers bridge and host tasks at in Cloud Map. Address otherwise.
	TaskAddress string
	// Zone is the letter of the host's availability zone in every region
	// ("b": us-east-1b); "" is "a".
	Zone string
	// InstanceType, when set, is its ecs.instance-type attribute.
	InstanceType string
	// Attributes are its custom attributes, which memberOf constraints
	// and spread strategies can select on.
	Attributes map[string]string
	CPUs       int
	MemoryMiB  int64
}

// LocalHost describes this machine, for when the Docker Engine cannot say.
func LocalHost(instance string) Host {
	h := Host{Instance: instance, Address: "127.0.0.1", CPUs: goruntime.NumCPU()}
	meminfo, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(meminfo), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			h.MemoryMiB = kb / 1024
		}
	}
	return h
}

// reservedPorts are the host ports the ECS agent reserves on every instance.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerInstance.html
var reservedPorts = []string{"22", "2375", "2376", "51678", "51679"}

// digest is a stable hex digest of the host's identity, n digits long.
func (h Host) digest(n int) string {
	sum := sha256.Sum256([]byte("berth host\x00" + h.Instance + "\x00" + h.Name))
	return hex.EncodeToString(sum[:])[:n]
}

// ec2InstanceID is the host's stable EC2-style instance id.
func (h Host) ec2InstanceID() string {
	if h.Name == "" {
		return "i-0" + (h.Instance + strings.Repeat("0", 16))[:16]
	}
	return "i-0" + h.digest(16)
}

// containerInstanceID is the id of the host's container instance in
// every cluster.
func (h Host) containerInstanceID() string {
	if h.Name == "" {
		return (h.Instance + h.Instance + strings.Repeat("0", 32))[:32]
	}
	return h.digest(32)
}

// zone is the host's availability zone in region.
func (h Host) zone(region string) string {
	if h.Zone == "" {
		return region + "a"
	}
	return region + h.Zone
}

// attributes are the host instance's built-in attributes and its own.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html#attributes
func (h Host) attributes(region string) []types.Attribute {
	arch := goruntime.GOARCH
	if arch == "amd64" {
		arch = "x86_64"
	}
	attr := func(name, value string) types.Attribute {
		return types.Attribute{Name: aws.String(name), Value: aws.String(value)}
	}
	out := []types.Attribute{
		attr("ecs.os-type", "linux"),
		attr("ecs.os-family", "LINUX"),
		attr("ecs.cpu-architecture", arch),
		attr("ecs.availability-zone", h.zone(region)),
	}
	if h.InstanceType != "" {
		out = append(out, attr("ecs.instance-type", h.InstanceType))
	}
	for _, name := range slices.Sorted(maps.Keys(h.Attributes)) {
		out = append(out, attr(name, h.Attributes[name]))
	}
	return out
}

// fleet is the hosts berth runs tasks on, the local engine first, and
// what their agents last said of their engines.
type fleet struct {
	hosts []Host
	// dropped are the hosts an earlier run had that this one has not
	// (its --engine left out): their instances stay, disconnected, and
	// no agent touches their tasks until they join again.
	dropped []Host
	mu      sync.Mutex
	lost    map[string]bool // EC2 instance ids of hosts whose engine does not answer
	sizes   map[string]size // by host name: CPUs and memory, as their engines said
}

// size is a host's CPUs and memory in MiB.
type size struct {
	cpus   int
	memory int64
}

// newFleet returns the fleet of hosts; until its agent has reached it, a
// host whose size is not given (one of --engine) is lost.
func newFleet(hosts []Host) *fleet {
	f := &fleet{hosts: hosts, lost: map[string]bool{}, sizes: map[string]size{}}
	for _, h := range hosts {
		if h.CPUs == 0 {
			f.lost[h.ec2InstanceID()] = true
		}
	}
	return f
}

// sized returns h with the size its engine last said, if it said one.
func (f *fleet) sized(h Host) Host {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sz, ok := f.sizes[h.Name]; ok {
		h.CPUs, h.MemoryMiB = sz.cpus, sz.memory
	}
	return h
}

// setSize records the CPUs and memory (MiB) that host h's engine reports.
func (f *fleet) setSize(h Host, cpus int, memoryMiB int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sizes[h.Name] = size{cpus, memoryMiB}
}

// host returns the host of a container instance ARN, if it is one.
func (f *fleet) host(containerInstanceArn string) (Host, bool) {
	id := containerInstanceArn[strings.LastIndex(containerInstanceArn, "/")+1:]
	for _, h := range slices.Concat(f.hosts, f.dropped) {
		if h.containerInstanceID() == id {
			return h, true
		}
	}
	return Host{}, false
}

// connected reports whether the agent of EC2 instance id reaches its
// engine (an instance that is no host's counts as connected).
func (f *fleet) connected(ec2InstanceID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.lost[ec2InstanceID]
}

// setConnected records whether host h's engine answers and reports
// whether that changed.
func (f *fleet) setConnected(h Host, up bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := h.ec2InstanceID()
	if f.lost[id] == !up {
		return false
	}
	if up {
		delete(f.lost, id)
	} else {
		f.lost[id] = true
	}
	return true
}

// live overlays what the agents know on a stored container instance: its
// agent is connected only while its host's engine answers.
func (f *fleet) live(ci *types.ContainerInstance) {
	if h, ok := f.host(aws.ToString(ci.ContainerInstanceArn)); ok && ci.AgentConnected && !f.connected(h.ec2InstanceID()) {
		ci.AgentConnected = false
	}
}

// InstanceAddress returns the address at which an EC2 instance id (the
// instance targets of a host's tasks) is reached, or "" when it is no
// host's.
func (b *Backend) InstanceAddress(instanceID string) string {
	for _, h := range b.fleet.hosts {
		if instanceID == h.ec2InstanceID() {
			return h.Address
		}
	}
	return ""
}

// InstanceTaskAddress returns the address at which tasks reach an EC2
// instance id's host and its host ports ("" when it is no host's).
func (b *Backend) InstanceTaskAddress(instanceID string) string {
	for _, h := range b.fleet.hosts {
		if instanceID == h.ec2InstanceID() {
			return cmp.Or(h.TaskAddress, h.Address)
		}
	}
	return ""
}

// HostInstances returns the fleet's hosts as EC2 instances of scope s:
// their ids, types, private addresses and zones. The local engine alone
// is none, as it is a cluster's instance only once it runs an EC2 task.
func (b *Backend) HostInstances(s backend.Scope) []ec2types.Instance {
	if len(b.fleet.hosts) < 2 {
		return nil
	}
	var out []ec2types.Instance
	for _, h := range b.fleet.hosts {
		i := ec2types.Instance{
			InstanceId:       aws.String(h.ec2InstanceID()),
			PrivateIpAddress: aws.String(h.Address),
			Placement:        &ec2types.Placement{AvailabilityZone: aws.String(h.zone(s.Region))},
			Tags:             []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("berth host " + cmp.Or(h.Name, "local"))}},
		}
		if h.InstanceType != "" {
			i.InstanceType = ec2types.InstanceType(h.InstanceType)
		}
		out = append(out, i)
	}
	return out
}

// hostInstance returns host h's container instance in cluster c,
// registering it on first use, and again once it was deregistered (its
// cluster deleted and made anew, or DeregisterContainerInstance called),
// as an ECS agent registers its instance again when it starts.
func (b *Backend) hostInstance(tx *sqlite.Tx, s scope, c types.Cluster, h Host) (types.ContainerInstance, error) {
	arn := s.arn("container-instance/" + *c.ClusterName + "/" + h.containerInstanceID())
	var ci types.ContainerInstance
	err := tx.Get(s.Key(kindContainerInstance, arn), &ci)
	if err == nil && aws.ToString(ci.Status) == "INACTIVE" {
		err = sqlite.ErrNotFound
	}
	h = b.fleet.sized(h)
	resources := []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: int32(h.CPUs * 1024)},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: int32(h.MemoryMiB)},
		{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: reservedPorts},
		{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
	}
	if err == nil {
		same := len(ci.RegisteredResources) >= 2 && slices.EqualFunc(ci.RegisteredResources[:2], resources[:2], func(a, b types.Resource) bool {
			return aws.ToString(a.Name) == aws.ToString(b.Name) && a.IntegerValue == b.IntegerValue
		})
		if h.CPUs == 0 || same {
			return ci, nil
		}
		// The engine says another size than was registered (its machine
		// was resized, or it had not answered yet): registered anew, as
		// an agent does when it starts.
		ci.RegisteredResources, ci.RemainingResources = resources, resources
		ci.Version++
		return ci, tx.Put(s.Row(kindContainerInstance, arn, *c.ClusterArn, *ci.Ec2InstanceId), ci)
	}
	if !errors.Is(err, sqlite.ErrNotFound) {
		return ci, err
	}
	ci = types.ContainerInstance{
		ContainerInstanceArn: aws.String(arn),
		Ec2InstanceId:        aws.String(h.ec2InstanceID()),
		Version:              1,
		Status:               aws.String("ACTIVE"),
		AgentConnected:       true,
		RegisteredAt:         b.now(),
		RegisteredResources:  resources,
		RemainingResources:   resources,
		Attachments:          []types.Attachment{},
		Attributes:           h.attributes(s.Region),
		VersionInfo:          &types.VersionInfo{AgentVersion: aws.String("berth"), DockerVersion: aws.String("DockerVersion: " + cmp.Or(h.Name, "local"))},
	}
	return ci, tx.Put(s.Row(kindContainerInstance, arn, *c.ClusterArn, *ci.Ec2InstanceId), ci)
}

// isHost reports whether a container instance is one of the fleet's
// hosts', which berth registered: by its ARN, as a client may register
// an instance of its own with a host's EC2 instance id.
func (f *fleet) isHost(containerInstanceArn string) bool {
	_, ok := f.host(containerInstanceArn)
	return ok
}

// kindFleetHost records, by name, the hosts of the fleet ("" for the
// local engine), so that a later run knows the ones it dropped.
const kindFleetHost = "ecs/fleet-host"

// JoinFleet records the fleet's hosts and learns those an earlier run
// had that this one has not: their instances show their agents
// disconnected and take no task, and their tasks are left as they are,
// their containers too, until the host joins again. Call it before the
// agents run.
func (b *Backend) JoinFleet(ctx context.Context) error {
	f := b.fleet
	if len(f.hosts) == 0 {
		return nil
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		known, err := sqlite.ScanAll[struct{}](tx, kindFleetHost, "")
		if err != nil {
			return err
		}
		for _, k := range known {
			if slices.ContainsFunc(f.hosts, func(h Host) bool { return h.Name == k.Key.ID }) {
				continue
			}
			h := Host{Instance: f.hosts[0].Instance, Name: k.Key.ID}
			f.dropped = append(f.dropped, h)
			f.lost[h.ec2InstanceID()] = true
		}
		for _, h := range f.hosts {
			if err := tx.Put(sqlite.Row{Key: sqlite.Key{Kind: kindFleetHost, ID: h.Name}}, struct{}{}); err != nil {
				return err
			}
		}
		return nil
	})
}

// resized registers host h's instances anew with the size its engine
// said, in every cluster that it joined before its engine answered (with
// no CPU and no memory), as an ECS agent registers its instance's real
// resources when it starts.
func (b *Backend) resized(ctx context.Context, h Host) error {
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		instances, err := sqlite.ScanAll[types.ContainerInstance](tx, kindContainerInstance, h.ec2InstanceID())
		if err != nil {
			return err
		}
		for _, ci := range instances {
			// A client's instance with the host's EC2 id is not its.
			if aws.ToString(ci.Value.Status) == "INACTIVE" || !b.fleet.isHost(aws.ToString(ci.Value.ContainerInstanceArn)) {
				continue
			}
			s := scope{backend.Scope{Account: ci.Key.Account, Region: ci.Key.Region}}
			// container-instance/<cluster>/<id>
			path := strings.Split(aws.ToString(ci.Value.ContainerInstanceArn), "/")
			var c types.Cluster
			if err := tx.Get(s.Key(kindCluster, s.arn("cluster/"+path[len(path)-2])), &c); errors.Is(err, sqlite.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if _, err := b.hostInstance(tx, s, c, h); err != nil {
				return err
			}
		}
		return nil
	})
}
