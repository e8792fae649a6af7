package ecs

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"berth/backend"
	"berth/backend/runtime"
)

func TestPlanTask(t *testing.T) {
	ref := taskRef{Scope: backend.Scope{Account: "1", Region: "r"}, arn: "arn:aws:ecs:r:1:task/c/abc", cluster: "c"}
	td := types.TaskDefinition{
		Family: aws.String("web"), Revision: 3, NetworkMode: types.NetworkModeBridge,
		Volumes: []types.Volume{
			{Name: aws.String("data"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/srv/data")}},
			{Name: aws.String("cache"), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeTask}},
		},
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name: aws.String("app"), Image: aws.String("img"), Cpu: 256, Memory: aws.Int32(128), MemoryReservation: aws.Int32(64),
				Essential: aws.Bool(true), Command: []string{"serve"}, EntryPoint: []string{"/app"},
				Environment:  []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("1")}},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp}, {ContainerPort: aws.Int32(53), HostPort: aws.Int32(5353), Protocol: types.TransportProtocolUdp}},
				Links:        []string{"db:database"},
				DependsOn:    []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionHealthy}},
				HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "/app", "check"}},
				StopTimeout:  aws.Int32(5),
				Ulimits:      []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 1024, HardLimit: 2048}},
				MountPoints:  []types.MountPoint{{SourceVolume: aws.String("data"), ContainerPath: aws.String("/data"), ReadOnly: aws.Bool(true)}, {SourceVolume: aws.String("cache"), ContainerPath: aws.String("/cache")}},
				LinuxParameters: &types.LinuxParameters{
					Capabilities: &types.KernelCapabilities{Add: []string{"NET_ADMIN"}}, InitProcessEnabled: aws.Bool(true),
				},
				DockerLabels: map[string]string{"team": "a", runtime.LabelTask: "forged"},
				ExtraHosts:   []types.HostEntry{{Hostname: aws.String("db.local"), IpAddress: aws.String("10.0.0.2")}},
				DnsServers:   []string{"10.0.0.53"},
				User:         aws.String("1000"), WorkingDirectory: aws.String("/srv"), ReadonlyRootFilesystem: aws.Bool(true),
			},
			{Name: aws.String("db"), Image: aws.String("db"), Essential: aws.Bool(false)},
		},
	}
	task := types.Task{Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{
		{Name: aws.String("app"), Environment: []types.KeyValuePair{{Name: aws.String("A"), Value: aws.String("2")}}, Command: []string{"other"}},
	}}}
	plan, err := planTask(ref, task, td, "inst", "")
	if err != nil {
		t.Fatal(err)
	}
	// db comes first: app links to it and depends on it.
	if len(plan) != 2 || plan[0].name != "db" || plan[1].name != "app" {
		t.Fatalf("order = %v", []string{plan[0].name, plan[1].name})
	}
	app := plan[1]
	cfg, hc := app.spec.Config, app.spec.HostConfig
	if app.spec.Name != "ecs-web-3-app-abc" || !app.essential || app.stopTimeout != 5*time.Second || app.startTimeout != defaultStartTimeout {
		t.Errorf("planned = %+v", app)
	}
	if !slices.Equal(cfg.Cmd, []string{"other"}) || !slices.Equal(cfg.Entrypoint, []string{"/app"}) || !slices.Equal(cfg.Env, []string{"A=2"}) {
		t.Errorf("command/env = %v %v %v", cfg.Entrypoint, cfg.Cmd, cfg.Env)
	}
	if cfg.Labels["team"] != "a" || cfg.Labels[runtime.LabelTask] != ref.arn || cfg.Labels[runtime.LabelInstance] != "inst" ||
		cfg.Labels[runtime.LabelContainer] != "app" || cfg.Labels[runtime.LabelTaskDefinition] != "web:3" {
		t.Errorf("labels = %v", cfg.Labels)
	}
	if h := cfg.Healthcheck; h == nil || h.Interval != 30*time.Second || h.Timeout != 5*time.Second || h.Retries != 3 {
		t.Errorf("healthcheck = %+v", h)
	}
	if hc.CPUShares != 256 || hc.Memory != 128<<20 || hc.MemoryReservation != 64<<20 || !hc.ReadonlyRootfs || cfg.User != "1000" || cfg.WorkingDir != "/srv" {
		t.Errorf("resources = %+v", hc.Resources)
	}
	web, dns := network.MustParsePort("8080/tcp"), network.MustParsePort("53/udp")
	if b := hc.PortBindings[web]; len(b) != 1 || b[0].HostPort != "" {
		t.Errorf("dynamic port binding = %v", b)
	}
	if b := hc.PortBindings[dns]; len(b) != 1 || b[0].HostPort != "5353" {
		t.Errorf("static port binding = %v", b)
	}
	if !slices.Equal(hc.Links, []string{"ecs-web-3-db-abc:database"}) || !slices.Equal(hc.ExtraHosts, []string{"db.local:10.0.0.2"}) ||
		len(hc.DNS) != 1 || !slices.Equal(hc.CapAdd, []string{"NET_ADMIN"}) || hc.Init == nil || !*hc.Init || len(hc.Ulimits) != 1 {
		t.Errorf("host config = %+v", hc)
	}
	if len(hc.Mounts) != 2 || hc.Mounts[0].Type != mount.TypeBind || hc.Mounts[0].Source != "/srv/data" || !hc.Mounts[0].ReadOnly ||
		hc.Mounts[1].Type != mount.TypeVolume || hc.Mounts[1].Source != "ecs-abc-cache" || hc.Mounts[1].VolumeOptions.Labels[runtime.LabelInstance] != "inst" {
		t.Errorf("mounts = %+v", hc.Mounts)
	}

	// awsvpc: the first container owns the network namespace, the others join it.
	td.NetworkMode, td.ContainerDefinitions[0].Links = types.NetworkModeAwsvpc, nil
	td.ContainerDefinitions[1].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(2020)}} // a sidecar's port
	plan, err = planTask(ref, task, td, "inst", "berth-net")
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].spec.HostConfig.NetworkMode != "berth-net" || plan[0].spec.Networking == nil ||
		plan[1].spec.HostConfig.NetworkMode != "container:ecs-web-3-db-abc" || len(plan[1].spec.HostConfig.PortBindings) != 0 ||
		len(plan[1].spec.Config.ExposedPorts) != 0 {
		t.Errorf("awsvpc network modes = %v %v", plan[0].spec.HostConfig.NetworkMode, plan[1].spec.HostConfig.NetworkMode)
	}

	// A cycle cannot be planned.
	td.ContainerDefinitions[1].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("app"), Condition: types.ContainerConditionStart}}
	if _, err := planTask(ref, task, td, "inst", ""); err == nil {
		t.Error("planned a dependency cycle")
	}
}
