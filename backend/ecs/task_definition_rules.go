package ecs

import (
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Rules of RegisterTaskDefinition beyond the shape of each member: what
// Fargate supports, how containers fit in the task, health checks and
// ephemeral storage.

// fargateLogDrivers are the log drivers Fargate tasks can use.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LogConfiguration.html
var fargateLogDrivers = []types.LogDriver{types.LogDriverAwslogs, types.LogDriverSplunk, types.LogDriverAwsfirelens}

// fargateFeatures refuses what a Fargate task cannot have beyond its size
// and network mode: a host pid or ipc mode, a volume with a host source
// path or a Docker volume configuration, a privileged container or one
// with host devices, a log driver other than awslogs, splunk or
// awsfirelens. A task definition with one of them is not compatible with
// FARGATE, and one that requires it is refused. Where ECS's words
// are on record they are quoted (the URLs beside them); the others are
// berth's, from the API reference's "not supported" notes.
func fargateFeatures(in *ecsapi.RegisterTaskDefinitionInput) error {
	// Fargate shares no process or IPC namespace with the host.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_definition_pidmode
	if in.PidMode == types.PidModeHost {
		return errClient("The 'host' pidMode is not supported by the Fargate launch type.")
	}
	if in.IpcMode != "" {
		return errClient("ipcMode is not supported by the Fargate launch type.")
	}
	for _, v := range in.Volumes {
		// https://github.com/cloudposse/terraform-aws-ecs-alb-service-task/issues/174
		if v.Host != nil && v.Host.SourcePath != nil {
			return errClient("Fargate compatible task definitions do not support sourcePath")
		}
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Volume.html#ECS-Type-Volume-dockerVolumeConfiguration
		if v.DockerVolumeConfiguration != nil {
			return errClient("Fargate compatible task definitions do not support dockerVolumeConfiguration.")
		}
	}
	for _, c := range in.ContainerDefinitions {
		name := aws.ToString(c.Name)
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html#ECS-Type-ContainerDefinition-privileged
		if aws.ToBool(c.Privileged) {
			return errClient("Invalid 'privileged' setting for container '%s'. Privileged containers are not supported by the Fargate launch type.", name)
		}
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinuxParameters.html#ECS-Type-LinuxParameters-devices
		if c.LinuxParameters != nil && len(c.LinuxParameters.Devices) > 0 {
			return errClient("Invalid 'linuxParameters.devices' setting for container '%s'. Devices are not supported by the Fargate launch type.", name)
		}
		lc := c.LogConfiguration
		if lc == nil {
			continue
		}
		if !slices.Contains(fargateLogDrivers, lc.LogDriver) {
			return errClient("Invalid 'logConfiguration' setting for container '%s'. The Fargate launch type supports the awslogs, splunk and awsfirelens log drivers.", name)
		}
	}
	return nil
}

// fargateExecutionRole refuses a Fargate task definition whose awslogs
// log configuration has no execution role to write with, in ECS's words
// (a field report: https://github.com/virtual-kubelet/virtual-kubelet/issues/193).
// Unlike fargateFeatures, it does not take FARGATE out of a task
// definition's compatibilities.
func fargateExecutionRole(in *ecsapi.RegisterTaskDefinitionInput) error {
	if aws.ToString(in.ExecutionRoleArn) != "" {
		return nil
	}
	for _, c := range in.ContainerDefinitions {
		if c.LogConfiguration != nil && c.LogConfiguration.LogDriver == types.LogDriverAwslogs {
			return errClient("Fargate requires task definition to have execution role ARN to support log driver awslogs.")
		}
	}
	return nil
}

// validContainerSizes checks the containers against the task's size: no
// container's memory (or memory reservation) above the task's, and the
// containers' cpu units in all no more than the task's, in ECS's words
// (field reports: https://github.com/pulumi/pulumi-awsx/issues/188 and
// https://github.com/aws/aws-cdk/issues/1553; the memoryReservation
// message follows the memory one).
func validContainerSizes(containers []types.ContainerDefinition, cpu, memory *string) error {
	if memory != nil {
		task, _ := strconv.Atoi(*memory)
		for _, c := range containers {
			if c.Memory != nil && int(*c.Memory) > task {
				return errClient("The 'memory' setting for container '%s' is greater than for the task.", aws.ToString(c.Name))
			}
			if c.MemoryReservation != nil && int(*c.MemoryReservation) > task {
				return errClient("The 'memoryReservation' setting for container '%s' is greater than for the task.", aws.ToString(c.Name))
			}
		}
	}
	if cpu != nil {
		task, _ := strconv.Atoi(*cpu)
		sum := 0
		for _, c := range containers {
			sum += int(c.Cpu)
		}
		if sum > task {
			return errClient("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.")
		}
	}
	return nil
}

// validHealthCheck checks a container's health check against the ranges
// API_HealthCheck gives: a command, an interval of 5 to 300 seconds, a
// timeout of 2 to 60, 1 to 10 retries and a start period of 0 to 300.
// The command's first word is not checked: API_HealthCheck asks for CMD
// or CMD-SHELL, but ECS registers a command without either, as users
// report (https://github.com/aws/aws-cdk/issues/34389). The messages are
// berth's.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
func validHealthCheck(name string, hc *types.HealthCheck) error {
	if hc == nil {
		return nil
	}
	if len(hc.Command) == 0 {
		return errClient("Invalid 'healthCheck' setting for container '%s'. A command must be specified.", name)
	}
	for _, r := range []struct {
		what    string
		v       *int32
		lo, hi  int32
		seconds bool
	}{
		{"interval", hc.Interval, 5, 300, true},
		{"timeout", hc.Timeout, 2, 60, true},
		{"retries", hc.Retries, 1, 10, false},
		{"startPeriod", hc.StartPeriod, 0, 300, true},
	} {
		if r.v == nil || (*r.v >= r.lo && *r.v <= r.hi) {
			continue
		}
		unit := ""
		if r.seconds {
			unit = " seconds"
		}
		return errClient("Invalid 'healthCheck' setting for container '%s'. '%s' must be between %d and %d%s.", name, r.what, r.lo, r.hi, unit)
	}
	return nil
}

// validEphemeralStorage checks a task's ephemeral storage: 21 to 200 GiB,
// in berth's words.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EphemeralStorage.html
func validEphemeralStorage(es *types.EphemeralStorage) error {
	if es != nil && (es.SizeInGiB < 21 || es.SizeInGiB > 200) {
		return errClient("Invalid 'ephemeralStorage' setting. sizeInGiB must be between 21 and 200.")
	}
	return nil
}
