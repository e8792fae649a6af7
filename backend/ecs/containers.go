package ecs

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"berth/backend/runtime"
)

// ECS agent defaults for what a task definition leaves unset.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
const (
	defaultStopTimeout  = 30 * time.Second // ECS_CONTAINER_STOP_TIMEOUT
	defaultStartTimeout = 3 * time.Minute  // ECS_CONTAINER_START_TIMEOUT
	minCPUShares        = 2                // the kernel's minimum; the agent's for cpu 0
)

// plannedContainer is one container of a task as Docker will run it.
type plannedContainer struct {
	name         string // the name in the task definition
	spec         runtime.Spec
	essential    bool
	dependsOn    []types.ContainerDependency
	startTimeout time.Duration
	stopTimeout  time.Duration
	logs         *awslogs // nil unless berth ships its output to CloudWatch Logs
	registryAuth string   // X-Registry-Auth from repositoryCredentials, if any
}

// taskLabels are the labels of every container of task t: berth's, and
// those the ECS agent puts on task containers.
func taskLabels(instance string, k taskRef, td types.TaskDefinition) map[string]string {
	return map[string]string{
		"com.amazonaws.ecs.cluster":                 k.clusterArn,
		"com.amazonaws.ecs.task-arn":                k.arn,
		"com.amazonaws.ecs.task-definition-family":  aws.ToString(td.Family),
		"com.amazonaws.ecs.task-definition-version": strconv.Itoa(int(td.Revision)),
		runtime.LabelInstance:                       instance,
		runtime.LabelAccount:                        k.Account,
		runtime.LabelRegion:                         k.Region,
		runtime.LabelCluster:                        k.cluster,
		runtime.LabelTask:                           k.arn,
		runtime.LabelTaskDefinition:                 aws.ToString(td.Family) + ":" + strconv.Itoa(int(td.Revision)),
	}
}

// dockerName is a container's Docker name, as the ECS agent names them:
// ecs-family-revision-name-taskid.
func dockerName(td types.TaskDefinition, containerName, taskID string) string {
	return fmt.Sprintf("ecs-%s-%d-%s-%s", aws.ToString(td.Family), td.Revision, containerName, taskID)
}

// planTask maps a task's definition and overrides onto Docker containers,
// field by field as the ECS agent does, in creation order: a container
// comes after those it links to, takes volumes from, or depends on.
// netName is the berth bridge network of awsvpc tasks.
func planTask(k taskRef, t types.Task, td types.TaskDefinition, instance, netName string) ([]plannedContainer, error) {
	defs, err := creationOrder(td.ContainerDefinitions)
	if err != nil {
		return nil, err
	}
	id := taskID(k.arn)
	labels := taskLabels(instance, k, td)
	var out []plannedContainer
	for i, cd := range defs {
		name := aws.ToString(cd.Name)
		cd = applyOverride(cd, t.Overrides)
		cfg := &container.Config{
			Image:       aws.ToString(cd.Image),
			Entrypoint:  cd.EntryPoint,
			Cmd:         cd.Command,
			Env:         environment(cd.Environment),
			WorkingDir:  aws.ToString(cd.WorkingDirectory),
			User:        aws.ToString(cd.User),
			Hostname:    aws.ToString(cd.Hostname),
			Labels:      map[string]string{},
			Tty:         aws.ToBool(cd.PseudoTerminal),
			OpenStdin:   aws.ToBool(cd.Interactive),
			Healthcheck: healthcheck(cd.HealthCheck),
		}
		for k, v := range cd.DockerLabels {
			cfg.Labels[k] = v
		}
		for k, v := range labels {
			cfg.Labels[k] = v
		}
		cfg.Labels[runtime.LabelContainer] = name
		cfg.Labels["com.amazonaws.ecs.container-name"] = name
		hc := &container.HostConfig{
			Privileged:     aws.ToBool(cd.Privileged),
			ReadonlyRootfs: aws.ToBool(cd.ReadonlyRootFilesystem),
			Resources: container.Resources{
				CPUShares:         int64(max(cd.Cpu, minCPUShares)),
				Memory:            int64(aws.ToInt32(cd.Memory)) << 20,
				MemoryReservation: int64(aws.ToInt32(cd.MemoryReservation)) << 20,
			},
		}
		for _, u := range cd.Ulimits {
			hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: string(u.Name), Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
		}
		if lp := cd.LinuxParameters; lp != nil {
			if lp.Capabilities != nil {
				hc.CapAdd, hc.CapDrop = lp.Capabilities.Add, lp.Capabilities.Drop
			}
			hc.Init = lp.InitProcessEnabled
			if lp.SharedMemorySize != nil {
				hc.ShmSize = int64(*lp.SharedMemorySize) << 20
			}
			for _, fs := range lp.Tmpfs {
				if hc.Tmpfs == nil {
					hc.Tmpfs = map[string]string{}
				}
				hc.Tmpfs[aws.ToString(fs.ContainerPath)] = strings.Join(append([]string{"size=" + strconv.Itoa(int(fs.Size)) + "m"}, fs.MountOptions...), ",")
			}
		}
		if err := mounts(hc, cd, td, id, labels); err != nil {
			return nil, err
		}
		for _, vf := range cd.VolumesFrom {
			ref := dockerName(td, aws.ToString(vf.SourceContainer), id)
			if aws.ToBool(vf.ReadOnly) {
				ref += ":ro"
			}
			hc.VolumesFrom = append(hc.VolumesFrom, ref)
		}
		var networking *network.NetworkingConfig
		switch td.NetworkMode {
		case types.NetworkModeHost:
			hc.NetworkMode = "host"
		case types.NetworkModeNone:
			hc.NetworkMode = "none"
		case types.NetworkModeAwsvpc:
			// The task's containers share one network namespace, as they
			// share one ENI in AWS: the first owns it, the others join it.
			if i == 0 {
				hc.NetworkMode = container.NetworkMode(netName)
				networking = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {}}}
			} else {
				hc.NetworkMode = container.NetworkMode("container:" + dockerName(td, aws.ToString(defs[0].Name), id))
				cfg.Hostname = ""
			}
		default: // bridge
			hc.NetworkMode = "bridge"
			for _, l := range cd.Links {
				target, alias, _ := strings.Cut(l, ":")
				if alias == "" {
					alias = target
				}
				hc.Links = append(hc.Links, dockerName(td, target, id)+":"+alias)
			}
		}
		if !hc.NetworkMode.IsContainer() {
			for _, h := range cd.ExtraHosts {
				hc.ExtraHosts = append(hc.ExtraHosts, aws.ToString(h.Hostname)+":"+aws.ToString(h.IpAddress))
			}
			for _, s := range cd.DnsServers {
				addr, err := netip.ParseAddr(s)
				if err != nil {
					return nil, fmt.Errorf("container %s: dnsServers: %w", name, err)
				}
				hc.DNS = append(hc.DNS, addr)
			}
			hc.DNSSearch = cd.DnsSearchDomains
		}
		if err := portBindings(cfg, hc, cd, td.NetworkMode); err != nil {
			return nil, err
		}
		docker := dockerName(td, name, id)
		pc := plannedContainer{
			name:         name,
			spec:         runtime.Spec{Name: docker, Config: cfg, HostConfig: hc, Networking: networking},
			essential:    cd.Essential == nil || *cd.Essential,
			dependsOn:    cd.DependsOn,
			startTimeout: defaultStartTimeout,
			stopTimeout:  defaultStopTimeout,
			logs:         logsOf(k, td, cd, docker),
		}
		if cd.StartTimeout != nil {
			pc.startTimeout = time.Duration(*cd.StartTimeout) * time.Second
		}
		if cd.StopTimeout != nil {
			pc.stopTimeout = time.Duration(*cd.StopTimeout) * time.Second
			cfg.StopTimeout = aws.Int(int(*cd.StopTimeout))
		}
		out = append(out, pc)
	}
	return out, nil
}

// creationOrder sorts container definitions so that each comes after the
// containers it links to, takes volumes from, or depends on, keeping the
// task definition's order otherwise.
func creationOrder(defs []types.ContainerDefinition) ([]types.ContainerDefinition, error) {
	needs := func(cd types.ContainerDefinition) []string {
		var out []string
		for _, l := range cd.Links {
			target, _, _ := strings.Cut(l, ":")
			out = append(out, target)
		}
		for _, vf := range cd.VolumesFrom {
			out = append(out, aws.ToString(vf.SourceContainer))
		}
		for _, d := range cd.DependsOn {
			out = append(out, aws.ToString(d.ContainerName))
		}
		return out
	}
	var order []types.ContainerDefinition
	placed := map[string]bool{}
	for len(order) < len(defs) {
		progress := false
		for _, cd := range defs {
			name := aws.ToString(cd.Name)
			if placed[name] {
				continue
			}
			ready := true
			for _, n := range needs(cd) {
				if !slices.ContainsFunc(defs, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == n }) {
					return nil, fmt.Errorf("container %s refers to container %s, which is not in the task definition", name, n)
				}
				ready = ready && placed[n]
			}
			if ready {
				order, placed[name], progress = append(order, cd), true, true
			}
		}
		if !progress {
			return nil, fmt.Errorf("the containers' links, volumesFrom and dependsOn form a cycle")
		}
	}
	return order, nil
}

// applyOverride applies the task's container override for cd, if any.
func applyOverride(cd types.ContainerDefinition, o *types.TaskOverride) types.ContainerDefinition {
	if o == nil {
		return cd
	}
	for _, co := range o.ContainerOverrides {
		if aws.ToString(co.Name) != aws.ToString(cd.Name) {
			continue
		}
		if co.Command != nil {
			cd.Command = co.Command
		}
		if co.Cpu != nil {
			cd.Cpu = *co.Cpu
		}
		if co.Memory != nil {
			cd.Memory = co.Memory
		}
		if co.MemoryReservation != nil {
			cd.MemoryReservation = co.MemoryReservation
		}
		// Override variables replace those of the same name.
		env := slices.Clone(cd.Environment)
		for _, kv := range co.Environment {
			env = slices.DeleteFunc(env, func(e types.KeyValuePair) bool { return aws.ToString(e.Name) == aws.ToString(kv.Name) })
			env = append(env, kv)
		}
		cd.Environment = env
		cd.EnvironmentFiles = append(slices.Clone(cd.EnvironmentFiles), co.EnvironmentFiles...)
	}
	return cd
}

func environment(kvs []types.KeyValuePair) []string {
	var env []string
	for _, kv := range kvs {
		env = append(env, aws.ToString(kv.Name)+"="+aws.ToString(kv.Value))
	}
	return env
}

// healthcheck maps an ECS health check onto Docker's, with ECS's defaults:
// interval 30 s, timeout 5 s, 3 retries, no start period.
func healthcheck(h *types.HealthCheck) *container.HealthConfig {
	if h == nil || len(h.Command) == 0 {
		return nil
	}
	secs := func(v *int32, def int32) time.Duration {
		if v == nil {
			return time.Duration(def) * time.Second
		}
		return time.Duration(*v) * time.Second
	}
	retries := 3
	if h.Retries != nil {
		retries = int(*h.Retries)
	}
	return &container.HealthConfig{
		Test:        h.Command,
		Interval:    secs(h.Interval, 30),
		Timeout:     secs(h.Timeout, 5),
		Retries:     retries,
		StartPeriod: secs(h.StartPeriod, 0),
	}
}

// mounts maps mountPoints onto bind mounts (host volumes) and Docker
// volumes (docker volume configurations and volumes with no host path).
// A task-scoped Docker volume is the task's own; a shared one is named as
// the task definition names it.
func mounts(hc *container.HostConfig, cd types.ContainerDefinition, td types.TaskDefinition, taskID string, labels map[string]string) error {
	for _, mp := range cd.MountPoints {
		name := aws.ToString(mp.SourceVolume)
		i := slices.IndexFunc(td.Volumes, func(v types.Volume) bool { return aws.ToString(v.Name) == name })
		if i < 0 {
			return fmt.Errorf("container %s mounts volume %s, which is not in the task definition", aws.ToString(cd.Name), name)
		}
		v := td.Volumes[i]
		m := mount.Mount{Target: aws.ToString(mp.ContainerPath), ReadOnly: aws.ToBool(mp.ReadOnly)}
		switch {
		case v.Host != nil && v.Host.SourcePath != nil:
			m.Type, m.Source = mount.TypeBind, *v.Host.SourcePath
		case v.DockerVolumeConfiguration != nil:
			dv := v.DockerVolumeConfiguration
			m.Type, m.Source = mount.TypeVolume, "ecs-"+taskID+"-"+name
			vl := map[string]string{}
			for k, val := range dv.Labels {
				vl[k] = val
			}
			for k, val := range labels {
				vl[k] = val
			}
			if dv.Scope == types.ScopeShared {
				m.Source = name
			} else {
				vl[runtime.LabelTaskVolume] = "true" // removed when the task stops
			}
			m.VolumeOptions = &mount.VolumeOptions{Labels: vl}
			if dv.Driver != nil {
				m.VolumeOptions.DriverConfig = &mount.Driver{Name: *dv.Driver, Options: dv.DriverOpts}
			}
		case v.EfsVolumeConfiguration != nil || v.FsxWindowsFileServerVolumeConfiguration != nil || v.S3filesVolumeConfiguration != nil:
			return fmt.Errorf("volume %s needs a file system berth does not have", name)
		default: // an empty host: a volume of the task's own
			m.Type, m.Source = mount.TypeVolume, "ecs-"+taskID+"-"+name
			m.VolumeOptions = &mount.VolumeOptions{Labels: maps.Clone(labels)}
			m.VolumeOptions.Labels[runtime.LabelTaskVolume] = "true"
		}
		hc.Mounts = append(hc.Mounts, m)
	}
	return nil
}

// portBindings exposes each port mapping; in bridge mode it publishes it
// on its host port, or on one Docker chooses when hostPort is 0 or unset.
// A container that joins another's network namespace (the second and
// later containers of an awsvpc task) exposes nothing itself: its ports
// are the namespace's, and Docker refuses exposed ports on it.
func portBindings(cfg *container.Config, hc *container.HostConfig, cd types.ContainerDefinition, mode types.NetworkMode) error {
	if hc.NetworkMode.IsContainer() {
		return nil
	}
	for _, pm := range cd.PortMappings {
		if pm.ContainerPort == nil {
			continue // a port range: not mapped
		}
		p, err := network.ParsePort(fmt.Sprintf("%d/%s", *pm.ContainerPort, protocol(pm.Protocol)))
		if err != nil {
			return err
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = network.PortSet{}
		}
		cfg.ExposedPorts[p] = struct{}{}
		if mode != types.NetworkModeBridge && mode != "" {
			continue
		}
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		host := ""
		if h := aws.ToInt32(pm.HostPort); h != 0 {
			host = strconv.Itoa(int(h))
		}
		hc.PortBindings[p] = append(hc.PortBindings[p], network.PortBinding{HostIP: netip.IPv4Unspecified(), HostPort: host})
	}
	return nil
}

func protocol(p types.TransportProtocol) string {
	if p == "" {
		return "tcp"
	}
	return string(p)
}
